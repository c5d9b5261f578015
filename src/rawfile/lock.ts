// The exclusive writer lock. Node has no flock(), so it borrows SQLite's: an exclusive transaction on
// `<raw file>.bigfile-lock` holds POSIX record locks, which the kernel releases when the process dies
// (SIGKILL included). No pid file, no stale-lock guessing, no pid reuse hazard.
import { DatabaseSync } from 'node:sqlite'
import { LockedError, StorageError } from '../errors.ts'
import { isCode } from './io.ts'

export class WriterLock {
  readonly path: string
  #db: DatabaseSync | undefined

  private constructor(path: string, db: DatabaseSync) {
    this.path = path
    this.#db = db
  }

  /** Takes the lock at `path`, or returns undefined when another writer (any process, this one too) holds it. */
  static try(path: string): WriterLock | undefined {
    let db: DatabaseSync
    try {
      db = new DatabaseSync(path, { timeout: 0 })
    } catch (e) {
      throw new StorageError(`cannot open the writer lock ${path}: ${(e as Error).message}`, { cause: e })
    }
    try {
      db.exec('BEGIN EXCLUSIVE')
    } catch (e) {
      db.close()
      if (isBusy(e)) return undefined
      throw new StorageError(`cannot take the writer lock ${path}: ${(e as Error).message}`, { cause: e })
    }
    return new WriterLock(path, db)
  }

  static acquire(path: string, what: string): WriterLock {
    const lock = WriterLock.try(path)
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
