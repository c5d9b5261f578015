// The opener of the default storage: a Database over one SQLite file.
import { Database } from '../database.ts'
import { type SQLiteOptions, SQLiteStorage } from './storage.ts'

export type DatabaseOptions = SQLiteOptions

/** Opens (by default creates) an SQLite database file: WAL mode, synchronous=FULL. */
export async function openDatabase(path: string, options: DatabaseOptions = {}): Promise<Database> {
  return Database.open(SQLiteStorage.open(path, options))
}
