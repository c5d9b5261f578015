// import / export of .npy and raw files: an exported import is byte-identical to its source.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { bigfile, oneErrorLine, tempDir } from './helpers.ts'

const ok = (args: string[]) => {
  const r = bigfile(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r
}

/** A C-order little-endian .npy v1.0 file of float64 values. */
function npy(shape: number[], values: Float64Array): Buffer {
  let h = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  const pad = 64 - ((10 + h.length + 1) % 64)
  h = `${h}${' '.repeat(pad % 64)}\n`
  const head = Buffer.alloc(10)
  head.write('\x93NUMPY', 0, 'latin1')
  head[6] = 1
  head[7] = 0
  head.writeUInt16LE(h.length, 8)
  return Buffer.concat([head, Buffer.from(h, 'latin1'), Buffer.from(values.buffer)])
}

test('raw: import then export is byte-identical; the array reads back', () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  const src = join(t.dir, 'in.raw')
  const data = new Int32Array(300_000).map((_, i) => i * 7 - 1_000_000)
  writeFileSync(src, data)
  // A small RAM and block: the import commits many times on the way.
  const r = ok([
    'import',
    db,
    'x',
    src,
    '--dtype',
    'int32',
    '--shape',
    '1000,300',
    '--ram',
    '256KiB',
    '--blksize',
    '4KiB',
  ])
  assert.match(r.stdout, /imported x: int32 \[1000,300\] order C, 1\.1 MiB in [\d.]+ s \([\d.]+ MiB\/s\)/)
  assert.match(r.stderr, /^import x: 100% /m)
  const out = join(t.dir, 'out.raw')
  ok(['export', db, 'x', out, '--ram', '256KiB'])
  assert.ok(readFileSync(out).equals(readFileSync(src)))
  assert.match(bigfile(['info', db, 'x']).stdout, /^shape +1000,300$/m)
  // Without --shape: one dimension of the file's length.
  ok(['import', db, 'flat', src, '--dtype', 'uint16', '-q'])
  assert.match(bigfile(['info', db, 'flat']).stdout, /^shape +600000$/m)
})

test('npy: import then export is byte-identical', () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  const src = join(t.dir, 'in.npy')
  const values = new Float64Array(50_000).map((_, i) => Math.sin(i) * 1e6)
  writeFileSync(src, npy([250, 200], values))
  ok(['import', db, 'm', src, '-q'])
  assert.match(bigfile(['info', db, 'm']).stdout, /^dtype +float64$/m)
  const out = join(t.dir, 'out.npy')
  const r = ok(['export', db, 'm', out])
  assert.match(r.stdout, /exported m: float64 \[250,200\] to .*out\.npy/)
  assert.ok(readFileSync(out).equals(readFileSync(src)))
  // .npy to raw: the data bytes after the header.
  const raw = join(t.dir, 'out.bin')
  ok(['export', db, 'm', raw, '-q'])
  assert.ok(readFileSync(raw).equals(Buffer.from(values.buffer)))
})

test('import checks before it starts: shape against the file size, options for npy', () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  const src = join(t.dir, 'in.raw')
  writeFileSync(src, new Uint8Array(1001))
  let r = bigfile(['import', db, 'x', src, '--dtype', 'float64', '--shape', '10,10'])
  assert.equal(r.code, 2)
  assert.match(oneErrorLine(r), /800 bytes, the file has 1001/)
  r = bigfile(['import', db, 'x', src])
  assert.equal(r.code, 2)
  assert.match(oneErrorLine(r), /needs --dtype/)
  r = bigfile(['import', db, 'x', src, '--dtype', 'float64'])
  assert.equal(r.code, 2)
  assert.match(oneErrorLine(r), /not a whole number of float64/)
  const n = join(t.dir, 'x.npy')
  writeFileSync(n, npy([2], new Float64Array(2)))
  r = bigfile(['import', db, 'x', n, '--dtype', 'float64'])
  assert.equal(r.code, 2)
  oneErrorLine(r)
  writeFileSync(n, 'not an npy file at all, really not')
  r = bigfile(['import', db, 'x', n])
  assert.notEqual(r.code, 0)
  oneErrorLine(r)
  // Nothing was left behind by the failed imports.
  assert.deepEqual(JSON.parse(bigfile(['ls', db, '--json']).stdout), [])
})
