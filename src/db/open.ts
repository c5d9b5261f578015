// openDatabase: one entry for both storages. A postgres:// URL opens PostgreSQL (src/db/postgres, and
// pg loads only then); anything else is an SQLite file path.
import { AbortError, InvalidArgumentError } from '../errors.ts'
import type { Database } from './database.ts'
import type { PostgresOptions } from './postgres/options.ts'
import { openDatabase as openSQLite, type DatabaseOptions as SQLiteDatabaseOptions } from './sqlite/open.ts'

/** Options of `openDatabase`: the SQLite storage's, the PostgreSQL storage's, and an abort signal. */
export type DatabaseOptions = SQLiteDatabaseOptions & PostgresOptions

/** Whether `location` is a PostgreSQL URL (postgres:// or postgresql://). */
function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location)
}

/**
 * Opens (by default creates) an SQLite database file (WAL mode, synchronous=FULL), or, for a
 * `postgres://` / `postgresql://` URL, a PostgreSQL database (the optional `pg` package loads only then).
 */
export async function openDatabase(location: string, options: DatabaseOptions = {}): Promise<Database> {
  if (typeof location !== 'string' || !isPostgresUrl(location)) return openSQLite(location, options)
  if (options !== undefined && (options === null || typeof options !== 'object'))
    throw new InvalidArgumentError(`openDatabase options must be an object, got ${options}`)
  const { signal, ...rest } = options ?? {}
  if (signal?.aborted) throw new AbortError(signal.reason)
  const { openPostgres } = await import('./postgres/open.ts')
  const db = await openPostgres(location, rest)
  if (signal?.aborted) {
    await db.close()
    throw new AbortError(signal.reason)
  }
  return db
}
