// Read-only opens create, convert and write nothing; empty and non-database files are typed errors; a WAL
// database in a directory the reader cannot write still reads.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { pathToFileURL } from 'node:url'
import { openDatabase } from '../../src/db/index.ts'
import { faulted, storageTest } from '../helpers/storages.ts'
import { PS, ram, tmpDir } from './helpers.ts'

const ROOT = join(import.meta.dirname, '..', '..')
const MAIN = join(ROOT, 'src', 'cli', 'main.ts')
const NOBODY = 65534

async function makeDb(path: string, value = 7): Promise<void> {
  const db = await openDatabase(path)
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('f', { create: { blksize: PS, size: PS } })
  const v = f.mmap(0, 1)
  ;(await faulted(v, 8)).setFloat64(8, value)
  v.unmap()
  await conn.commit()
  await db.close()
}

// SQLite only: files and paths (PostgreSQL's readOnly without a schema: postgres-loads.test.ts).
test('readOnly: an empty file stays empty, /dev/null and a directory are ECORRUPT, a missing one ENOENT', async (t) => {
  const dir = tmpDir(t)
  const empty = join(dir, 'e.db')
  writeFileSync(empty, '')
  await assert.rejects(openDatabase(empty, { readOnly: true }), { code: 'ECORRUPT', message: /empty file/ })
  // Not creating either: an empty file is not turned into a database by a non-creating open.
  await assert.rejects(openDatabase(empty, { create: false }), { code: 'ECORRUPT' })
  assert.equal(statSync(empty).size, 0)
  await assert.rejects(openDatabase('/dev/null', { readOnly: true }), {
    code: 'ECORRUPT',
    message: /not a regular file/,
  })
  await assert.rejects(openDatabase(dir, { readOnly: true }), { code: 'ECORRUPT' })
  await assert.rejects(openDatabase(join(dir, 'missing.db'), { readOnly: true }), { code: 'ENOENT' })
  assert.deepEqual(readdirSync(dir), ['e.db'])
})

storageTest(
  'readOnly: reads, and every write (commit, createFile, pack) is EROFS with the data untouched',
  async (t, s) => {
    const path = await s.location(t, 'r.db')
    await makeDb(path)
    const before = s.name === 'sqlite' ? readFileSync(path) : undefined
    const db = await openDatabase(path, { readOnly: true })
    t.after(() => db.close())
    const conn = db.connect({ ram: ram() })
    const f = await conn.open('f')
    const v = f.mmap(0, 1)
    assert.equal((await faulted(v, 8)).getFloat64(8), 7)
    v.setFloat64(8, 8)
    v.unmap()
    await assert.rejects(conn.commit(), { code: 'EROFS' })
    await assert.rejects(db.createFile('g', { blksize: PS }), { code: 'EROFS' })
    await assert.rejects(db.pack(), { code: 'EROFS' })
    await assert.rejects(db.deleteFile('f'), { code: 'EROFS' })
    await conn.abort()
    await db.close()
    if (before) assert.deepEqual(readFileSync(path), before)
    // every storage: nothing committed, the value as it was
    const again = await openDatabase(path)
    t.after(() => again.close())
    assert.equal(await again.head(), 1)
    const c = again.connect({ ram: ram() })
    const w = (await c.open('f')).mmap(0, 1)
    assert.equal((await faulted(w, 8)).getFloat64(8), 7)
    w.unmap()
  },
)

