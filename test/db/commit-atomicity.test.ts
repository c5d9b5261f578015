// Regressions found in review: a commit must be atomic with respect to other tasks of the process.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { openDatabase, SQLiteStorage } from '../../src/index.ts'
import { faulted, storageTest } from '../helpers/storages.ts'
import { PS, ram, reclaimAll, tmpDir } from './helpers.ts'

storageTest('a write while a commit runs is refused; nothing is marked stored unstored', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  const r = ram()
  const conn = db.connect({ ram: r })
  for (let k = 0; k < 12; k++) {
    // a new file each time: its creation adds awaits to the commit, widening the window
    const fh = await conn.open(`a${k}`, { create: { blksize: PS, size: PS } })
    const vma = fh.mmap(0, 1)
    ;(await faulted(vma, 0)).setFloat64(0, 1)
    // another task tries to write k microtask turns into the commit
    const writer = (async () => {
      for (let i = 0; i < k; i++) await null
      try {
        ;(await faulted(vma, 0)).setFloat64(0, 100 + k)
        return 'written'
      } catch (e) {
        return (e as { code?: string }).code
      }
    })()
    await conn.commit()
    const outcome = await writer
    if (outcome !== 'written') assert.equal(outcome, 'EBUSY', `k=${k}`)
    const mem = (await faulted(vma, 0)).getFloat64(0)
    if (conn.hasChanges()) await conn.commit() // a write that landed after the commit ended
    reclaimAll(r)
    assert.equal((await faulted(vma, 0)).getFloat64(0), mem, `k=${k}: what memory showed is what is stored`)
    vma.unmap()
  }
  await db.close()
})

storageTest('setMeta and resize while a commit runs are refused', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  const conn = db.connect({ ram: ram() })
  const fh = await conn.open('a', { create: { blksize: PS, size: PS } })
  ;(await faulted(fh.mmap(0, 1), 0)).setFloat64(0, 1)
  const c = conn.commit()
  assert.throws(() => fh.setMeta({ x: 1 }), { code: 'EBUSY' })
  await assert.rejects(fh.resize(2 * PS), { code: 'EBUSY' })
  await c
  fh.setMeta({ x: 2 })
  await conn.commit()
  assert.deepEqual(fh.meta, { x: 2 })
  await db.close()
})

storageTest('a shrink by one connection conflicts with writes past the new end by another', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  await db.createFile('a', { blksize: PS, size: 4 * PS }) // blocks never written
  const r = ram()
  const A = db.connect({ ram: r })
  const B = db.connect({ ram: r })
  const fa = await A.open('a')
  const fb = await B.open('a')
  await fa.resize(0)
  const vb = fb.mmap(2, 1)
  ;(await faulted(vb, 0)).setFloat64(0, 123)
  await A.commit()
  await assert.rejects(B.commit(), { code: 'ECONFLICT', blocks: [2] })
  vb.unmap()
  await B.abort()
  const C = db.connect({ ram: r })
  const fc = await C.open('a')
  assert.equal(fc.size, 0)
  await fc.resize(4 * PS)
  await C.commit()
  assert.equal((await faulted(fc.mmap(2, 1), 0)).getFloat64(0), 0, 'nothing comes back past a shrink')
  await db.close()
})

test('writers queued behind a transaction wake with ClosedError when the storage closes', async (t) => {
  const s = SQLiteStorage.open(join(tmpDir(t), 's.bigfile'))
  const t1 = s.begin() as { rollback(): unknown }
  const p2 = s.begin() as Promise<unknown>
  const p3 = s.begin() as Promise<unknown>
  s.close()
  t1.rollback()
  await assert.rejects(p2, { code: 'ECLOSED' })
  await assert.rejects(p3, { code: 'ECLOSED' })
})
