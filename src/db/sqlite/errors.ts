// node:sqlite throws plain Errors with an SQLite result code; callers get typed ones.
import { BigFileError, CorruptError, LockedError, StorageError } from '../../errors.ts'

const SQLITE_BUSY = 5
const SQLITE_LOCKED = 6
const SQLITE_CORRUPT = 11
const SQLITE_NOTADB = 26

/** Maps an error thrown by node:sqlite to a BigFileError; BigFileErrors pass through. */
export function sqliteError(e: unknown, what: string): BigFileError {
  if (e instanceof BigFileError) return e
  const code = (e as { errcode?: unknown }).errcode
  const primary = typeof code === 'number' ? code & 0xff : -1
  const msg = e instanceof Error ? e.message : String(e)
  if (primary === SQLITE_BUSY || primary === SQLITE_LOCKED) {
    return new LockedError(`${what}: the database is locked by another writer (${msg})`)
  }
  if (primary === SQLITE_CORRUPT || primary === SQLITE_NOTADB) {
    return new CorruptError(`${what}: ${msg}`, { cause: e })
  }
  return new StorageError(`${what}: ${msg}`, { cause: e })
}
