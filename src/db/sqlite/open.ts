// The opener of the default storage: a Database over one SQLite file.
import { AbortError, InvalidArgumentError } from '../../errors.ts'
import { Database } from '../database.ts'
import { type SQLiteOptions, SQLiteStorage } from './storage.ts'

/** Options of `openDatabase`: the SQLite storage's, and an abort signal. */
export type DatabaseOptions = SQLiteOptions & {
  /** Gives up with AbortError (code EABORT) once aborted (checked before and after opening). */
  signal?: AbortSignal
}

/** Opens (by default creates) an SQLite database file: WAL mode, synchronous=FULL. */
export async function openDatabase(path: string, options: DatabaseOptions = {}): Promise<Database> {
  if (options !== undefined && (options === null || typeof options !== 'object'))
    throw new InvalidArgumentError(`openDatabase options must be an object, got ${options}`)
  const { signal, ...sqlite } = options ?? {}
  if (signal?.aborted) throw new AbortError(signal.reason)
  const db = await Database.open(SQLiteStorage.open(path, sqlite))
  if (signal?.aborted) {
    await db.close()
    throw new AbortError(signal.reason)
  }
  return db
}
