// Server faults on PostgreSQL, each real: a backend terminated (pg_terminate_backend) during loads,
// at every step of a commit (count-based: trial k kills at the k-th storage call) and during COMMIT;
// a server restart; wrong credentials; a refused connection; a statement timeout. Every failure is a
// typed BigFileError, nothing is torn, and the Database goes on working.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { openPostgres } from '../../src/db/postgres/open.ts'
import type { PostgresStorage } from '../../src/db/postgres/storage.ts'
import type { StorageTxn } from '../../src/db/storage.ts'
import { BigFileError, type Database, openDatabase } from '../../src/index.ts'
import { freePort } from '../helpers/postgres.ts'
import { faulted, pgServer, postgres, postgresEnabled } from '../helpers/storages.ts'
import { PS, ram, reclaimAll } from './helpers.ts'

const skip = !postgresEnabled && 'BIGFILE_TEST_POSTGRES=0'
const PAGES = 8

function dbName(url: string): string {
  return new URL(url).pathname.slice(1)
}

/** The pids of `db`'s pool connections (not the LISTEN one). */
function notListener(db: Database): string {
  const pid = (db.storage as PostgresStorage).listener?.pid ?? 0
  return `pid <> ${pid}`
}

/** Writes value `x` into the first float64 of every page of file 'f' and commits. */
async function fill(db: Database, x: number): Promise<void> {
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('f', { create: { blksize: PS, size: PAGES * PS } })
  const v = f.mmap(0, PAGES)
  for (let pg = 0; pg < PAGES; pg++) (await faulted(v, pg * PS)).setFloat64(pg * PS, x)
  await conn.commit()
  v.unmap()
  conn.close()
}

/** Every page's first float64, read by a fresh connection at the newest snapshot. */
async function values(db: Database): Promise<number[]> {
  const conn = db.connect({ ram: ram() })
  await conn.sync()
  const v = (await conn.open('f')).mmap(0, PAGES)
  const out: number[] = []
  for (let pg = 0; pg < PAGES; pg++) out.push((await faulted(v, pg * PS)).getFloat64(pg * PS))
  v.unmap()
  conn.close()
  return out
}

function assertTyped(e: unknown, codes: string[]): void {
  assert.ok(e instanceof BigFileError, `a BigFileError, got ${String(e)}`)
  let inner: unknown = e
  while (inner instanceof BigFileError && (inner.code === 'ELOAD' || inner.code === 'ESTORE'))
    inner = inner.cause
  assert.ok(
    inner instanceof BigFileError && codes.includes(inner.code),
    `one of ${codes}, got ${String(inner)}`,
  )
  assert.ok(inner.cause !== undefined || inner.code === 'ECONFLICT', 'the driver error is kept as cause')
}

test('wrong password, refused connection: typed errors with the cause', { skip }, async () => {
  const server = await pgServer()
  await assert.rejects(openDatabase(server.url('postgres', 'wrong')), (e) => {
    assertTyped(e, ['EAUTH'])
    return true
  })
  await assert.rejects(openDatabase(`postgres://postgres:x@127.0.0.1:${await freePort()}/postgres`), (e) => {
    assertTyped(e, ['ECONNECTION'])
    return true
  })
})

test('a statement held past statement_timeout is a TimeoutError; the next commit goes through', {
  skip,
}, async (t) => {
  const server = await pgServer()
  const url = await postgres.location(t)
  const db = await openPostgres(url, { statementTimeoutMs: 300 })
  t.after(() => db.close())
  await fill(db, 1)
  // Another client holds the write lock (the head row) longer than the timeout.
  const holder = new pg.Client({ connectionString: url })
  await holder.connect()
  await holder.query('BEGIN')
  await holder.query(`SELECT value FROM bigfile.meta WHERE key = 'head' FOR UPDATE`)
  const conn = db.connect({ ram: ram() })
  await conn.sync()
  const v = (await conn.open('f')).mmap(0, 1)
  ;(await faulted(v, 0)).setFloat64(0, 2)
  await assert.rejects(conn.commit(), (e) => {
    assertTyped(e, ['ETIMEOUT'])
    return true
  })
  await holder.query('ROLLBACK')
  await holder.end()
  assert.equal(await conn.commit(), 2)
  assert.deepEqual(await values(db), [2, 1, 1, 1, 1, 1, 1, 1])
  v.unmap()
  void server
})

