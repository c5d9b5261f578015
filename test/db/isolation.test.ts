import assert from 'node:assert/strict'
import { openDatabase } from '../../src/db/index.ts'
import { ConflictError } from '../../src/errors.ts'
import { faulted, storageTest } from '../helpers/storages.ts'
import { PS, ram, reclaimAll } from './helpers.ts'

storageTest(
  'isolation: a connection keeps reading its snapshot, also after reclaim, until sync',
  async (t, s) => {
    const db = await openDatabase(await s.location(t))
    const r1 = ram()
    const r2 = ram()
    const c1 = db.connect({ ram: r1 })
    const f1 = await c1.open('f', { create: { blksize: PS } })
    const v1 = f1.mmap(0, 4)
    for (let pg = 0; pg < 4; pg++) (await faulted(v1, pg * PS)).setFloat64(pg * PS, 1)
    await c1.commit()

    const c2 = db.connect({ ram: r2 })
    const v2 = (await c2.open('f')).mmap(0, 4)
    for (let pg = 0; pg < 4; pg++) assert.equal((await faulted(v2, pg * PS)).getFloat64(pg * PS), 1)

    for (let pg = 0; pg < 4; pg += 2) (await faulted(v1, pg * PS)).setFloat64(pg * PS, 2)
    await c1.commit()
    for (let pg = 0; pg < 4; pg++) assert.equal((await faulted(v2, pg * PS)).getFloat64(pg * PS), 1)
    reclaimAll(r2)
    assert.equal(r2.stats().used, 0)
    for (let pg = 0; pg < 4; pg++)
      assert.equal((await faulted(v2, pg * PS)).getFloat64(pg * PS), 1, `page ${pg} reloads as of at`)
    const before = r2.counters.loads
    await c2.sync()
    for (let pg = 0; pg < 4; pg++)
      assert.equal((await faulted(v2, pg * PS)).getFloat64(pg * PS), pg % 2 ? 1 : 2)
    assert.equal(r2.counters.loads - before, 2, 'exactly the changed pages were invalidated')
    await db.close()
  },
)

storageTest(
  'conflict: the first committer wins; the loser aborts, reads the winner, then commits',
  async (t, s) => {
    const db = await openDatabase(await s.location(t))
    const c1 = db.connect({ ram: ram() })
    const c2 = db.connect({ ram: ram() })
    const f = await c1.open('f', { create: { blksize: PS } })
    ;(await faulted(f.mmap(0, 1), 0)).setUint8(0, 0)
    await c1.commit()
    await c2.sync()
    const v1 = f.mmap(0, 4)
    const v2 = (await c2.open('f')).mmap(0, 4)
    ;(await faulted(v1, 0)).setFloat64(0, 1)
    ;(await faulted(v2, 0)).setFloat64(0, 2)
    ;(await faulted(v2, 3 * PS)).setFloat64(3 * PS, 2)
    await c1.commit()
    const err = await c2.commit().then(
      () => assert.fail('expected a conflict'),
      (e: unknown) => e,
    )
    assert.ok(err instanceof ConflictError)
    assert.equal(err.file, 'f')
    assert.deepEqual(err.blocks, [0])
    assert.match(err.message, /"f".*blocks 0/)
    assert.equal((await faulted(v2, 0)).getFloat64(0), 2, 'dirty pages stay after a conflict')
    await c2.abort()
    assert.equal((await faulted(v2, 0)).getFloat64(0), 1)
    assert.equal((await faulted(v2, 3 * PS)).getFloat64(3 * PS), 0)
    ;(await faulted(v2, 0)).setFloat64(0, 3)
    await c2.commit()
    await c1.sync()
    assert.equal((await faulted(v1, 0)).getFloat64(0), 3)
    await db.close()
  },
)

