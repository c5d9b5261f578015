import assert from 'node:assert/strict'
import { openDatabase } from '../../src/db/index.ts'
import { StaleSnapshotError } from '../../src/errors.ts'
import { faulted, storageTest } from '../helpers/storages.ts'
import { PS, ram, reclaimAll } from './helpers.ts'

storageTest('pack keeps every snapshot at >= cutoff readable and removes the rest', async (t, s) => {
  const path = await s.location(t)
  const db = await openDatabase(path)
  const w = db.connect({ ram: ram() })
  const f = await w.open('f', { create: { blksize: PS } })
  const v = f.mmap(0, 4)
  for (let i = 1; i <= 5; i++) {
    ;(await faulted(v, 0)).setFloat64(0, i)
    if (i % 2) (await faulted(v, PS)).setFloat64(PS, i)
    await w.commit()
  }
  // tid 1..5: block 0 = i, block 1 = 1, 3, 5 at tids 1, 3, 5
  const r = ram()
  const old = db.connect({ ram: r })
  assert.equal(old.at, 5)
  const res = await db.pack({ keep: 2 }) // cutoff = 3
  assert.equal(res.cutoff, 3)
  assert.equal(res.head, 5)
  // the log keeps the cutoff's own entry; its time still finds it; older ones are gone
  const log = await db.log()
  assert.deepEqual(
    log.map((c) => c.tid),
    [5, 4, 3],
  )
  assert.equal(await db.storage.tidAt(log[2].time), 3)
  assert.equal(await db.storage.packed(), 3)
  assert.equal(res.blocksRemoved, 3) // block 0 at tids 1, 2; block 1 at tid 1
  // a second process at tid 3 still reads its snapshot; one at tid 2 is stale
  const other = await openDatabase(path)
  const probe = async (at: number, blk: number) => {
    const buf = new Uint8Array(PS)
    await other.storage.loadBlock(f.id as number, blk, at, buf)
    return new DataView(buf.buffer).getFloat64(0, true)
  }
  assert.equal(await probe(3, 0), 3)
  assert.equal(await probe(3, 1), 3)
  assert.equal(await probe(4, 1), 3)
  await assert.rejects(probe(2, 0), StaleSnapshotError)
  assert.equal(await other.storage.changes(2, 5), null)
  await other.close()

  // this process's connections are protected: the cutoff never passes their `at`
  await db.deleteFile('f')
  const res2 = await db.pack()
  assert.equal(res2.cutoff, 5)
  const rf = await old.open('f')
  const rv = rf.mmap(0, 2)
  reclaimAll(r)
  assert.equal((await faulted(rv, 0)).getFloat64(0), 5)
  rv.unmap()
  old.close()
  v.unmap()
  w[Symbol.dispose]()
  const res3 = await db.pack()
  assert.equal(res3.cutoff, 6)
  assert.ok(res3.blocksRemoved >= 2, 'a deleted file is removed whole')
  assert.deepEqual(await db.files(), [])
  await db.close()
})

storageTest(
  'a connection whose history was packed away by another process reloads everything at sync',
  async (t, s) => {
    const path = await s.location(t)
    const db = await openDatabase(path)
    const c = db.connect({ ram: ram() })
    const f = await c.open('f', { create: { blksize: PS } })
    const v = f.mmap(0, 1)
    ;(await faulted(v, 0)).setFloat64(0, 1)
    await c.commit()
    const other = await openDatabase(path)
    const oc = other.connect({ ram: ram() })
    const ov = (await oc.open('f')).mmap(0, 1)
    ;(await faulted(ov, 0)).setFloat64(0, 2)
    await oc.commit()
    ;(await faulted(ov, 0)).setFloat64(0, 3)
    await oc.commit()
    ov.unmap()
    oc.close()
    await other.pack()
    assert.equal((await faulted(v, 0)).getFloat64(0), 1, 'still resident from its snapshot')
    await c.sync()
    assert.equal((await faulted(v, 0)).getFloat64(0), 3)
    await other.close()
    await db.close()
  },
)