test('backends terminated during loads: each fault retries or fails typed; reads stay right', {
  skip,
}, async (t) => {
  const server = await pgServer()
  const url = await postgres.location(t)
  const db = await openDatabase(url)
  t.after(() => db.close())
  await fill(db, 7)
  const st = db.storage as PostgresStorage
  const load = st.loadBlock.bind(st)
  const r = ram(PAGES)
  const conn = db.connect({ ram: r })
  await conn.sync()
  const v = (await conn.open('f')).mmap(0, PAGES)
  let failures = 0
  for (let k = 1; k <= PAGES; k++) {
    reclaimAll(r)
    let calls = 0
    let kill: Promise<number> | undefined
    st.loadBlock = (file, blk, at, buf) => {
      // Trial k: the k-th load starts a termination of every pool backend, racing the loads in flight.
      if (++calls === k) kill = server.terminate(dbName(url), notListener(db))
      return load(file, blk, at, buf)
    }
    const got = await Promise.allSettled(
      Array.from({ length: PAGES }, async (_, pg) => (await faulted(v, pg * PS)).getFloat64(pg * PS)),
    )
    await kill
    st.loadBlock = load
    for (const g of got) {
      if (g.status === 'fulfilled') assert.equal(g.value, 7)
      else {
        failures++
        assertTyped(g.reason, ['ECONNECTION'])
      }
    }
    for (let pg = 0; pg < PAGES; pg++) assert.equal((await faulted(v, pg * PS)).getFloat64(pg * PS), 7)
  }
  t.diagnostic(`${failures} of ${PAGES * PAGES} loads failed (typed); the rest retried on a new connection`)
  v.unmap()
})

test('a backend terminated at each step of a commit: typed error, old state whole, the next commit works', {
  skip,
}, async (t) => {
  const server = await pgServer()
  const url = await postgres.location(t)
  const db = await openDatabase(url)
  t.after(() => db.close())
  await fill(db, 1)
  const st = db.storage as PostgresStorage
  const begin = st.begin.bind(st)
  const conn = db.connect({ ram: ram() })
  await conn.sync()
  const v = (await conn.open('f')).mmap(0, PAGES)
  let value = 1
  // Steps: PAGES block writes, then commit(): trial k kills the transaction's backend before step k.
  for (let k = 1; k <= PAGES + 1; k++) {
    let calls = 0
    st.begin = async () => {
      const txn = (await begin()) as StorageTxn & { pid: number }
      const step = async () => {
        if (++calls === k) assert.equal(await server.terminate(dbName(url), `pid = ${txn.pid}`), 1)
      }
      return {
        tid: txn.tid,
        checkConflicts: (at, touched) => txn.checkConflicts(at, touched),
        createFile: (s) => txn.createFile(s),
        updateFile: (f, p) => txn.updateFile(f, p),
        deleteFile: (f) => txn.deleteFile(f),
        dropBlocks: (f, b) => txn.dropBlocks(f, b),
        writeBlock: async (f, b, d) => {
          await step()
          return txn.writeBlock(f, b, d)
        },
        commit: async () => {
          await step()
          return txn.commit()
        },
        rollback: () => txn.rollback(),
      }
    }
    for (let pg = 0; pg < PAGES; pg++) (await faulted(v, pg * PS)).setFloat64(pg * PS, value + 1)
    await assert.rejects(conn.commit(), (e) => {
      assertTyped(e, ['ECONNECTION'])
      return true
    })
    st.begin = begin
    assert.deepEqual(await values(db), Array(PAGES).fill(value), `trial ${k}: the old state, whole`)
    // the pages stay dirty: the same commit goes through now
    await conn.commit()
    value++
    assert.deepEqual(await values(db), Array(PAGES).fill(value), `trial ${k}: the new state, whole`)
  }
  v.unmap()
})

