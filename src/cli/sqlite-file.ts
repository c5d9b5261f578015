// Space in the SQLite database file, for `bigfile stats` and `bigfile pack`: how many of its pages are
// free (left by pack, rm or an aborted import), and VACUUM to give them back to the file system; and the
// bytes of its block segments (`<db>-seg/`), of which how many no index row points at (dead: what pack
// reclaims of them is gone already; this is a crashed writer's tail or a version overwritten within
// one transaction, cut or reclaimed by the next writer or pack).
//
// The storage exposes neither yet, so these open the file with a connection of their own, only after
// the command's Database is closed; SQLite's locks order them with other processes. They belong on the
// SQLite storage (reported to the db layer as `SQLiteStorage.space()` and `SQLiteStorage.vacuum()`).
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { LockedError, StorageError } from '../errors.ts'

export interface FileSpace {
  pageSize: number
  /** Pages in the database (the file holds this many once the write-ahead log is checkpointed). */
  pages: number
  /** Of those, pages on SQLite's free list: reused by later writes, returned to the file system by VACUUM. */
  freePages: number
  /** Segment files in `<db>-seg/`. */
  segments: number
  /** Their bytes on disk. */
  segmentBytes: number
  /** Of those, bytes of block versions the index holds (every version a snapshot can still read). */
  liveBytes: number
  /** Of those, bytes no index row points at (headers aside): reclaimed by later writes and `bigfile pack`. */
  deadBytes: number
}

/** Segment headers: bytes of a segment that are neither live nor dead (see src/db/sqlite/segments.ts). */
const SEGMENT_HEADER = 4096

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
    const live = Number(
      (db.prepare('SELECT coalesce(sum(len), 0) AS n FROM blocks').get() as { n: number }).n,
    )
    const seg = segmentFiles(`${path}-seg`)
    return {
      pageSize: pragma('page_size'),
      pages: pragma('page_count'),
      freePages: pragma('freelist_count'),
      segments: seg.count,
      segmentBytes: seg.bytes,
      liveBytes: live,
      deadBytes: Math.max(0, seg.bytes - seg.count * SEGMENT_HEADER - live),
    }
  })
}

/** The segment files (8 hex digits) in `dir` and their bytes; none when there is no such directory. */
function segmentFiles(dir: string): { count: number; bytes: number } {
  if (!lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return { count: 0, bytes: 0 }
  let count = 0
  let bytes = 0
  for (const name of readdirSync(dir)) {
    if (!/^[0-9a-f]{8}$/.test(name)) continue
    const st = lstatSync(join(dir, name))
    if (!st.isFile()) continue
    count++
    bytes += st.size
  }
  return { count, bytes }
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