storageTest('no conflict on disjoint blocks; each side sees the other after its boundary', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  await db.createFile('f', { blksize: 4096 })
  const c1 = db.connect({ ram: ram() })
  const c2 = db.connect({ ram: ram() })
  const v1 = (await c1.open('f')).mmap(0, 4)
  const v2 = (await c2.open('f')).mmap(0, 4)
  ;(await faulted(v1, 0)).setUint8(0, 1)
  ;(await faulted(v2, 2 * PS)).setUint8(2 * PS, 2)
  await c1.commit()
  await c2.commit()
  assert.equal((await faulted(v2, 0)).getUint8(0), 1, 'commit invalidated what c1 changed')
  assert.equal((await faulted(v1, 2 * PS)).getUint8(2 * PS), 0)
  await c1.sync()
  assert.equal((await faulted(v1, 2 * PS)).getUint8(2 * PS), 2)
  await db.close()
})

storageTest('conflicts on metadata, on a concurrent creation and on a deleted file', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  await db.createFile('m', { blksize: PS })
  const c1 = db.connect({ ram: ram() })
  const c2 = db.connect({ ram: ram() })
  const m1 = await c1.open('m')
  const m2 = await c2.open('m')
  m1.setMeta({ a: 1 })
  m2.setMeta({ a: 2 })
  await c1.commit()
  await assert.rejects(c2.commit(), (e: unknown) => e instanceof ConflictError && e.blocks.length === 0)
  await c2.abort()
  assert.deepEqual(m2.meta, { a: 1 })

  await c1.open('n', { create: { blksize: PS } })
  await c2.open('n', { create: { blksize: PS } })
  await c1.commit()
  await assert.rejects(c2.commit(), { code: 'ECONFLICT' })
  await c2.abort()

  ;(await faulted(m2.mmap(0, 1), 0)).setUint8(0, 1)
  await db.deleteFile('m')
  await assert.rejects(c2.commit(), { code: 'ECONFLICT' })
  await c2.abort()
  assert.equal(m2.gone, true)
  await db.close()
})

storageTest('many connections committing in turn: every committed value is seen after sync', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  await db.createFile('f', { blksize: PS })
  const conns = await Promise.all(
    Array.from({ length: 4 }, async () => {
      const c = db.connect({ ram: ram(8) })
      return { c, v: (await c.open('f')).mmap(0, 8) }
    }),
  )
  let expected = 0
  for (let round = 0; round < 20; round++) {
    const { c, v } = conns[round % 4]
    await c.sync()
    assert.equal(
      (await faulted(v, (round % 8) * PS)).getFloat64((round % 8) * PS),
      round >= 8 ? round - 8 : 0,
    )
    ;(await faulted(v, (round % 8) * PS)).setFloat64((round % 8) * PS, round)
    await c.commit()
    expected = round
  }
  const { c, v } = conns[1]
  await c.sync()
  assert.equal((await faulted(v, (expected % 8) * PS)).getFloat64((expected % 8) * PS), expected)
  await db.close()
})

storageTest(
  'conflicts are page-granular when blksize < pagesize: different blocks of one page conflict',
  async (t, s) => {
    const BS = 4096
    const db = await openDatabase(await s.location(t))
    await db.createFile('f', { blksize: BS })
    const c1 = db.connect({ ram: ram() })
    const c2 = db.connect({ ram: ram() })
    const v1 = (await c1.open('f')).mmap(0, 1)
    const v2 = (await c2.open('f')).mmap(0, 1)
    ;(await faulted(v1, 0)).setUint8(0, 1) // block 0
    ;(await faulted(v2, 0)).setUint8(5 * BS, 2) // block 5, same page
    await c1.commit()
    const err = await c2.commit().then(
      () => assert.fail('expected a conflict'),
      (e: unknown) => e,
    )
    assert.ok(err instanceof ConflictError)
    // Writeout stores every block of a dirty page: both commits wrote blocks 0..15.
    assert.deepEqual(
      err.blocks,
      Array.from({ length: PS / BS }, (_, i) => i),
    )
    await c2.abort()
    assert.equal((await faulted(v2, 0)).getUint8(0), 1)
    assert.equal((await faulted(v2, 0)).getUint8(5 * BS), 0)
    ;(await faulted(v2, 0)).setUint8(5 * BS, 2)
    await c2.commit()
    await c1.sync()
    assert.equal((await faulted(v1, 0)).getUint8(0), 1)
    assert.equal((await faulted(v1, 0)).getUint8(5 * BS), 2)
    await db.close()
  },
)
