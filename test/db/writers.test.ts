// Waiting for the write lock never freezes the process: writers of one file in this process queue in JS,
// and another holder of SQLite's lock is waited for on timers. Count-based: the holder lets go after
// the waiting process's own timer has ticked N times, which it could not if the wait blocked.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { openDatabase } from '../../src/db/index.ts'
import { faulted, storageTest } from '../helpers/storages.ts'
import { PS, ram, tmpDir } from './helpers.ts'

const TICKS = 5

async function writeOne(db: Awaited<ReturnType<typeof openDatabase>>, name: string, value: number) {
  const conn = db.connect({ ram: ram(4) })
  const f = await conn.open(name, { create: { blksize: PS, size: PS } })
  const v = f.mmap(0, 1)
  ;(await faulted(v, 0)).setFloat64(0, value)
  v.unmap()
  return conn
}

storageTest(
  'two openDatabase() of one database commit at once: both succeed, in order, timers tick',
  async (t, s) => {
    const path = await s.location(t, 'two.db')
    // A short busy timeout: the old code blocked for all of it and then failed with ELOCKED (SQLite).
    const a = await openDatabase(path, { busyTimeoutMs: 1000 })
    const b = await openDatabase(path, { busyTimeoutMs: 1000 })
    t.after(async () => {
      await a.close()
      await b.close()
    })
    const ca = await writeOne(a, 'fa', 1)
    const cb = await writeOne(b, 'fb', 2)
    // a's commit holds the write lock across an await (a slow asynchronous step inside the transaction);
    // b's begin() must wait in the queue, not in SQLite's busy handler.
    const orig = a.storage.begin.bind(a.storage)
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    t.after(() => clearInterval(timer))
    a.storage.begin = async () => {
      const txn = await orig()
      const commit = txn.commit.bind(txn)
      txn.commit = async () => {
        const until = ticks + TICKS
        while (ticks < until) await new Promise((r) => setTimeout(r, 1))
        return commit()
      }
      return txn
    }
    const results = await Promise.all([ca.commit(), cb.commit()])
    assert.equal(results.length, 2)
    assert.ok(ticks >= TICKS)
    const check = await openDatabase(path, { readOnly: true })
    t.after(() => check.close())
    const files = (await check.files()).map((f) => [f.name, f.tid])
    // SQLite: a's begin takes the lock at once, b queues behind it. PostgreSQL: the two Databases race
    // for the head row lock in the server, so either may go first; each commits once, one after the other.
    if (s.name === 'sqlite') {
      assert.deepEqual(files, [
        ['fa', 1],
        ['fb', 2],
      ])
    } else assert.deepEqual(files.map((f) => f[1]).sort(), [1, 2])
  },
)

// SQLite only: SQLite's own file lock and busy handler (PostgreSQL's writers wait on a row lock in the
// server, which postgres-faults.test.ts covers with its statement timeout).
test('a lock held by another SQLite connection is waited for on timers, then the commit succeeds', async (t) => {
  const path = join(tmpDir(t), 'held.db')
  const db = await openDatabase(path, { busyTimeoutMs: 2000 })
  t.after(() => db.close())
  const conn = await writeOne(db, 'f', 1)
  // Another connection of SQLite's own (as another process would) holds the write lock.
  const other = new DatabaseSync(path)
  other.exec('BEGIN IMMEDIATE')
  let ticks = 0
  let released = false
  const timer = setInterval(() => {
    if (++ticks === TICKS) {
      other.exec('COMMIT')
      released = true
    }
  }, 1)
  t.after(() => {
    clearInterval(timer)
    if (other.isOpen) other.close()
  })
  await conn.commit()
  assert.ok(released, 'the commit went through only after the holder let go')
  assert.ok(ticks >= TICKS)
  other.close()
})

// SQLite only: busyTimeoutMs is SQLite's busy handler.
test('a lock held past busyTimeoutMs is ELOCKED, and the queue goes on afterwards', async (t) => {
  const path = join(tmpDir(t), 'timeout.db')
  const db = await openDatabase(path, { busyTimeoutMs: 50 })
  t.after(() => db.close())
  const conn = await writeOne(db, 'f', 1)
  const other = new DatabaseSync(path)
  other.exec('BEGIN IMMEDIATE')
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  t.after(() => clearInterval(timer))
  await assert.rejects(conn.commit(), { code: 'ELOCKED' })
  assert.ok(ticks > 0, 'timers ran while waiting')
  other.exec('ROLLBACK')
  other.close()
  await conn.commit()
  assert.equal((await db.stat('f')).tid, 1)
})

storageTest(
  'closing a database whose writer waits in the queue: it fails with ECLOSED, the other goes on',
  async (t, s) => {
    const path = await s.location(t, 'close.db')
    const a = await openDatabase(path)
    const b = await openDatabase(path)
    t.after(async () => {
      await a.close()
      await b.close()
    })
    const txn = await a.storage.begin()
    const waiting = b.storage.begin()
    assert.ok(waiting instanceof Promise)
    const refused = assert.rejects(waiting as Promise<unknown>, { code: 'ECLOSED' })
    await b.close()
    await refused
    await txn.rollback()
    // The turn came back: a third writer is not stuck behind the closed one.
    const c = await openDatabase(path)
    t.after(() => c.close())
    const t2 = await c.storage.begin()
    await t2.rollback()
  },
)
