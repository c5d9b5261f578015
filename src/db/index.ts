export { Connection, type CreateOptions, type FileInfo, type OpenOptions } from './connection.ts'
export {
  type ConnectOptions,
  Database,
  type DatabaseOptions,
  openDatabase,
  type PackOptions,
} from './database.ts'
export { DbFileH } from './fileh.ts'
export { type SQLiteOptions, SQLiteStorage } from './sqlite/storage.ts'
export type {
  Change,
  FilePatch,
  FileRecord,
  Meta,
  NewFile,
  PackResult,
  Storage,
  StorageTxn,
  Tid,
  Touched,
} from './storage.ts'
