import assert from 'node:assert/strict'
import { statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { openDatabase } from '../../src/db/index.ts'
import { PS, ram, tmpDir } from './helpers.ts'

async function makeDb(path: string): Promise<void> {
  const db = await openDatabase(path)
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('f', { create: { blksize: PS } })
  const v = f.mmap(0, 16)
  for (let pg = 0; pg < 16; pg++) v.setFloat64(pg * PS, pg)
  v.unmap()
  await conn.commit()
  await db.close()
}

test('a file that is not a database is CorruptError', async (t) => {
  const dir = tmpDir(t)
  const text = join(dir, 'text.bigfile')
  writeFileSync(text, 'hello, this is not a database\n'.repeat(100))
  await assert.rejects(openDatabase(text), { code: 'ECORRUPT', message: /not a bigfile database/ })
  const short = join(dir, 'short.bigfile')
  writeFileSync(short, 'SQLite')
  await assert.rejects(openDatabase(short), { code: 'ECORRUPT' })
  const other = join(dir, 'other.sqlite')
  const s = new DatabaseSync(other)
  s.exec('CREATE TABLE t (x)')
  s.close()
  await assert.rejects(openDatabase(other), {
    code: 'ECORRUPT',
    message: /SQLite database, but not a bigfile database/,
  })
})

test('a truncated database is CorruptError', async (t) => {
  const dir = tmpDir(t)
  for (const cut of [0.5, 0.9]) {
    const path = join(dir, `t${cut}.bigfile`)
    await makeDb(path)
    const size = statSync(path).size
    truncateSync(path, Math.floor((size * cut) / 4096) * 4096)
    await assert.rejects(openDatabase(path), { code: 'ECORRUPT', message: /truncated/ })
  }
  const odd = join(dir, 'odd.bigfile')
  await makeDb(odd)
  truncateSync(odd, statSync(odd).size - 1000)
  await assert.rejects(openDatabase(odd), { code: 'ECORRUPT', message: /truncated/ })
})

test('missing file with create: false, a directory, bad options', async (t) => {
  const dir = tmpDir(t)
  await assert.rejects(openDatabase(join(dir, 'nope.bigfile'), { create: false }), { code: 'ENOENT' })
  await assert.rejects(
    openDatabase(dir),
    (e: { code?: string }) => e.code === 'ESTORAGE' || e.code === 'ECORRUPT',
  )
  await assert.rejects(openDatabase(''), { code: 'EINVAL' })
  await assert.rejects(openDatabase(join(dir, 'x'), { synchronous: 'off' as never }), { code: 'EINVAL' })
  await assert.rejects(openDatabase(join(dir, 'x'), { busyTimeoutMs: -1 }), { code: 'EINVAL' })
})

test('closed database and connection are ClosedError', async (t) => {
  const db = await openDatabase(join(tmpDir(t), 'c.bigfile'))
  const conn = db.connect({ ram: ram() })
  conn.close()
  await assert.rejects(conn.open('f', { create: { blksize: PS } }), { code: 'ECLOSED' })
  await db.close()
  assert.throws(() => db.connect({ ram: ram() }), { code: 'ECLOSED' })
  await assert.rejects(db.files(), { code: 'ECLOSED' })
})
