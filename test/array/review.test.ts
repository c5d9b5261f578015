// Regressions found in review of the array layer.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { BigArray, openDatabase, RAM } from '../../src/index.ts'

const PS = 4096

async function mkdb(t: { after(fn: () => void): void }, frames = 64, spill = true) {
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-array-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const db = await openDatabase(join(dir, 'x.bigfile'))
  const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS, spill })
  return { db, ram, conn: db.connect({ ram }) }
}

test('get1/set1 see the shape an abort restored: nothing is written past the end', async (t) => {
  const { db, ram, conn } = await mkdb(t)
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
  const b = await BigArray.open(db.connect({ ram }), 'a')
  assert.equal(b.get1(1500), 0, 'growth reads zeros')
  await db.close()
})

test("get1/set1/get2 see another connection's shrink after sync", async (t) => {
  const { db, ram, conn } = await mkdb(t)
  const a = await BigArray.create(conn, 'a', { dtype: 'float64', shape: [1000] })
  const m = await BigArray.create(conn, 'm', { dtype: 'float64', shape: [100, 10] })
  await a.fill(1)
  await conn.commit()
  const c2 = db.connect({ ram })
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
  await db.close()
})

test('append rolls back to the old shape even when it failed for want of memory (spill off)', async (t) => {
  const { db, ram, conn } = await mkdb(t, 8, false)
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
  const b = await BigArray.open(db.connect({ ram }), 'a')
  assert.deepEqual(b.shape, [100])
  await db.close()
})

test('an array appended to itself doubles', async (t) => {
  const { db, conn } = await mkdb(t)
  const a = await BigArray.create(conn, 'a', { dtype: 'int32', shape: [5, 4] })
  await a.copyFrom(Int32Array.from({ length: 20 }, (_, i) => i))
  await a.append(a)
  assert.deepEqual(a.shape, [10, 4])
  assert.equal(a.get(7, 3), 11) // row 7 is the old row 2
  await db.close()
})

test('plain-object slices with fractional bounds are refused', async (t) => {
  const { db, conn } = await mkdb(t)
  const a = await BigArray.create(conn, 'a', { dtype: 'float64', shape: [10] })
  assert.throws(() => a.at({ start: 1.5, stop: null, step: null }), { code: 'EINVAL' })
  assert.throws(() => a.at({ start: null, stop: Number.NaN, step: null }), { code: 'EINVAL' })
  await db.close()
})
