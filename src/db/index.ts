export {
  type CommitOptions,
  Connection,
  type CreateOptions,
  type DatabaseCore,
  type FileInfo,
  type OpenOptions,
  type TransactionOptions,
} from './connection.ts'
export {
  type AtOptions,
  type CommitsOptions,
  type ConnectOptions,
  Database,
  type LogOptions,
  type PackOptions,
} from './database.ts'
export { type ConnectionCore, DbFile } from './file.ts'
export { type DatabaseOptions, openDatabase } from './open.ts'
export { type SQLiteOptions, SQLiteStorage } from './sqlite/storage.ts'
export type {
  Change,
  CheckOptions,
  CheckProgress,
  CheckResult,
  Commit,
  CommitFile,
  FilePatch,
  FileRecord,
  LogQuery,
  Meta,
  NewFile,
  PackResult,
  Storage,
  StorageTxn,
  Tid,
  Touched,
} from './storage.ts'
