// Opening a PostgreSQL database: pg is imported here, on first use, so SQLite users never load it.
import { StorageError } from '../../errors.ts'
import { Database } from '../database.ts'
import { type PG, type PostgresOptions, PostgresStorage, type PostgresTarget } from './storage.ts'

let loaded: Promise<PG> | undefined

async function loadPg(): Promise<PG> {
  loaded ??= import('pg').then(
    (m) => m.default,
    (e) => {
      loaded = undefined
      throw new StorageError('the PostgreSQL storage needs the "pg" package: npm install pg', { cause: e })
    },
  )
  return loaded
}

/** Whether `location` is a PostgreSQL URL (postgres:// or postgresql://). */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location)
}

/**
 * Opens the PostgreSQL storage at `target` (a URL, pg connection options, or `{ pool }`). A URL may
 * name the SQL schema as `?schema=name` (default "bigfile"); options.schema wins over it.
 */
export async function openPostgresStorage(
  target: PostgresTarget,
  options: PostgresOptions = {},
): Promise<PostgresStorage> {
  const pg = await loadPg()
  let t = target
  let o = options
  if (typeof target === 'string') {
    const url = new URL(target)
    const schema = url.searchParams.get('schema')
    if (schema !== null) {
      url.searchParams.delete('schema')
      t = url.toString()
      o = { schema, ...options }
    }
  }
  return PostgresStorage.open(pg, t, o)
}

/** Opens (by default creates) a bigfile database in PostgreSQL; see PostgresOptions. */
export async function openPostgres(target: PostgresTarget, options: PostgresOptions = {}): Promise<Database> {
  return Database.open(await openPostgresStorage(target, options))
}
