// A command that creates the database it writes to must leave nothing behind when it fails: no empty
// database from `create new.db ''` or from an import whose input turned out unreadable. Commands check
// their arguments before opening anything; this removes a database the command itself created should
// the work fail after all — only that one: the same file (device and inode) it created, holding no files.
import { lstatSync, rmSync, type Stats, unlinkSync } from 'node:fs'
import type { Database } from '../db/database.ts'
import { openDb } from './session.ts'

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch {
    return undefined
  }
}

/**
 * Runs `fn` with the database at `path` open (created if missing) and closes it afterwards. If this
 * call created the file and `fn` throws, the database (and its -wal/-shm/-journal files and -seg
 * directory) is removed.
 */
export async function withDbCreating<T>(path: string, fn: (db: Database) => Promise<T>): Promise<T> {
  const existed = lstatOrUndefined(path) !== undefined
  const db = await openDb(path, { create: true })
  const mine = existed ? undefined : lstatOrUndefined(path)
  let result: T
  try {
    result = await fn(db)
  } catch (e) {
    let empty = false
    if (mine)
      empty = await db.files().then(
        (fs) => fs.length === 0,
        () => false,
      )
    await db.close().catch(() => {})
    if (mine && empty) removeIfSame(path, mine)
    throw e
  }
  await db.close()
  return result
}

/** Unlinks `path`, SQLite's companion files and the segment directory if `path` is still the regular file `st`. */
function removeIfSame(path: string, st: Stats): void {
  const now = lstatOrUndefined(path)
  if (!now?.isFile() || now.ino !== st.ino || now.dev !== st.dev) return
  for (const p of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    if (p !== path && !lstatOrUndefined(p)?.isFile()) continue
    try {
      unlinkSync(p)
    } catch {
      // best effort: the command's own error is what the user needs to see
    }
  }
  // Block images of the failed work only (the database holds no file): never through a link.
  if (lstatOrUndefined(`${path}-seg`)?.isDirectory()) rmSync(`${path}-seg`, { recursive: true, force: true })
}
