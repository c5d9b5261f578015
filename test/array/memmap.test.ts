// memmap / openNpy: raw and .npy files opened in place as BigArrays (numpy.memmap), committed through the
// raw-file journal, on real files.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { BigArray, memmap, npyHeader, openNpy, slice } from '../../src/index.ts'
import { PS, ram, tmpDir } from './helpers.ts'

function f64File(path: string, n: number, header: Uint8Array = new Uint8Array(0)): Float64Array {
  const v = Float64Array.from({ length: n }, (_, i) => i * 0.5)
  const out = new Uint8Array(header.length + v.byteLength)
  out.set(header)
  out.set(new Uint8Array(v.buffer), header.length)
  writeFileSync(path, out)
  return v
}

const f64At = (path: string, i: number, offset = 0) => readFileSync(path).readDoubleLE(offset + i * 8)

/** An .npy header with one of its fields changed (same length, so the padding still holds). */
const patched = (h: Uint8Array, from: string, to: string) =>
  new Uint8Array(Buffer.from(Buffer.from(h).toString('latin1').replace(from, to), 'latin1'))

test('memmap: a raw file whose size is not a multiple of the block size, length implied; commit and reopen', async (t) => {
  const path = join(tmpDir(t), 'x.f8')
  const n = 1000 // 8000 bytes: one block and a short one of 4096
  f64File(path, n)
  {
    using a = memmap(path, { ram: ram(), dtype: 'float64', mode: 'rw' })
    assert.deepEqual(a.shape, [n])
    assert.equal(a.get1(999), 499.5)
    assert.equal(await a.sum(), (0.5 * n * (n - 1)) / 2)
    a.set1(999, -1)
    await a.at(slice(0, 3)).write([7, 8, 9])
    assert.equal(f64At(path, 999), 499.5, 'nothing reaches the file before commit')
    a.commit()
    assert.equal(f64At(path, 999), -1)
    a.set1(500, 123)
    a.abort()
    assert.equal(a.get1(500), 250, 'abort dropped the change')
  } // using: closed, lock released
  assert.equal(readFileSync(path).length, 8000, 'the file never grows')
  using b = memmap(path, { ram: ram(), dtype: 'float64', mode: 'rw' })
  assert.deepEqual([b.get1(0), b.get1(1), b.get1(2), b.get1(999)], [7, 8, 9, -1])
})

test('memmap: offset, shape, F order; read-only by default (commit is EROFS)', async (t) => {
  const path = join(tmpDir(t), 'h.raw')
  f64File(path, 12, new Uint8Array(24).fill(0xee))
  using a = memmap(path, { ram: ram(), dtype: 'float64', shape: [3, 4], order: 'F', offset: 24 })
  assert.equal(a.order, 'F')
  assert.equal(a.get(1, 0), 0.5)
  assert.equal(a.get(0, 1), 1.5)
  a.set(0, 0, 5)
  assert.throws(() => a.commit(), { code: 'EROFS' })
  a.abort()
  assert.equal(a.get(0, 0), 0)
  // The view of a mapped array commits and closes with it.
  using b = memmap(path, { ram: ram(), dtype: 'uint8', shape: [24] })
  assert.equal(await b.max(), 0xee)
})

test('memmap refuses what does not fit: shapes past the end, partial elements, bad options; commit on other arrays', async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'y.raw')
  writeFileSync(path, new Uint8Array(10))
  assert.throws(() => memmap(path, { ram: ram(), dtype: 'float64' }), { code: 'EINVAL' })
  assert.throws(() => memmap(path, { ram: ram(), dtype: 'uint8', shape: [11] }), { code: 'EINVAL' })
  assert.throws(() => memmap(path, { ram: ram(), dtype: 'uint8', offset: 11 }), { code: 'EINVAL' })
  assert.throws(() => memmap(path, { ram: ram(), dtype: 'uint8', offset: -1 }), { code: 'EINVAL' })
  assert.throws(() => memmap(join(dir, 'missing'), { ram: ram(), dtype: 'uint8' }), { code: 'ENOENT' })
  using ok = memmap(path, { ram: ram(), dtype: 'int16', offset: 2 })
  assert.deepEqual(ok.shape, [4])
  // A second writer is locked out while the first holds the file.
  using w = memmap(path, { ram: ram(), dtype: 'uint8', mode: 'rw' })
  assert.throws(() => memmap(path, { ram: ram(), dtype: 'uint8', mode: 'rw' }), { code: 'ELOCKED' })
  w.close()
  memmap(path, { ram: ram(), dtype: 'uint8', mode: 'rw' }).close()
  const plain = BigArray.over(ok.fileh, { dtype: 'uint8', shape: [2] })
  assert.throws(() => plain.commit(), { code: 'EINVAL' })
})

test('openNpy: dtype, shape and order from the header; changes committed in place; Fortran files', async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'a.npy')
  const header = npyHeader('float64', [10, 100])
  f64File(path, 1000, header)
  {
    using a = openNpy(path, { ram: ram(), mode: 'rw' })
    assert.deepEqual([a.dtype, a.shape, a.order], ['float64', [10, 100], 'C'])
    assert.ok(a.is('float64'))
    assert.equal(a.get(9, 99), 499.5)
    await a.at(3).fill(-2)
    a.commit()
  }
  assert.equal(f64At(path, 300, header.length), -2)
  assert.equal(f64At(path, 399, header.length), -2)
  assert.equal(f64At(path, 400, header.length), 200)
  assert.deepEqual(readFileSync(path).subarray(0, header.length), Buffer.from(header), 'the header is intact')

  // fortran_order: True maps as an F-order array.
  const fpath = join(dir, 'f.npy')
  const fh = patched(npyHeader('float64', [2, 3]), "'fortran_order': False", "'fortran_order': True ")
  f64File(fpath, 6, fh)
  using f = openNpy(fpath, { ram: ram() })
  assert.equal(f.order, 'F')
  assert.deepEqual([...(await f.read()).data], [0, 1, 2, 0.5, 1.5, 2.5])
})

test('openNpy refuses big-endian data, truncated files and non-.npy files', (t) => {
  const dir = tmpDir(t)
  const be = join(dir, 'be.npy')
  const h = patched(npyHeader('float64', [4]), "'<f8'", "'>f8'")
  f64File(be, 4, h)
  assert.throws(() => openNpy(be, { ram: ram() }), { code: 'EINVAL' })
  const short = join(dir, 'short.npy')
  f64File(short, 3, npyHeader('float64', [4]))
  assert.throws(() => openNpy(short, { ram: ram() }), { code: 'ECORRUPT' })
  const junk = join(dir, 'junk.npy')
  writeFileSync(junk, new Uint8Array(PS))
  assert.throws(() => openNpy(junk, { ram: ram() }), { code: 'ECORRUPT' })
  // Header bytes only: an empty array.
  const empty = join(dir, 'empty.npy')
  writeFileSync(empty, npyHeader('int32', [0]))
  const e = openNpy(empty, { ram: ram() })
  assert.deepEqual([e.dtype, e.shape, e.size], ['int32', [0], 0])
  e.close()
})
