// A new SQLite database is built aside and published whole by link() (storage.ts, publishNew): nothing
// else is left in the directory, the file is in WAL mode before the first commit, and processes racing to
// create one path all end up in the same database.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { SQLiteStorage } from '../../src/db/sqlite/storage.ts'

function dir(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'bigfile-store-create-'))
  t.after(() => rmSync(d, { recursive: true, force: true }))
  return d
}

const uuidOf = (path: string): string => {
  const db = new DatabaseSync(path, { readOnly: true })
  try {
    return (db.prepare(`SELECT value FROM meta WHERE key = 'uuid'`).get() as { value: string }).value
  } finally {
    db.close()
  }
}

test('a new database: only its file is left, already in WAL mode', (t) => {
  const d = dir(t)
  const path = join(d, 'x.bigfile')
  const s = SQLiteStorage.open(path)
  assert.deepEqual(
    readdirSync(d).filter((n) => !n.endsWith('-wal') && !n.endsWith('-shm')),
    ['x.bigfile'],
  )
  s.close()
  assert.deepEqual(readdirSync(d), ['x.bigfile'])
  const db = new DatabaseSync(path, { readOnly: true })
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal')
  db.close()
  // Opened again: the same database (publishing never replaces one).
  const before = uuidOf(path)
  SQLiteStorage.open(path).close()
  assert.equal(uuidOf(path), before)
})

/** A child process that opens (creating) `path` and prints the uuid it sees. */
function opener(path: string): Promise<string> {
  const src = new URL('../../src/db/sqlite/storage.ts', import.meta.url).href
  const code = `
    const { SQLiteStorage } = await import(${JSON.stringify(src)})
    const { DatabaseSync } = await import('node:sqlite')
    SQLiteStorage.open(${JSON.stringify(path)}).close()
    const db = new DatabaseSync(${JSON.stringify(path)}, { readOnly: true })
    process.stdout.write(db.prepare("SELECT value FROM meta WHERE key = 'uuid'").get().value)
    db.close()`
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', code])
    let out = ''
    let err = ''
    c.stdout.on('data', (b) => (out += b))
    c.stderr.on('data', (b) => (err += b))
    c.on('error', reject)
    c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child ${code}: ${err}`))))
  })
}

test('processes racing to create one path all open the same database, and leave nothing else', async (t) => {
  const d = dir(t)
  for (let round = 0; round < 4; round++) {
    const path = join(d, `r${round}.bigfile`)
    const uuids = await Promise.all([opener(path), opener(path), opener(path)])
    assert.equal(uuids[0].length, 32)
    assert.deepEqual(uuids, [uuids[0], uuids[0], uuids[0]])
    assert.equal(uuidOf(path), uuids[0])
  }
  // (-wal/-shm stay when the last to close is a read-only connection: SQLite's, not a leftover of ours)
  assert.deepEqual(
    readdirSync(d)
      .filter((n) => !n.endsWith('-wal') && !n.endsWith('-shm'))
      .sort(),
    [0, 1, 2, 3].map((r) => `r${r}.bigfile`),
  )
})
