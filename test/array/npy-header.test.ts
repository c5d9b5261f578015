// The .npy header is a Python literal, parsed strictly (issue 11 item 8; issue 10: unsupported dtypes).
import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { exportNpy, importNpy, parseNpyHeader } from '../../src/array/index.ts'
import { parseNpyHeaderDict, parsePyLiteral } from '../../src/array/npy-header.ts'
import { BigArray, openDatabase } from '../../src/index.ts'
import { ram, tmpDir } from './helpers.ts'
import { npyBytes } from './npy-bytes.ts'

const dict = (shape: string, descr = "'<f8'", extra = '') =>
  `{'descr': ${descr}, 'fortran_order': False, 'shape': ${shape}, ${extra}}`

test('the parser reads what NumPy writes, and a string that looks like a key is just a string', () => {
  assert.deepEqual(parseNpyHeaderDict(dict('(2, 3)')), { descr: '<f8', fortranOrder: false, shape: [2, 3] })
  assert.deepEqual(parseNpyHeaderDict(dict('(7,)')).shape, [7])
  assert.deepEqual(parseNpyHeaderDict(dict('()')).shape, [])
  assert.deepEqual(parseNpyHeaderDict(`{"descr":"|u1","fortran_order":True,"shape":(1,2,)}`).shape, [1, 2])
  assert.deepEqual(parseNpyHeaderDict(dict('(10L, 3L)'), true).shape, [10, 3]) // Python 2, format 1.0/2.0
  const v = parsePyLiteral(`{'a': "'shape': (30,)", 'shape': (10, 3)}`)
  assert.ok(typeof v === 'object' && 'dict' in v)
  assert.deepEqual(v.dict.get('shape'), { tuple: [10, 3] })
  assert.equal(v.dict.get('a'), "'shape': (30,)")
})

