import assert from 'node:assert/strict'
import { openDatabase } from '../../src/db/index.ts'
import { faulted, storageTest } from '../helpers/storages.ts'
import { PS, ram, reclaimAll } from './helpers.ts'

storageTest('a new file reads zeros; write + abort reads zeros again, also repeatedly', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  const r = ram()
  const conn = db.connect({ ram: r })
  const f = await conn.open('z', { create: { blksize: PS } })
  const vma = f.mmap(0, 8)
  for (let off = 0; off < 8 * PS; off += 4096) assert.equal((await faulted(vma, off)).getFloat64(off), 0)
  await conn.commit()
  for (let round = 0; round < 5; round++) {
    for (let pg = 0; pg < 8; pg++)
      (await faulted(vma, pg * PS + 8 * round)).setFloat64(pg * PS + 8 * round, round + 1)
    assert.ok(f.fileh.isDirty())
    await conn.abort()
    assert.equal(f.fileh.isDirty(), false)
    for (let pg = 0; pg < 8; pg++)
      assert.equal((await faulted(vma, pg * PS + 8 * round)).getFloat64(pg * PS + 8 * round), 0)
  }
  vma.unmap()
  conn.close()
  await db.close()
  assert.equal(r.stats().used, 0)
})

storageTest('an aborted creation leaves no file', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('new', { create: { blksize: PS } })
  ;(await faulted(f.mmap(0, 1), 0)).setUint8(0, 1)
  await conn.abort()
  assert.equal(f.gone, true)
  assert.deepEqual(await db.files(), [])
  assert.deepEqual(await conn.list(), [])
  await db.close()
})

for (const [bs, ps] of [
  [PS, PS],
  [4096, PS],
  [2 << 20, PS],
] as const) {
  storageTest(
    `commit persists across close and reopen, identical after reclaim (blksize ${bs}, pagesize ${ps})`,
    async (t, s) => {
      const path = await s.location(t)
      const pages = 40
      const value = (pg: number, i: number) => (pg * 1000 + i) * 1.5
      {
        const db = await openDatabase(path)
        const r = ram(64, ps, Math.max(2, bs / ps))
        const conn = db.connect({ ram: r })
        const f = await conn.open('data', {
          create: { blksize: bs, size: pages * ps, meta: { dtype: 'f8' } },
        })
        const vma = f.mmap(0, pages)
        for (let pg = 0; pg < pages; pg += 3)
          for (let i = 0; i < 16; i++)
            (await faulted(vma, pg * ps + i * 8)).setFloat64(pg * ps + i * 8, value(pg, i))
        const tid = await conn.commit()
        assert.equal(tid, 1)
        assert.equal(f.fileh.isDirty(), false)
        reclaimAll(r)
        assert.equal(r.stats().used, 0)
        for (let pg = 0; pg < pages; pg++) {
          for (let i = 0; i < 16; i++)
            assert.equal(
              (await faulted(vma, pg * ps + i * 8)).getFloat64(pg * ps + i * 8),
              pg % 3 ? 0 : value(pg, i),
            )
        }
        vma.unmap()
        conn.close()
        await db.close()
      }
      const db = await openDatabase(path)
      const conn = db.connect({ ram: ram(8, ps, Math.max(2, bs / ps)) })
      assert.equal(conn.at, 1)
      const f = await conn.open('data')
      assert.equal(f.size, pages * ps)
      assert.deepEqual(f.meta, { dtype: 'f8' })
      const vma = f.mmap(0, pages)
      for (let pg = 0; pg < pages; pg++) {
        for (let i = 0; i < 16; i++)
          assert.equal(
            (await faulted(vma, pg * ps + i * 8)).getFloat64(pg * ps + i * 8),
            pg % 3 ? 0 : value(pg, i),
          )
      }
      vma.unmap()
      await db.close()
    },
  )
}

storageTest('commit with nothing to commit moves to the newest snapshot', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  const c1 = db.connect({ ram: ram() })
  const c2 = db.connect({ ram: ram() })
  const f = await c1.open('x', { create: { blksize: PS } })
  ;(await faulted(f.mmap(0, 1), 0)).setUint8(0, 7)
  await c1.commit()
  assert.equal(c2.at, 0)
  assert.equal(await c2.commit(), 1)
  assert.equal((await faulted((await c2.open('x')).mmap(0, 1), 0)).getUint8(0), 7)
  await db.close()
})

storageTest('sync refuses with uncommitted changes; writeout outside commit is refused', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('x', { create: { blksize: PS } })
  ;(await faulted(f.mmap(0, 1), 0)).setUint8(0, 7)
  await assert.rejects(conn.sync(), { code: 'EBUSY' })
  assert.throws(
    () => f.fileh.writeout(3),
    (e: { code?: string; cause?: { code?: string } }) => e.code === 'ESTORE' && e.cause?.code === 'EBUSY',
  )
  assert.ok(f.fileh.isDirty(), 'a refused store leaves the page dirty')
  assert.throws(() => conn.close(), { code: 'EBUSY' })
  assert.throws(() => f.close(), { code: 'EBUSY' })
  await conn.commit()
  await conn.sync()
  await db.close()
})

storageTest(
  'db.commits() yields new tids in order, coalesces to the newest for a slow consumer, ends on abort and close',
  async (t, s) => {
    const location = await s.location(t)
    const db = await openDatabase(location)
    const ac = new AbortController()
    const it = db.commits({ signal: ac.signal })
    // this Database's own commits: a file operation and a connection's commit
    await db.createFile('a', { blksize: PS }) // 1
    assert.deepEqual(await it.next(), { done: false, value: 1 })
    const conn = db.connect({ ram: ram() })
    const v = (await conn.open('a')).mmap(0, 1)
    for (let i = 2; i <= 6; i++) {
      ;(await faulted(v, 0)).setFloat64(0, i)
      assert.equal(await conn.commit(), i)
    }
    // five commits while nobody read: one tid waits, the newest
    assert.deepEqual(await it.next(), { done: false, value: 6 })
    const pending = it.next()
    await db.renameFile('a', 'b') // 7
    assert.deepEqual(await pending, { done: false, value: 7 })
    // another Database's commit: pushed on PostgreSQL; on SQLite seen once this Database reads the head
    const other = await openDatabase(location)
    await other.createFile('c', { blksize: PS }) // 8
    await other.close()
    if (s.name === 'sqlite') assert.equal(await db.head(), 8)
    assert.deepEqual(await it.next(), { done: false, value: 8 })
    // for await, ended by the signal
    const seen: number[] = []
    const loop = (async () => {
      for await (const tid of it) {
        seen.push(tid)
        if (tid === 9) ac.abort()
      }
    })()
    await db.createFile('d', { blksize: PS }) // 9
    await loop
    assert.deepEqual(seen, [9])
    assert.deepEqual(await it.next(), { done: true, value: undefined })
    // close ends a waiting iteration; a loop that breaks ends its own
    const second = db.commits()
    const waiting = second.next()
    v.unmap()
    conn.close()
    await db.close()
    assert.deepEqual(await waiting, { done: true, value: undefined })
    assert.throws(() => db.commits(), { code: 'ECLOSED' })
  },
)