test('a backend terminated during COMMIT: old or new state whole, and commit() says which', {
  skip,
}, async (t) => {
  const server = await pgServer()
  const url = await postgres.location(t)
  const db = await openDatabase(url)
  t.after(() => db.close())
  await fill(db, 1)
  const st = db.storage as PostgresStorage
  const begin = st.begin.bind(st)
  const conn = db.connect({ ram: ram() })
  await conn.sync()
  const v = (await conn.open('f')).mmap(0, PAGES)
  let value = 1
  const outcomes = { committed: 0, refused: 0 }
  // A connection of its own, open beforehand: the kill is then one round trip.
  const killer = new pg.Client({ connectionString: server.url() })
  await killer.connect()
  t.after(() => killer.end())
  for (let k = 0; k < 10; k++) {
    st.begin = async () => {
      const txn = (await begin()) as StorageTxn & { pid: number }
      const commit = txn.commit.bind(txn)
      txn.commit = async () => {
        // The kill races the log writes and COMMIT; trial k lets k² event-loop turns pass first.
        const kill = (async () => {
          for (let i = 0; i < k * k; i++) await new Promise((r) => setImmediate(r))
          await killer.query('SELECT pg_terminate_backend($1)', [txn.pid])
        })()
        try {
          await commit()
        } finally {
          await kill
        }
      }
      return txn
    }
    for (let pg = 0; pg < PAGES; pg++) (await faulted(v, pg * PS)).setFloat64(pg * PS, value + 1)
    const ok = await conn.commit().then(
      () => true,
      (e) => {
        assertTyped(e, ['ECONNECTION'])
        return false
      },
    )
    st.begin = begin
    const now = await values(db)
    if (ok) {
      outcomes.committed++
      value++
      assert.deepEqual(now, Array(PAGES).fill(value), `trial ${k}: committed means the new state`)
    } else {
      outcomes.refused++
      assert.deepEqual(now, Array(PAGES).fill(value), `trial ${k}: refused means the old state`)
      await conn.commit()
      value++
      assert.deepEqual(await values(db), Array(PAGES).fill(value))
    }
  }
  t.diagnostic(`COMMIT raced by a kill: ${outcomes.committed} committed, ${outcomes.refused} refused`)
  v.unmap()
})

const external = process.env.BIGFILE_TEST_POSTGRES_URL ? 'cannot restart an external server' : false

test('a server restart: typed errors at most, then the Database works again and its listener catches up', {
  skip: skip || external,
}, async (t) => {
  const server = await pgServer()
  const url = await postgres.location(t)
  const db = await openDatabase(url)
  const other = await openDatabase(url)
  t.after(async () => {
    await db.close()
    await other.close()
  })
  const heard: number[] = []
  other.on('commit', (tid) => heard.push(tid))
  await fill(db, 1)
  await server.restart()
  let value = 1
  let failures = 0
  for (let i = 0; i < 3; i++) {
    try {
      await fill(db, value + 1)
      value++
    } catch (e) {
      failures++
      assertTyped(e, ['ECONNECTION'])
    }
  }
  assert.ok(value >= 3, `commits go through again after the restart (${failures} failed first)`)
  assert.deepEqual(await values(other), Array(PAGES).fill(value))
  const head = await db.head()
  for (let i = 0; i < 400 && !heard.includes(head); i++) await new Promise((r) => setTimeout(r, 10))
  assert.equal(heard.at(-1), head, 'the other Database heard up to the head after its listener came back')
  assert.deepEqual(
    heard,
    [...new Set(heard)].sort((a, b) => a - b),
    'each commit once, in order',
  )
})

test('a statement of the pipelined commit that fails voids the rest: nothing committed, pages stay dirty, the next commit works', {
  skip,
}, async (t) => {
  const url = await postgres.location(t)
  const db = await openDatabase(url)
  t.after(() => db.close())
  await fill(db, 1) // tid 1
  const conn = db.connect({ ram: ram() })
  const v = (await conn.open('f')).mmap(0, PAGES)
  ;(await faulted(v, 0)).setFloat64(0, 2)
  // A row in the way of the commit's own block row (file 1, block 0, tid 2): its INSERT, the first
  // statement of the pipeline, fails on the primary key; the log, head, NOTIFY and COMMIT after it must not run.
  const raw = new pg.Client({ connectionString: url })
  await raw.connect()
  t.after(() => raw.end())
  await raw.query(`INSERT INTO bigfile.blocks (file_id, blk, tid, data, sum) VALUES (1, 0, 2, NULL, 0)`)
  const heard: number[] = []
  db.on('commit', (tid) => heard.push(tid))
  await assert.rejects(conn.commit(), (e: unknown) => {
    assertTyped(e, ['ESTORAGE'])
    return true
  })
  assert.equal(await db.head(), 1)
  assert.equal((await raw.query('SELECT count(*)::int AS n FROM bigfile.log')).rows[0].n, 1)
  assert.equal(conn.hasChanges(), true, 'the pages stay dirty')
  assert.deepEqual(await values(db), new Array(PAGES).fill(1))
  await raw.query('DELETE FROM bigfile.blocks WHERE tid = 2')
  assert.equal(await conn.commit(), 2)
  assert.deepEqual(await values(db), [2, ...new Array(PAGES - 1).fill(1)])
  for (let i = 0; i < 200 && !heard.includes(2); i++) await new Promise((r) => setTimeout(r, 5))
  assert.deepEqual(heard, [2], 'only the commit that happened was announced')
  v.unmap()
  conn.close()
})
