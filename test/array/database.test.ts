import assert from 'node:assert/strict'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { BigArray, slice } from '../../src/array/index.ts'
import { ConflictError, openDatabase, RAM } from '../../src/index.ts'
import { type StorageKind, storageTest } from '../helpers/storages.ts'
import { PS, ram, tmpDir } from './helpers.ts'

async function db(t: TestContext, s: StorageKind) {
  return openDatabase(await s.location(t, 'a.bigfile'))
}

storageTest(
  'create → set/fill → commit → reopen in a new database handle → values, shape, dtype, order',
  async (t, s) => {
    const path = await s.location(t, 'p.bigfile')
    const d1 = await openDatabase(path)
    const c1 = d1.connect({ ram: ram() })
    const a = await BigArray.create(c1, 'temps', { dtype: 'float32', shape: [1000, 3], order: 'F' })
    assert.equal(a.resizable, true)
    await a.fill(1.5)
    await a.setAsync(999, 2, -4)
    await c1.commit()
    await assert.rejects(BigArray.create(c1, 'temps', { dtype: 'int8', shape: [1] }), { code: 'EEXIST' })
    await d1.close()

    const d2 = await openDatabase(path)
    const c2 = d2.connect({ ram: ram() })
    const b = await BigArray.open(c2, 'temps')
    assert.deepEqual([b.dtype, b.shape, b.order], ['float32', [1000, 3], 'F'])
    assert.equal(await b.getAsync(999, 2), -4)
    assert.equal(await b.sum(), 1.5 * 2999 - 4)
    await assert.rejects(BigArray.open(c2, 'nope'), { code: 'ENOENT' })
    await c2.open('plain', { create: { blksize: 4096, meta: { hello: 1 } } })
    await assert.rejects(BigArray.open(c2, 'plain'), { code: 'ECORRUPT' })
    await c2.abort()
    await d2.close()
  },
)

storageTest(
  'isolation: another connection sees neither new data nor the new shape before commit + sync',
  async (t, s) => {
    const d = await db(t, s)
    const c1 = d.connect({ ram: ram() })
    const c2 = d.connect({ ram: ram() })
    const a = await BigArray.create(c1, 'x', { dtype: 'int32', shape: [100] })
    await a.fill(7)
    await c1.commit()
    await c2.sync()
    const b = await BigArray.open(c2, 'x')
    await a.append([1, 2, 3])
    await a.setAsync(0, 8)
    assert.equal(b.length, 100)
    assert.equal(await b.getAsync(0), 7)
    await c1.commit()
    assert.equal(b.length, 100, 'until sync')
    await c2.sync()
    assert.equal(b.length, 103, 'the array follows the committed shape')
    assert.equal(await b.getAsync(102), 3)
    assert.equal(await b.getAsync(0), 8)
    await d.close()
  },
)

storageTest(
  'resize: O(1) grow reads zeros, views keep their shape, shrink drops data, abort restores',
  async (t, s) => {
    const d = await db(t, s)
    const c = d.connect({ ram: ram() })
    const a = await BigArray.create(c, 'r', { dtype: 'float64', shape: [10, 100] })
    await a.fill(1)
    const view = a.at(slice(5))
    await a.resize([5000, 100]) // grows past the first mapping window
    assert.deepEqual(a.shape, [5000, 100])
    assert.deepEqual(view.shape, [5, 100])
    assert.equal(await a.getAsync(4999, 99), 0)
    assert.equal(await a.sum(), 1000)
    await a.setAsync(4999, 99, 2)
    await view.setAsync(0, 0, 3)
    assert.equal(await a.getAsync(5, 0), 3, 'the old view still aliases the storage')
    await assert.rejects(a.resize([10, 99]), { code: 'EINVAL' })
    await assert.rejects(view.resize([1, 100]), { code: 'EINVAL' })
    await c.commit()
    await a.resize([3, 100])
    assert.equal(await a.sum(), 300)
    await a.resize([6, 100])
    assert.equal(await a.sum(), 300, 'growth after a shrink reads zeros')
    await c.abort()
    assert.deepEqual(a.shape, [5000, 100], 'abort brings the committed shape back')
    assert.equal(await a.getAsync(4999, 99), 2)
    assert.equal(await a.getAsync(5, 0), 3)
    await d.close()
  },
)

