// Database paths are paths: SQLite never reads one as a URI (`file:...`) or as ':memory:'.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { openDatabase } from '../../src/db/index.ts'
import { PS, ram, tmpDir } from './helpers.ts'

const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts')

function bigfile(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8' })
}

test("a path beginning with 'file:' is a file of that name, query string and all", async (t) => {
  const dir = tmpDir(t)
  const cwd = process.cwd()
  process.chdir(dir)
  t.after(() => process.chdir(cwd))
  // Not a URI: 'file:x.db' must not open x.db, and '?nolock=1' must not switch locking off.
  await assert.rejects(openDatabase('file:x.db', { create: false }), { code: 'ENOENT' })
  const name = 'file:n.db?nolock=1'
  const db = await openDatabase(name)
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('f', { create: { blksize: PS } })
  const v = f.mmap(0, 1)
  v.setFloat64(0, 42)
  v.unmap()
  await conn.commit()
  await db.close()
  // The database is the file and its segment directory (block images): nothing else.
  assert.deepEqual(readdirSync(dir).sort(), [name, `${name}-seg`])
  assert.ok(!existsSync(join(dir, 'n.db')))
  const again = await openDatabase(join(dir, name), { readOnly: true })
  assert.deepEqual(
    (await again.files()).map((x) => x.name),
    ['f'],
  )
  await again.close()
  // Percent signs and '#' stay themselves too.
  const odd = join(dir, 'a%20b#c?d.db')
  await (await openDatabase(odd)).close()
  assert.ok(existsSync(odd))
})

test("':memory:' is refused unless { memory: true } asks for it", async (t) => {
  const dir = tmpDir(t)
  const cwd = process.cwd()
  process.chdir(dir)
  t.after(() => process.chdir(cwd))
  await assert.rejects(openDatabase(':memory:'), { code: 'EINVAL', message: /memory: true/ })
  assert.deepEqual(readdirSync(dir), [])
  const db = await openDatabase(':memory:', { memory: true })
  await db.createFile('m', { blksize: PS })
  assert.deepEqual(
    (await db.files()).map((x) => x.name),
    ['m'],
  )
  await db.close()
  await assert.rejects(openDatabase('x.db', { memory: true }), { code: 'EINVAL' })
  await assert.rejects(openDatabase(':memory:', { memory: true, readOnly: true }), { code: 'EINVAL' })
  for (const bad of ['', 'a\0b', 42, null]) {
    await assert.rejects(openDatabase(bad as string), { code: 'EINVAL' })
  }
})

test('the CLI: ls file:x.db creates nothing, create file:n.db?nolock=1 makes exactly that file', (t) => {
  const dir = tmpDir(t)
  const ls = bigfile(dir, 'ls', 'file:x.db')
  assert.equal(ls.status, 3, ls.stderr)
  assert.deepEqual(readdirSync(dir), [])
  const mem = bigfile(dir, 'ls', ':memory:')
  assert.equal(mem.status, 2, mem.stderr)
  const c = bigfile(dir, 'create', 'file:n.db?nolock=1', 'a', '--dtype', 'float64', '--shape', '10', '-q')
  assert.equal(c.status, 0, c.stderr)
  assert.deepEqual(readdirSync(dir), ['file:n.db?nolock=1'])
  const l = bigfile(dir, 'ls', 'file:n.db?nolock=1', '--json')
  assert.equal(l.status, 0, l.stderr)
  assert.equal(JSON.parse(l.stdout)[0].name, 'a')
})

test('a dangling symbolic link at a new database path is refused, nothing created through it', async (t) => {
  const d = tmpDir(t)
  symlinkSync(join(d, 'victim.bigfile'), join(d, 'a.bigfile'))
  await assert.rejects(openDatabase(join(d, 'a.bigfile')), {
    code: 'ECORRUPT',
    message: /not a regular file/,
  })
  assert.equal(existsSync(join(d, 'victim.bigfile')), false)
  assert.deepEqual(readdirSync(d), ['a.bigfile'])
})
