// conn.transaction(fn, { retries }) as lmdb-js, better-sqlite3 and pglite users expect it, and AbortSignal
// on openDatabase, conn.open and commit.
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { BigArray, type Connection, openDatabase } from '../../src/index.ts'
import { type StorageKind, storageTest } from '../helpers/storages.ts'
import { ram } from './helpers.ts'

async function setup(t: TestContext, s: StorageKind) {
  const db = await openDatabase(await s.location(t))
  t.after(() => db.close())
  const c0 = db.connect({ ram: ram() })
  await BigArray.create(c0, 'counter', { dtype: 'int64', shape: [1] })
  await c0.commit()
  return db
}

/** Reads the counter, lets `between` run (another writer), then writes counter + 1. */
async function increment(conn: Connection, between: () => Promise<void> = async () => {}) {
  const a = await BigArray.open(conn, 'counter', { dtype: 'int64' })
  const v = (await a.getAsync(0)) as bigint
  await between()
  await a.setAsync(0, v + 1n)
  return v + 1n
}

storageTest('transaction commits at the end and answers what the function returned', async (t, s) => {
  const db = await setup(t, s)
  const c = db.connect({ ram: ram() })
  const before = c.at
  assert.equal(await c.transaction((conn) => increment(conn)), 1n)
  assert.equal(c.at, before + 1)
  assert.equal(c.hasChanges(), false)
  const other = db.connect({ ram: ram() })
  assert.equal(await (await BigArray.open(other, 'counter')).getAsync(0), 1n)
})

storageTest('transaction aborts on a thrown error and rethrows it; nothing is committed', async (t, s) => {
  const db = await setup(t, s)
  const c = db.connect({ ram: ram() })
  const boom = new Error('boom')
  await assert.rejects(
    c.transaction(async (conn) => {
      await increment(conn)
      throw boom
    }),
    (e) => e === boom,
  )
  assert.equal(c.hasChanges(), false)
  assert.equal(await (await BigArray.open(c, 'counter')).getAsync(0), 0n)
})

storageTest(
  'a real conflict between two connections: the loser aborts and runs again, seeing the winner',
  async (t, s) => {
    const db = await setup(t, s)
    const c1 = db.connect({ ram: ram() })
    const c2 = db.connect({ ram: ram() })
    let attempts = 0
    const r = await c1.transaction(
      (conn) =>
        increment(conn, async () => {
          // First attempt only: c2 commits its own increment between c1's read and c1's write.
          if (attempts++ === 0) assert.equal(await c2.transaction((other) => increment(other)), 1n)
        }),
      { retries: 3 },
    )
    assert.equal(attempts, 2, 'the ConflictError made the function run again')
    assert.equal(r, 2n, 'the retry read the winner’s value')
    const check = db.connect({ ram: ram() })
    assert.equal(await (await BigArray.open(check, 'counter')).getAsync(0), 2n)
  },
)

storageTest(
  'retries exhausted: the ConflictError is thrown and the connection is left clean',
  async (t, s) => {
    const db = await setup(t, s)
    const c1 = db.connect({ ram: ram() })
    const c2 = db.connect({ ram: ram() })
    let attempts = 0
    await assert.rejects(
      c1.transaction(
        (conn) =>
          increment(conn, async () => {
            attempts++
            await c2.transaction((other) => increment(other))
          }),
        { retries: 2 },
      ),
      { code: 'ECONFLICT' },
    )
    assert.equal(attempts, 3, 'one run and two retries')
    assert.equal(c1.hasChanges(), false)
    assert.equal(
      await (await BigArray.open(c1, 'counter')).getAsync(0),
      3n,
      'only the winner’s commits count',
    )
  },
)

storageTest('transaction refuses bad arguments and a connection with uncommitted changes', async (t, s) => {
  const db = await setup(t, s)
  const c = db.connect({ ram: ram() })
  await assert.rejects(
    c.transaction(async () => {}, { retries: -1 }),
    { code: 'EINVAL' },
  )
  await assert.rejects(
    c.transaction(async () => {}, { retries: 1.5 }),
    { code: 'EINVAL' },
  )
  await assert.rejects(c.transaction(null as unknown as () => void), { code: 'EINVAL' })
  await increment(c)
  await assert.rejects(
    c.transaction(async () => {}),
    { code: 'EBUSY' },
  )
  await c.abort()
  await assert.rejects(
    c.transaction((conn) => increment(conn), { signal: AbortSignal.abort() }),
    { code: 'EABORT' },
  )
})

storageTest(
  'AbortSignal: openDatabase, conn.open and commit give up with EABORT; an aborted commit rolls back',
  async (t, s) => {
    await assert.rejects(openDatabase(await s.location(t), { signal: AbortSignal.abort() }), {
      code: 'EABORT',
    })
    const db = await setup(t, s)
    const c = db.connect({ ram: ram() })
    await assert.rejects(c.open('counter', { signal: AbortSignal.abort() }), { code: 'EABORT' })
    await increment(c)
    const head = c.at
    await assert.rejects(c.commit({ signal: AbortSignal.abort() }), { code: 'EABORT' })
    assert.equal(c.hasChanges(), true, 'the pages stay dirty: commit again or abort')
    assert.equal(await db.head(), head, 'nothing was written')
    // Aborted after begin: the storage transaction is rolled back, the next commit works.
    const ac = new AbortController()
    const storage = c.storage
    const begin = storage.begin.bind(storage)
    storage.begin = async () => {
      const txn = await begin()
      ac.abort()
      return txn
    }
    await assert.rejects(c.commit({ signal: ac.signal }), { code: 'EABORT' })
    storage.begin = begin
    assert.equal(await db.head(), head)
    assert.equal(await c.commit(), head + 1)
  },
)
