// What node:sqlite is handed for a database path. SQLite reads a name beginning with `file:` as a URI
// (`file:x.db?nolock=1` switches locking off) and `:memory:` as a database that is never kept, so a
// user's path never reaches it as typed: it is made absolute first (an absolute path is neither), and
// the one URI we use ourselves (read-only `immutable=1`) is built from it with every character escaped.
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { InvalidArgumentError } from '../../errors.ts'

/** The special name of an in-memory database, accepted only with `{ memory: true }`. */
export const MEMORY = ':memory:'

/**
 * The absolute file path for `path`; `:memory:` only when `memory` asks for it (InvalidArgumentError
 * otherwise, so a typo cannot "create" a database that is never kept).
 */
export function locate(path: unknown, memory: boolean | undefined): string {
  if (memory === true) {
    if (path !== MEMORY) throw new InvalidArgumentError(`{ memory: true } needs the path ${MEMORY}`)
    return MEMORY
  }
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('database path must be a non-empty string')
  }
  if (path.includes('\0')) throw new InvalidArgumentError('database path contains a NUL character')
  if (path === MEMORY) {
    throw new InvalidArgumentError(
      `${MEMORY} is not a file; pass { memory: true } for an in-memory database that is not kept`,
    )
  }
  return resolve(path)
}

/** A `file:` URI opening the absolute path `abs` immutable (no locks, no -shm, no -wal). */
export function immutableUri(abs: string): string {
  // pathToFileURL escapes '%', '?', '#' and the rest, so SQLite's URI parser gives back exactly `abs`.
  return `${pathToFileURL(abs).href}?immutable=1`
}