storageTest('F order grows along the last axis', async (t, s) => {
  const d = await db(t, s)
  const c = d.connect({ ram: ram() })
  const a = await BigArray.create(c, 'f', { dtype: 'int16', shape: [3, 2], order: 'F' })
  await a.copyFrom([1, 2, 3, 4, 5, 6])
  await a.append([7, 8, 9]) // C-order values of shape [3, 1]
  assert.deepEqual(a.shape, [3, 3])
  const out = new Int16Array(9)
  await a.copyTo(out)
  assert.deepEqual([...out], [1, 2, 7, 3, 4, 8, 5, 6, 9])
  await assert.rejects(a.resize([4, 3]), { code: 'EINVAL' })
  await c.abort()
  await d.close()
})

storageTest('append: O(δ), checks the non-major dims, rolls back on error', async (t, s) => {
  const d = await db(t, s)
  const c = d.connect({ ram: ram() })
  const a = await BigArray.create(c, 'ap', { dtype: 'uint32', shape: [0, 3] })
  for (let i = 0; i < 50; i++) await a.append([i, i + 1, i + 2])
  assert.deepEqual(a.shape, [50, 3])
  assert.equal(await a.getAsync(49, 2), 51)
  const other = await BigArray.create(c, 'other', { dtype: 'float64', shape: [2, 3] })
  await other.fill(9)
  await a.append(other)
  assert.deepEqual(a.shape, [52, 3])
  assert.equal(await a.getAsync(51, 1), 9)
  await assert.rejects(a.append([1, 2]), { code: 'EINVAL' })
  const wrong = await BigArray.create(c, 'wrong', { dtype: 'float64', shape: [2, 4] })
  await assert.rejects(a.append(wrong), { code: 'EINVAL' })
  // An error while copying (an abort, a value that does not convert) rolls the shape back.
  await assert.rejects(a.append([1, 2, 3], { signal: AbortSignal.abort() }), { code: 'EABORT' })
  assert.deepEqual(a.shape, [52, 3])
  await assert.rejects(a.append([1, 2, Symbol('x') as unknown as number]), { code: 'EINVAL' })
  assert.deepEqual(a.shape, [52, 3])
  assert.equal((await c.open('ap')).size, 52 * 3 * 4)
  await c.commit()
  const c2 = d.connect({ ram: ram() })
  const b = await BigArray.open(c2, 'ap')
  assert.deepEqual(b.shape, [52, 3])
  await d.close()
})

storageTest(
  'conflict: two connections resizing the same array — the second commit raises ConflictError',
  async (t, s) => {
    const d = await db(t, s)
    const c1 = d.connect({ ram: ram() })
    const c2 = d.connect({ ram: ram() })
    await BigArray.create(c1, 'k', { dtype: 'int8', shape: [10] })
    await c1.commit()
    await c2.sync()
    const a1 = await BigArray.open(c1, 'k')
    const a2 = await BigArray.open(c2, 'k')
    await a1.resize([20])
    await a2.append([1, 2, 3])
    await c1.commit()
    await assert.rejects(c2.commit(), (e: unknown) => e instanceof ConflictError)
    await c2.abort()
    assert.deepEqual(a2.shape, [20], 'after abort the loser sees the winner')
    await a2.append([1])
    await c2.commit()
    await c1.sync()
    assert.deepEqual(a1.shape, [21])
    assert.equal(await a1.getAsync(20), 1)
    await d.close()
  },
)

