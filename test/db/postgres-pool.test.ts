// openPostgres with a pool of the user's (`{ pool }`) and with pg connection options.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { openPostgres } from '../../src/db/postgres/index.ts'
import type { PostgresStorage } from '../../src/db/postgres/storage.ts'
import { PASSWORD } from '../helpers/postgres.ts'
import { faulted, pgServer, postgres, postgresEnabled } from '../helpers/storages.ts'
import { PS, ram } from './helpers.ts'

const skip = !postgresEnabled && 'BIGFILE_TEST_POSTGRES=0'

/** Backends of database `db` that run LISTEN, by pid. */
async function listeners(db: string): Promise<number[]> {
  const rows = await (await pgServer()).admin<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'`,
    [db],
  )
  return rows.map((r) => r.pid)
}

test('a pool of the user: used for loads and commits, connections returned, LISTEN on a client of its own, not ended by close', {
  skip,
}, async (t) => {
  const url = await postgres.location(t)
  const dbname = new URL(url).pathname.slice(1)
  const pool = new pg.Pool({ connectionString: url, max: 3 })
  t.after(() => pool.end())
  const db = await openPostgres({ pool })
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('f', { create: { blksize: PS } })
  const v = f.mmap(0, 8)
  for (let pg = 0; pg < 8; pg++) (await faulted(v, pg * PS)).setFloat64(pg * PS, pg + 1)
  assert.equal(await conn.commit(), 1, 'tids are numbers from the user pool too (int8 parsed by us)')
  ;(await faulted(v, 0)).setFloat64(0, 10)
  assert.equal(await conn.commit(), 2)
  // every page read back through the user's pool (at most 3 connections)
  const c2 = db.connect({ ram: ram() })
  const v2 = (await c2.open('f')).mmap(0, 8)
  await v2.fault(0, 8 * PS)
  for (let pg = 0; pg < 8; pg++) assert.equal(v2.getFloat64(pg * PS), pg === 0 ? 10 : pg + 1)
  assert.ok(pool.totalCount <= 3, `the pool's bound holds (${pool.totalCount})`)
  assert.equal(pool.idleCount, pool.totalCount, 'every connection is back in the pool')
  assert.equal(pool.waitingCount, 0)
  // LISTEN runs on a dedicated client, not one of the pool's
  const storage = db.storage as PostgresStorage
  const lpid = storage.listener?.pid
  assert.ok(lpid !== undefined)
  assert.deepEqual(await listeners(dbname), [lpid])
  const poolPids = await Promise.all(
    Array.from({ length: pool.totalCount }, async () => {
      const c = await pool.connect()
      const pid = (c as unknown as { processID: number }).processID
      return { c, pid }
    }),
  )
  for (const { c, pid } of poolPids) {
    assert.notEqual(pid, lpid)
    c.release()
  }
  // pushes arrive: another Database commits
  const heard: number[] = []
  db.on('commit', (tid) => heard.push(tid))
  const other = await openPostgres(url)
  await other.createFile('g', { blksize: PS })
  await other.close()
  for (let i = 0; i < 200 && !heard.includes(3); i++) await new Promise((r) => setTimeout(r, 10))
  assert.deepEqual(heard, [3])
  v.unmap()
  v2.unmap()
  conn.close()
  c2.close()
  await db.close()
  // the pool is the user's: still open, its clients parse int8 as pg does by default (a string)
  assert.equal(pool.ended, false)
  assert.deepEqual((await pool.query('SELECT 7::int8 AS x')).rows, [{ x: '7' }])
  for (let i = 0; i < 100 && (await listeners(dbname)).length > 0; i++)
    await new Promise((r) => setTimeout(r, 10))
  assert.deepEqual(await listeners(dbname), [], 'the LISTEN client is closed')
})

test('pg connection options instead of a URL', { skip }, async (t) => {
  const url = new URL(await postgres.location(t))
  const db = await openPostgres(
    {
      host: url.hostname,
      port: Number(url.port),
      user: 'postgres',
      password: PASSWORD,
      database: url.pathname.slice(1),
    },
    { poolSize: 2 },
  )
  t.after(() => db.close())
  const rec = await db.createFile('f', { blksize: PS, size: PS })
  assert.equal(rec.tid, 1)
  assert.equal(
    (db.storage as PostgresStorage).where,
    `postgres://postgres@${url.hostname}:${url.port}${url.pathname}`,
  )
  await assert.rejects(
    openPostgres({
      host: url.hostname,
      port: Number(url.port),
      user: 'postgres',
      password: 'wrong',
      database: 'postgres',
    }),
    {
      code: 'EAUTH',
    },
  )
})
