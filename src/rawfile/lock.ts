// The exclusive writer lock. Node has no flock(), so it borrows SQLite's: an exclusive transaction on
// `<raw file>.bigfile-lock` holds POSIX record locks, which the kernel releases when the process dies
// (SIGKILL included). No pid file, no stale-lock guessing, no pid reuse hazard.
import type { Stats } from 'node:fs'
import { DatabaseSync } from 'node:sqlite'
import { BigFileError, CorruptError, LockedError, StorageError } from '../errors.ts'
import { isCode } from './io.ts'
import { ensureRegular, sameFile } from './regular.ts'

export class WriterLock {
  readonly path: string
  #db: DatabaseSync | undefined

  private constructor(path: string, db: DatabaseSync) {
    this.path = path
    this.#db = db
  }

  /**
   * Takes the lock at `path`, or returns undefined when another writer (any process, this one too) holds
   * it. SQLite opens the lock file by name and would follow a link, so (1) the name is checked first to
   * be a regular file with one link (created exclusively, with permission bits `mode`, when missing),
   * and (2) after locking, checked to still be that very file.
   */
  static try(path: string, mode: number): WriterLock | undefined {
    let st: Stats
    let db: DatabaseSync
    try {
      st = ensureRegular(path, mode) // (1)
      db = new DatabaseSync(path, { timeout: 0 })
    } catch (e) {
      if (e instanceof BigFileError) throw e
      throw new StorageError(`cannot open the writer lock ${path}: ${(e as Error).message}`, { cause: e })
    }
    try {
      db.exec('BEGIN EXCLUSIVE')
    } catch (e) {
      db.close()
      if (isBusy(e)) return undefined
      throw new StorageError(`cannot take the writer lock ${path}: ${(e as Error).message}`, { cause: e })
    }
    if (!sameFile(path, st)) {
      // (2) Replaced between the check and SQLite's open: what SQLite locked is not ours to trust.
      db.close()
      throw new CorruptError(`the writer lock ${path} was replaced while being taken: refusing to use it`)
    }
    return new WriterLock(path, db)
  }

  static acquire(path: string, what: string, mode: number): WriterLock {
    const lock = WriterLock.try(path, mode)
    if (!lock) throw new LockedError(`${what} is already open for writing (lock ${path} is held)`)
    return lock
  }

  /** The file itself stays: removing it would let two writers lock two different inodes. Idempotent. */
  release(): void {
    const db = this.#db
    this.#db = undefined
    db?.close()
  }
}

function isBusy(e: unknown): boolean {
  // SQLITE_BUSY (5) and SQLITE_LOCKED (6), with or without extended codes.
  const errcode = (e as { errcode?: unknown } | null)?.errcode
  return (
    (typeof errcode === 'number' && ((errcode & 0xff) === 5 || (errcode & 0xff) === 6)) || isCode(e, 'EBUSY')
  )
}