// SQLite only: files and paths.
test('the CLI: ls/info/stats/check of an empty file or /dev/null is a clear error and converts nothing', (t) => {
  const dir = tmpDir(t)
  const empty = join(dir, 'e.db')
  writeFileSync(empty, '')
  for (const args of [['ls'], ['stats'], ['info', '@', 'a'], ['check']]) {
    for (const target of [empty, '/dev/null']) {
      const a = args.map((x) => (x === '@' ? target : x))
      if (a.length === 1) a.push(target)
      const r = spawnSync(process.execPath, [MAIN, ...a], { encoding: 'utf8' })
      // An empty file is no database (exit 1); a device is refused before SQLite sees it (exit 2).
      if (target === empty) {
        assert.equal(r.status, 1, `${a.join(' ')}: ${r.stderr}`)
        assert.match(r.stderr, /is not a bigfile database/)
      } else {
        assert.equal(r.status, 2, `${a.join(' ')}: ${r.stderr}`)
        assert.match(r.stderr, /is a character device, not a database file/)
      }
      assert.doesNotMatch(r.stderr, /rollback|readonly database/)
    }
  }
  assert.equal(statSync(empty).size, 0)
  assert.deepEqual(readdirSync(dir), ['e.db'])
})

/**
 * Runs `code` (an ES module body with `openDatabase` and `path` in scope, printing its answer) in a
 * child process that cannot write the directory it is in (chmod by the caller): as user nobody when we are root (root ignores permissions).
 */
function inReadOnlyDir(path: string, code: string) {
  const src = pathToFileURL(join(ROOT, 'src', 'db', 'index.ts')).href
  const body = `import { openDatabase } from '${src}'\nconst path = ${JSON.stringify(path)}\n${code}`
  const asRoot = process.getuid?.() === 0
  return spawnSync(process.execPath, ['--input-type=module', '-e', body], {
    encoding: 'utf8',
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  })
}

// SQLite only: WAL and directory permissions.
test('a WAL database in a read-only directory reads (closed cleanly, and with a live writer)', async (t) => {
  if (process.platform === 'win32') return t.skip('POSIX permissions')
  const parent = tmpDir(t)
  chmodSync(parent, 0o755)
  const dir = join(parent, 'ro')
  const path = join(dir, 'w.db')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(dir)
  await makeDb(path)
  assert.ok(!existsSync(`${path}-wal`), 'closed cleanly: no -wal left')
  chmodSync(path, 0o644)
  chmodSync(dir, 0o555)
  const read = `
    const db = await openDatabase(path, { readOnly: true })
    const conn = db.connect({ ram: new (await import('${pathToFileURL(join(ROOT, 'src', 'virtmem', 'ram.ts')).href}')).RAM({ pagesize: 65536, capacity: 8 * 65536 }) })
    const f = await conn.open('f')
    const v = f.mmap(0, 1)
    console.log(JSON.stringify({ files: (await db.files()).map((x) => x.name), value: v.getFloat64(8) }))
    v.unmap()
    await db.close()`
  const r = inReadOnlyDir(path, read)
  if (r.status !== 0) chmodSync(dir, 0o755)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), { files: ['f'], value: 7 })
  assert.deepEqual(readdirSync(dir).sort(), ['w.db', 'w.db-seg'], 'nothing created')

  // The CLI too: `info` on a database in a read-only directory.
  const asRoot = process.getuid?.() === 0
  const info = spawnSync(process.execPath, [MAIN, 'info', path, 'f', '--json'], {
    encoding: 'utf8',
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  })
  if (info.status !== 0) chmodSync(dir, 0o755)
  assert.equal(info.status, 0, info.stderr)
  assert.equal(JSON.parse(info.stdout).name, 'f')

  // With a writer holding it open (its -wal and -shm exist and hold a commit), a reader still reads.
  chmodSync(dir, 0o755)
  const writer = await openDatabase(path)
  t.after(() => writer.close())
  const conn = writer.connect({ ram: ram() })
  const f = await conn.open('f')
  const v = f.mmap(0, 1)
  v.setFloat64(8, 9)
  v.unmap()
  await conn.commit()
  for (const x of readdirSync(dir)) if (!x.endsWith('-seg')) chmodSync(join(dir, x), 0o644)
  chmodSync(dir, 0o555)
  const live = inReadOnlyDir(path, read)
  chmodSync(dir, 0o755) // before the temporary directory is removed (a non-root run could not)
  assert.equal(live.status, 0, live.stderr)
  assert.deepEqual(JSON.parse(live.stdout), { files: ['f'], value: 9 })
})
