// The commit's round trips on PostgreSQL: a writer at the head sends BEGIN, the lock, its blocks, the
// log, the NOTIFY and COMMIT in one; a stale guess of the head (another process committed unheard)
// falls back to BEGIN and the real conflict check, and still commits or conflicts as it must.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { openPostgres } from '../../src/db/postgres/index.ts'
import { faulted, postgres, postgresEnabled } from '../helpers/storages.ts'
import { PS, ram } from './helpers.ts'

const skip = !postgresEnabled && 'BIGFILE_TEST_POSTGRES=0'

test('a lone writer at the head: one round trip to commit a block, one to move its snapshot', {
  skip,
}, async (t) => {
  const url = await postgres.location(t)
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  t.after(() => pool.end())
  let queries = 0
  pool.on('connect', (c) => {
    const query = c.query.bind(c) as (...a: unknown[]) => unknown
    ;(c as unknown as { query: unknown }).query = (...a: unknown[]) => {
      queries++
      return query(...a)
    }
  })
  const db = await openPostgres({ pool })
  t.after(() => db.close())
  const conn = db.connect({ ram: ram() })
  const v = (await conn.open('f', { create: { blksize: PS } })).mmap(0, 4)
  ;(await faulted(v, 0)).setFloat64(0, 1)
  await conn.commit() // creates the file: the storage learns its blksize
  for (let i = 2; i <= 4; i++) {
    ;(await faulted(v, PS)).setFloat64(PS, i)
    const before = queries
    assert.equal(await conn.commit(), i)
    assert.equal(queries - before, 2, `commit ${i}: the pipelined commit, then the log read of the move`)
  }
  v.unmap()
  conn.close()
  // a fresh Database: opening the file tells it the blksize, so its first commit is one round trip too
  const db2 = await openPostgres({ pool })
  t.after(() => db2.close())
  const c2 = db2.connect({ ram: ram() })
  const v2 = (await c2.open('f')).mmap(0, 4)
  ;(await faulted(v2, 2 * PS)).setFloat64(2 * PS, 5)
  const before = queries
  assert.equal(await c2.commit(), 5)
  assert.equal(queries - before, 2)
  v2.unmap()
  c2.close()
})

test('a stale guess of the head: the commit goes through on other blocks, conflicts on the same', {
  skip,
}, async (t) => {
  const url = await postgres.location(t)
  // A hears nothing (listen: false): its guess of the head stays behind B's commits
  const a = await openPostgres(url, { listen: false })
  const b = await openPostgres(url)
  t.after(async () => {
    await a.close()
    await b.close()
  })
  const ca = a.connect({ ram: ram() })
  const va = (await ca.open('f', { create: { blksize: PS } })).mmap(0, 4)
  for (let pg = 0; pg < 4; pg++) (await faulted(va, pg * PS)).setFloat64(pg * PS, 1)
  assert.equal(await ca.commit(), 1)
  ;(await faulted(va, 0)).setFloat64(0, 2)
  assert.equal(await ca.commit(), 2) // the storage knows blksize and head now
  const cb = b.connect({ ram: ram() })
  await cb.sync()
  const vb = (await cb.open('f')).mmap(0, 4)
  // B commits block 3; A, at tid 2 and not told, writes block 1: no conflict, tid 4 (3 was B's)
  ;(await faulted(vb, 3 * PS)).setFloat64(3 * PS, 30)
  assert.equal(await cb.commit(), 3)
  ;(await faulted(va, PS)).setFloat64(PS, 10)
  assert.equal(await ca.commit(), 4)
  assert.equal((await faulted(va, 3 * PS)).getFloat64(3 * PS), 30, "A moved past B's commit")
  // B commits block 2 again unheard; A writes block 2 too: ConflictError as itself, pages stay dirty
  await cb.sync()
  ;(await faulted(vb, 2 * PS)).setFloat64(2 * PS, 20)
  assert.equal(await cb.commit(), 5)
  ;(await faulted(va, 2 * PS)).setFloat64(2 * PS, 21)
  await assert.rejects(ca.commit(), { code: 'ECONFLICT', blocks: [2] })
  assert.equal(ca.hasChanges(), true)
  await ca.abort()
  assert.equal((await faulted(va, 2 * PS)).getFloat64(2 * PS), 20)
  // and a commit after it works
  ;(await faulted(va, 0)).setFloat64(0, 3)
  assert.equal(await ca.commit(), 6)
  const check = b.connect({ ram: ram() })
  await check.sync()
  const vc = (await check.open('f')).mmap(0, 4)
  const got: number[] = []
  for (let pg = 0; pg < 4; pg++) got.push((await faulted(vc, pg * PS)).getFloat64(pg * PS))
  assert.deepEqual(got, [3, 10, 20, 30])
  for (const m of [va, vb, vc]) m.unmap()
})
