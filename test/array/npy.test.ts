import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { BigArray, exportNpy, exportRaw, importNpy, importRaw, slice } from '../../src/array/index.ts'
import { openDatabase } from '../../src/index.ts'
import { ram, tmpDir } from './helpers.ts'

/** An .npy v1.0 file written by hand: header text padded with spaces to a 64-byte boundary. */
function npy(dict: string, data: Uint8Array, major = 1): Uint8Array {
  const pre = major === 1 ? 10 : 12
  const total = Math.ceil((pre + dict.length + 1) / 64) * 64
  const head = Buffer.alloc(total, 0x20)
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0])
  if (major === 1) head.writeUInt16LE(total - pre, 8)
  else head.writeUInt32LE(total - pre, 8)
  head.write(dict, pre, 'latin1')
  head[total - 1] = 0x0a
  return Buffer.concat([head, data])
}

async function setup(t: Parameters<typeof tmpDir>[0]) {
  const dir = tmpDir(t)
  const d = await openDatabase(join(dir, 'n.bigfile'))
  return { dir, d, c: d.connect({ ram: ram() }) }
}

test('importNpy reads a hand-written little-endian C-order int32 file', async (t) => {
  const { dir, d, c } = await setup(t)
  const data = new Int32Array([1, 2, 3, -4, 5, 6])
  const f = join(dir, 'a.npy')
  writeFileSync(
    f,
    npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", new Uint8Array(data.buffer)),
  )
  const a = await importNpy(c, 'a', f)
  assert.deepEqual([a.dtype, a.shape, a.order], ['int32', [2, 3], 'C'])
  assert.equal(a.get(1, 0), -4)
  await c.commit()
  await d.close()
})

test('importNpy reads big-endian, Fortran-order and version 2.0 files', async (t) => {
  const { dir, d, c } = await setup(t)
  const be = Buffer.alloc(8 * 4)
  for (const [i, v] of [1.5, -2, 3, 4].entries()) be.writeDoubleBE(v, i * 8)
  const f = join(dir, 'b.npy')
  writeFileSync(f, npy("{'descr': '>f8', 'fortran_order': True, 'shape': (2, 2), }", be, 2))
  const a = await importNpy(c, 'b', f)
  assert.deepEqual([a.dtype, a.shape, a.order], ['float64', [2, 2], 'F'])
  // Fortran order: column-major data 1.5, -2 | 3, 4
  assert.deepEqual([a.get(0, 0), a.get(1, 0), a.get(0, 1), a.get(1, 1)], [1.5, -2, 3, 4])
  const bad = join(dir, 'bad.npy')
  writeFileSync(bad, npy("{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }", new Uint8Array(16)))
  await assert.rejects(importNpy(c, 'bad', bad), {
    code: 'EINVAL',
    message: /unsupported dtype '<c16' \(complex\); supported: int8/,
  })
  writeFileSync(bad, Buffer.from('not numpy at all'))
  await assert.rejects(importNpy(c, 'bad2', bad), { code: 'ECORRUPT' })
  const short = join(dir, 'short.npy')
  writeFileSync(short, npy("{'descr': '<i2', 'fortran_order': False, 'shape': (10,), }", new Uint8Array(6)))
  await assert.rejects(importNpy(c, 'short', short), { code: 'ECORRUPT' })
  await c.abort()
  await d.close()
})

test('exportNpy writes a header NumPy accepts and round trips through importNpy (views too)', async (t) => {
  const { dir, d, c } = await setup(t)
  const a = await BigArray.create(c, 'src', { dtype: 'int64', shape: [300, 7] })
  await a.copyFrom(BigInt64Array.from({ length: 2100 }, (_, i) => BigInt(i) - 1000n))
  await c.commit() // an import is a transaction of its own: it refuses pending changes
  const f = join(dir, 'out.npy')
  await exportNpy(a, f)
  const bytes = readFileSync(f)
  const hlen = bytes.readUInt16LE(8)
  assert.equal((10 + hlen) % 64, 0)
  assert.match(
    bytes.subarray(10, 10 + hlen).toString('latin1'),
    /^\{'descr': '<i8', 'fortran_order': False, 'shape': \(300, 7\), \} *\n$/,
  )
  const b = await importNpy(c, 'dst', f)
  assert.deepEqual(b.shape, [300, 7])
  assert.equal(await b.sum(), await a.sum())
  assert.equal(b.get(299, 6), 1099n)
  const v = a.at(slice(null, null, -7), 3)
  const g = join(dir, 'view.npy')
  await exportNpy(v, g)
  const w = await importNpy(c, 'view', g)
  assert.deepEqual(w.shape, [43])
  assert.equal(w.get(0), v.get(0))
  assert.equal(w.get(42), v.get(42))
  await c.commit()
  await d.close()
})

test('raw export/import round trip; importRaw with commitEvery streams more than the RAM; F order spills', async (t) => {
  const { dir, d } = await setup(t)
  const c = d.connect({ ram: ram(16) }) // 64 KiB of frames
  const a = await BigArray.create(c, 'raw', { dtype: 'float32', shape: [2] })
  await a.copyFrom([1, 2])
  const p = join(dir, 'a.raw')
  await exportRaw(a, p)
  await assert.rejects(importRaw(c, 'x', p, { dtype: 'float32', shape: [2] }), { code: 'EBUSY' })
  await c.commit()
  assert.deepEqual([...new Float32Array(new Uint8Array(readFileSync(p)).buffer)], [1, 2])
  const big = Float32Array.from({ length: 100_000 }, (_, i) => i % 1000)
  const q = join(dir, 'big.raw')
  writeFileSync(q, new Uint8Array(big.buffer))
  const seen: number[] = []
  const b = await importRaw(c, 'big', q, {
    dtype: 'float32',
    shape: [1000, 100],
    commitEvery: 32 << 10,
    onProgress: (done) => seen.push(done),
  })
  assert.equal(seen.at(-1), 400_000)
  await c.commit()
  assert.equal(await b.sum(), 100 * ((999 * 1000) / 2))
  // C-order elements land all over an F-order array's pages: 400 KB through 64 KiB of frames spills.
  const bf = await importRaw(c, 'bigF', q, { dtype: 'float32', shape: [1000, 100], order: 'F' })
  assert.equal(bf.get(999, 99), 999)
  assert.equal(bf.get(3, 7), 307)
  assert.equal(await bf.sum(), 100 * ((999 * 1000) / 2))
  const small = join(dir, 'small.raw')
  writeFileSync(small, new Uint8Array(big.buffer, 0, 4000))
  const fo = await importRaw(c, 'smallF', small, { dtype: 'float32', shape: [100, 10], order: 'F' })
  assert.equal(fo.get(3, 7), 37)
  await assert.rejects(importRaw(c, 'bad', q, { dtype: 'float32', shape: [7] }), { code: 'ECORRUPT' })
  await c.abort()
  await d.close()
})