storageTest('appends bigger than the RAM budget in total, committed as they go', async (t, s) => {
  const d = await db(t, s)
  const c = d.connect({ ram: ram(16) })
  const a = await BigArray.create(c, 'big', { dtype: 'float64', shape: [0] })
  const chunk = Float64Array.from({ length: 4096 }, (_, i) => i) // 8 pages per append
  for (let i = 0; i < 8; i++) {
    await a.append(chunk)
    await c.commit()
  }
  assert.equal(a.length, 8 * 4096)
  assert.equal(await a.sum(), 8 * ((4095 * 4096) / 2))
  await d.close()
})

// SQLite only: the synchronous element access's own checks (get1/set1/get2), which an
// asynchronous storage refuses by design.
test('get1/set1 see the shape an abort restored: nothing is written past the end', async (t) => {
  const d = await openDatabase(join(tmpDir(t), 'a.bigfile'))
  const r = ram()
  const conn = d.connect({ ram: r })
  const a = await BigArray.create(conn, 'a', { dtype: 'float64', shape: [1000] })
  await conn.commit()
  await a.append(new Float64Array(1000).fill(2))
  assert.equal(a.get1(1500), 2)
  await conn.abort()
  assert.throws(() => a.get1(1500), { code: 'ERANGE' })
  assert.throws(() => a.set1(1500, 42), { code: 'ERANGE' })
  assert.deepEqual(a.shape, [1000])
  await a.resize([2000])
  await conn.commit()
  const b = await BigArray.open(d.connect({ ram: r }), 'a')
  assert.equal(b.get1(1500), 0, 'growth reads zeros')
  await d.close()
})

// SQLite only: the synchronous element access's own checks (get1/set1/get2), which an
// asynchronous storage refuses by design.
test("get1/set1/get2 see another connection's shrink after sync", async (t) => {
  const d = await openDatabase(join(tmpDir(t), 'a.bigfile'))
  const r = ram()
  const conn = d.connect({ ram: r })
  const a = await BigArray.create(conn, 'a', { dtype: 'float64', shape: [1000] })
  const m = await BigArray.create(conn, 'm', { dtype: 'float64', shape: [100, 10] })
  await a.fill(1)
  await conn.commit()
  const c2 = d.connect({ ram: r })
  const b = await BigArray.open(c2, 'a')
  const n = await BigArray.open(c2, 'm')
  await b.resize([10])
  await n.resize([5, 10])
  await c2.commit()
  await conn.sync()
  assert.throws(() => a.get1(500), { code: 'ERANGE' })
  assert.throws(() => a.set1(500, 99), { code: 'ERANGE' })
  assert.throws(() => m.get2(50, 0), { code: 'ERANGE' })
  assert.equal(a.get1(5), 1)
  await d.close()
})

storageTest(
  'append rolls back to the old shape even when it failed for want of memory (spill off)',
  async (t, s) => {
    const d = await db(t, s)
    const r = new RAM({ pagesize: PS, capacity: 10 * PS, spill: false })
    const conn = d.connect({ ram: r })
    const a = await BigArray.create(conn, 'a', { dtype: 'float64', shape: [100] })
    const other = await BigArray.create(conn, 'o', { dtype: 'float64', shape: [512 * 7] })
    await a.fill(1)
    await conn.commit()
    await other.fill(3) // 7 dirty pages + a's tail page: the RAM is full
    await assert.rejects(a.append([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].concat(new Array(500).fill(0))), {
      code: 'ENOMEM',
    })
    assert.deepEqual(a.shape, [100])
    await other.resize([0])
    await conn.commit()
    const b = await BigArray.open(d.connect({ ram: r }), 'a')
    assert.deepEqual(b.shape, [100])
    await d.close()
  },
)

storageTest('an array appended to itself doubles', async (t, s) => {
  const d = await db(t, s)
  const conn = d.connect({ ram: ram() })
  const a = await BigArray.create(conn, 'a', { dtype: 'int32', shape: [5, 4] })
  await a.copyFrom(Int32Array.from({ length: 20 }, (_, i) => i))
  await a.append(a)
  assert.deepEqual(a.shape, [10, 4])
  assert.equal(await a.getAsync(7, 3), 11) // row 7 is the old row 2
  await d.close()
})