test('the parser refuses what NumPy (or Python 3) refuses, saying why', () => {
  const refused: [string, RegExp][] = [
    [dict('(0x1e,)'), /not a decimal integer/],
    [dict('(,)'), /',' with no value/],
    [dict('(30,,)'), /',' with no value/],
    [dict('(-0, 30)'), /unexpected "-0/],
    [dict('(+3,)'), /unexpected "\+3/],
    [dict('(030,)'), /leading zero/],
    [dict('(3.0,)'), /not a decimal integer/],
    [dict('(1_0,)'), /not a decimal integer/],
    [dict('(30)'), /shape is not a tuple of integers/],
    [dict('(True,)'), /shape is not a tuple of integers/],
    [dict('(10L,)'), /not a decimal integer/], // only format 1.0/2.0 strip the L
    [dict('(99999999999999999999,)'), /too large/],
    [dict('(1, 2) # x'), /found "# x/],
    ["[('descr', '<f8')]", /not a dict but a list/],
    ["'a string'", /not a dict but a str/],
    ["{'descr': '<f8', 'fortran_order': False}", /has no 'shape'/],
    [dict('(1,)', "'<f8'", "'note': 'x', "), /unknown key 'note'/],
    [
      `{'note': "'shape': (30,)", 'descr': '<f8', 'fortran_order': False, 'shape': (10, 3)}`,
      /unknown key 'note'/,
    ],
    [dict('(1,)', "'<f8'", "'shape': (2,), "), /'shape' appears twice/],
    ["{'descr': '<f8', 'fortran_order': 0, 'shape': (1,)}", /fortran_order is a int/],
    ["{'descr': 3, 'fortran_order': False, 'shape': (1,)}", /descr is a int/],
    [`${dict('(1,)')} {}`, /after the dict/],
    ["{'descr': '<f8\\q', 'fortran_order': False, 'shape': (1,)}", /unsupported escape/],
    ["{'descr': '<f8", /not terminated/],
    [`${dict('(1,)')}\0`, /NUL/],
    ['{1: 2}', /key must be a str/],
  ]
  for (const [text, why] of refused) {
    assert.throws(
      () => parseNpyHeaderDict(text),
      (e: Error) => {
        assert.equal((e as { code?: string }).code, 'ECORRUPT', text)
        assert.match(e.message, /^not a valid \.npy file: /, text)
        assert.match(e.message, why, text)
        return true
      },
    )
  }
})

test('a format 2.0 file whose major byte says 1 is refused (its length field is misread)', () => {
  const v2 = npyBytes(dict('(2,)'), new Uint8Array(16), 2)
  assert.deepEqual(parseNpyHeader(v2).shape, [2])
  const lying = Buffer.from(v2)
  lying[6] = 1
  assert.throws(() => parseNpyHeader(lying), { code: 'ECORRUPT', message: /NUL/ })
  const v3 = npyBytes(dict('(2,)', "'<f8'", "'x': 'é'"), new Uint8Array(0), 3)
  assert.throws(() => parseNpyHeader(v3), { code: 'ECORRUPT', message: /unknown key 'x'/ })
  const badUtf8 = Buffer.from(npyBytes(dict('(2,)'), new Uint8Array(0), 3))
  badUtf8[30] = 0xff
  assert.throws(() => parseNpyHeader(badUtf8), { code: 'ECORRUPT', message: /not UTF-8/ })
  const long = Buffer.from(v2)
  long.writeUInt32LE(20000, 8)
  assert.throws(() => parseNpyHeader(long), { code: 'ECORRUPT', message: /limit of 10000/ })
})

test('a valid .npy with an unsupported dtype says which and what is supported', () => {
  const cases: [string, string][] = [
    ["'<c16'", "unsupported dtype '<c16' (complex); supported: int8 (i1), "],
    ["'|b1'", "unsupported dtype '|b1' (bool)"],
    ["'<U5'", "unsupported dtype '<U5' (unicode string)"],
    ["'|S3'", "unsupported dtype '|S3' (byte string)"],
    ["'|O'", "unsupported dtype '|O' (Python object)"],
    ["'<M8[ns]'", "unsupported dtype '<M8[ns]' (datetime)"],
    ["'<f16'", "unsupported dtype '<f16' (floating point of 16 bytes)"],
    ["[('a', '<i4'), ('b', '<f8')]", 'unsupported dtype with 2 fields (structured)'],
  ]
  for (const [descr, msg] of cases) {
    assert.throws(
      () => parseNpyHeader(npyBytes(dict('(1,)', descr))),
      (e: Error) => {
        assert.equal((e as { code?: string }).code, 'EINVAL', descr)
        assert.ok(e.message.startsWith(msg), `${descr}: ${e.message}`)
        assert.match(e.message, /float64 \(f8\)$/)
        return true
      },
    )
  }
  assert.throws(() => parseNpyHeader(npyBytes(dict('(1,)', "'<x9'"))), {
    code: 'ECORRUPT',
    message: /descr '<x9' is not a NumPy dtype string/,
  })
})

test('importNpy: the file holds exactly header + data; errors are typed, with the errno in cause', async (t) => {
  const dir = tmpDir(t)
  const d = await openDatabase(join(dir, 'n.bigfile'))
  const c = d.connect({ ram: ram() })
  const f = join(dir, 'f.npy')
  const data = new Uint8Array(new Float64Array([1, 2, 3]).buffer)
  writeFileSync(f, npyBytes(dict('(3,)'), data))
  assert.deepEqual((await importNpy(c, 'ok', f)).shape, [3])
  writeFileSync(f, Buffer.concat([npyBytes(dict('(3,)'), data), Buffer.from([0])]))
  await assert.rejects(importNpy(c, 'trailing', f), { code: 'ECORRUPT', message: /1 trailing bytes/ })
  writeFileSync(f, npyBytes(dict('(4,)'), data))
  await assert.rejects(importNpy(c, 'short', f), { code: 'ECORRUPT', message: /truncated/ })
  // 2^52 elements: more than any file holds (exit 1 from the command, not a usage error).
  writeFileSync(f, npyBytes(dict('(4503599627370496,)'), data))
  await assert.rejects(importNpy(c, 'huge', f), {
    code: 'ECORRUPT',
    message: /more bytes than a file can hold/,
  })
  writeFileSync(f, npyBytes(dict('(1048576, 1048576)', "'|u1'"), data))
  await assert.rejects(importNpy(c, 'big', f), { code: 'ECORRUPT', message: /truncated/ })
  // The forged header: not shape [30].
  writeFileSync(
    f,
    npyBytes(
      `{'note': "'shape': (30,)", 'descr': '<f8', 'fortran_order': False, 'shape': (10, 3)}`,
      new Uint8Array(240),
    ),
  )
  await assert.rejects(importNpy(c, 'forged', f), { code: 'ECORRUPT', message: /unknown key 'note'/ })
  const missing = join(dir, 'missing.npy')
  for (const [p, code, errno] of [
    [missing, 'ENOENT', 'ENOENT'],
    [dir, 'EINVAL', undefined],
  ] as const) {
    await assert.rejects(importNpy(c, 'x', p), (e: Error) => {
      assert.equal((e as { code?: string }).code, code)
      if (errno) assert.equal((e.cause as { code?: string }).code, errno)
      return true
    })
  }
  // exportNpy into a missing directory: NotFoundError naming it, ENOENT in cause, nothing created.
  const a = await BigArray.open(c, 'ok')
  await assert.rejects(exportNpy(a, join(dir, 'no', 'out.npy')), (e: Error) => {
    assert.equal((e as { code?: string }).code, 'ENOENT')
    assert.match(e.message, /directory .*no does not exist/)
    assert.equal((e.cause as { code?: string }).code, 'ENOENT')
    return true
  })
  // exportNpy onto a directory: EINVAL, nothing left.
  mkdirSync(join(dir, 'sub'))
  await assert.rejects(exportNpy(a, join(dir, 'sub')), { code: 'EINVAL', message: /is a directory/ })
  // overwrite: false and a file that appears while the export runs: kept, EEXIST, no partial file.
  const out = join(dir, 'race.npy')
  let planted = false
  await assert.rejects(
    exportNpy(a, out, {
      overwrite: false,
      onProgress: () => {
        if (!planted) writeFileSync(out, 'theirs')
        planted = true
      },
    }),
    { code: 'EEXIST' },
  )
  assert.ok(planted)
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith('race')),
    ['race.npy'],
  )
  await c.abort()
  await d.close()
})
