// Space in the SQLite database file, for `bigfile stats` and `bigfile pack`: how many of its pages are
// free (left by pack, rm or an aborted import), and VACUUM to give them back to the file system.
//
// The storage exposes neither yet, so these open the file with a connection of their own, only after
// the command's Database is closed; SQLite's locks order them with other processes. They belong on the
// SQLite storage (reported to the db layer as `SQLiteStorage.space()` and `SQLiteStorage.vacuum()`).
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs'
import { DatabaseSync } from 'node:sqlite'
import { LockedError, StorageError } from '../errors.ts'

export interface FileSpace {
  pageSize: number
  /** Pages in the database (the file holds this many once the write-ahead log is checkpointed). */
  pages: number
  /** Of those, pages on SQLite's free list: reused by later writes, returned to the file system by VACUUM. */
  freePages: number
}

/** Whether `path` is an SQLite file (and not, say, a URL of another storage). */
export function isSqliteFile(path: string): boolean {
  if (!existsSync(path) || !statSync(path).isFile()) return false
  const head = Buffer.alloc(16)
  const fd = openSync(path, 'r')
  try {
    return readSync(fd, head, 0, 16, 0) === 16 && head.toString('latin1') === 'SQLite format 3\0'
  } finally {
    closeSync(fd)
  }
}

/** The page counts of the SQLite file at `path` (read-only: PRAGMAs only). */
export function fileSpace(path: string): FileSpace {
  return withConnection(path, 'read the free pages of', (db) => {
    const pragma = (name: string) => Number(Object.values(db.prepare(`PRAGMA ${name}`).get() ?? {})[0])
    return { pageSize: pragma('page_size'), pages: pragma('page_count'), freePages: pragma('freelist_count') }
  })
}

/**
 * Rewrites the database without its free pages (VACUUM, atomic: an interruption leaves the old file),
 * then checkpoints the write-ahead log so that the file shrinks now. While another process reads an
 * old snapshot the checkpoint cannot finish: the file then shrinks at a later checkpoint.
 * Needs temporary space up to the database's size.
 */
export function vacuum(path: string): void {
  withConnection(path, 'vacuum', (db) => {
    db.exec('VACUUM')
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
  })
}

function withConnection<T>(path: string, what: string, fn: (db: DatabaseSync) => T): T {
  let db: DatabaseSync | undefined
  try {
    db = new DatabaseSync(path)
    db.exec('PRAGMA busy_timeout = 10000')
    return fn(db)
  } catch (e) {
    const code = (e as { errcode?: unknown }).errcode
    const primary = typeof code === 'number' ? code & 0xff : -1
    // SQLITE_BUSY, SQLITE_LOCKED: another process holds the write lock.
    if (primary === 5 || primary === 6)
      throw new LockedError(`cannot ${what} ${path}: the database is locked by another writer`)
    throw new StorageError(`cannot ${what} ${path}: ${(e as Error).message}`, { cause: e })
  } finally {
    db?.close()
  }
}
