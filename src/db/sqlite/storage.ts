// The embedded default storage: one SQLite file through node:sqlite, synchronous answers throughout.
import { existsSync } from 'node:fs'
import { DatabaseSync } from 'node:sqlite'
import {
  ClosedError,
  CorruptError,
  InvalidArgumentError,
  NotFoundError,
  StaleSnapshotError,
} from '../../errors.ts'
import { readonlyFields } from '../../util/readonly.ts'
import type { Change, FileRecord, Meta, PackResult, Storage, StorageTxn, Tid } from '../storage.ts'
import { decodeBlocks } from './blocklist.ts'
import { sqliteError } from './errors.ts'
import { APPLICATION_ID, preflight, SCHEMA, SCHEMA_VERSION } from './schema.ts'
import { type LogRow, packedTid, prepareStatements, type RecordRow, type Statements } from './statements.ts'
import { SQLiteTxn } from './txn.ts'

export interface SQLiteOptions {
  /** Create the file when missing. Default true. */
  create?: boolean
  /**
   * 'full' (default): a commit is on disk when commit() returns, also across power loss. 'normal': in
   * WAL mode SQLite then syncs only at checkpoints, so the last commits before a power loss or OS
   * crash may be lost (the database stays consistent; a process crash loses nothing). Often several
   * times faster for small commits.
   */
  synchronous?: 'full' | 'normal'
  /** How long a writer waits for another process's write lock before LockedError. Default 10 s. */
  busyTimeoutMs?: number
}

export class SQLiteStorage implements Storage {
  readonly path: string
  readonly #db: DatabaseSync
  readonly #s: Statements
  #writing = false
  readonly #waiters: (() => void)[] = []
  #closed = false

  private constructor(path: string, db: DatabaseSync) {
    this.path = path
    this.#db = db
    this.#s = prepareStatements(db)
    readonlyFields(this, ['path'])
  }

  static open(path: string, options: SQLiteOptions = {}): SQLiteStorage {
    if (typeof path !== 'string' || path.length === 0) {
      throw new InvalidArgumentError('database path must be a non-empty string')
    }
    const sync = options.synchronous ?? 'full'
    if (sync !== 'full' && sync !== 'normal') {
      throw new InvalidArgumentError(`synchronous must be 'full' or 'normal', got ${String(sync)}`)
    }
    const timeout = options.busyTimeoutMs ?? 10_000
    if (!Number.isSafeInteger(timeout) || timeout < 0) {
      throw new InvalidArgumentError(`busyTimeoutMs must be a non-negative integer, got ${timeout}`)
    }
    const memory = path === ':memory:'
    if (!memory) {
      if (existsSync(path)) preflight(path)
      else if (options.create === false) throw new NotFoundError(`database ${path} does not exist`)
    }
    let db: DatabaseSync
    try {
      db = new DatabaseSync(path)
    } catch (e) {
      throw sqliteError(e, `open ${path}`)
    }
    try {
      db.exec(`PRAGMA busy_timeout = ${timeout}`)
      initSchema(db, path)
      if (!memory) {
        const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string }
        if (mode.journal_mode !== 'wal') throw new CorruptError(`${path}: cannot switch to WAL mode`)
      }
      db.exec(`PRAGMA synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`)
      return new SQLiteStorage(path, db)
    } catch (e) {
      db.close()
      throw sqliteError(e, `open ${path}`)
    }
  }

  head(): Tid {
    this.#check()
    try {
      return (this.#s.head.get() as { t: number }).t
    } catch (e) {
      throw sqliteError(e, 'read head')
    }
  }

  listFiles(at: Tid): FileRecord[] {
    this.#check()
    try {
      return (this.#s.listFiles.all(at) as unknown as RecordRow[]).map(toRecord)
    } catch (e) {
      throw sqliteError(e, 'list files')
    }
  }

  fileByName(name: string, at: Tid): FileRecord | undefined {
    this.#check()
    try {
      const row = this.#s.fileByName.get(name, at) as RecordRow | undefined
      return row ? toRecord(row) : undefined
    } catch (e) {
      throw sqliteError(e, `look up file ${JSON.stringify(name)}`)
    }
  }

  fileById(id: number, at: Tid): FileRecord | undefined {
    this.#check()
    try {
      const row = this.#s.fileById.get(id, at) as RecordRow | undefined
      return row && row.name !== null ? toRecord(row) : undefined
    } catch (e) {
      throw sqliteError(e, `look up file #${id}`)
    }
  }

  loadBlock(file: number, blk: number, at: Tid, buf: Uint8Array): void {
    this.#check()
    let row: { packed: number; data: Uint8Array | null } | undefined
    try {
      row = this.#s.load.get(file, blk, at) as typeof row
    } catch (e) {
      throw sqliteError(e, `read block ${blk} of file #${file}`)
    }
    if (row === undefined) throw new CorruptError(`${this.path}: the meta row 'packed' is missing`)
    if (at < row.packed) throw new StaleSnapshotError(at, row.packed)
    const data = row.data
    if (data === null || data.length === 0) buf.fill(0)
    else if (data.length === buf.length) buf.set(data)
    else {
      throw new CorruptError(
        `block ${blk} of file #${file} holds ${data.length} bytes, expected ${buf.length}`,
      )
    }
  }

  changes(after: Tid, upto: Tid): Change[] | null {
    this.#check()
    try {
      if (after < this.#packed()) return null
      const rows = this.#s.changes.all(after, upto) as unknown as LogRow[]
      // A pack by another process between the two reads may have removed rows we needed: look again.
      if (after < this.#packed()) return null
      return rows.map((r) => ({
        tid: r.tid,
        file: r.file,
        blocks: decodeBlocks(r.blocks),
        record: r.record !== 0,
      }))
    } catch (e) {
      throw sqliteError(e, 'read the commit log')
    }
  }

  begin(): StorageTxn | Promise<StorageTxn> {
    return this.#asWriter(() => this.#begin())
  }

  /** Runs `fn` now, or, while another connection of this process writes, after it (FIFO). */
  #asWriter<T>(fn: () => T): T | Promise<T> {
    this.#check()
    if (!this.#writing) return fn()
    return new Promise<void>((resolve) => this.#waiters.push(resolve)).then(fn)
  }

  /** A woken waiter that cannot go on (the storage closed) passes the turn to the next one. */
  #checkTurn(): void {
    try {
      this.#check()
    } catch (e) {
      this.#waiters.shift()?.()
      throw e
    }
  }

  #begin(): StorageTxn {
    this.#checkTurn()
    this.#writing = true
    try {
      this.#db.exec('BEGIN IMMEDIATE')
    } catch (e) {
      this.#release()
      throw sqliteError(e, 'begin a write transaction')
    }
    try {
      return new SQLiteTxn(this.#db, this.#s, this.head() + 1, () => this.#release())
    } catch (e) {
      this.#rollbackQuietly()
      this.#release()
      throw sqliteError(e, 'begin a write transaction')
    }
  }

  pack(cutoff: Tid): PackResult | Promise<PackResult> {
    return this.#asWriter(() => this.#pack(cutoff))
  }

  #pack(cutoff: Tid): PackResult {
    this.#checkTurn()
    this.#writing = true
    const db = this.#db
    try {
      db.exec('BEGIN IMMEDIATE')
      try {
        const c = Math.min(cutoff, this.head())
        let blocks = 0
        let records = 0
        const dead = db
          .prepare(
            `WITH q(cut) AS (SELECT ?)
              SELECT file_id AS id FROM file_versions v, q WHERE name IS NULL AND tid <= cut
              AND tid = (SELECT max(tid) FROM file_versions WHERE file_id = v.file_id AND tid <= cut)`,
          )
          .all(c) as { id: number }[]
        for (const { id } of dead) {
          blocks += Number(db.prepare('DELETE FROM blocks WHERE file_id = ? AND tid <= ?').run(id, c).changes)
          records += Number(
            db.prepare('DELETE FROM file_versions WHERE file_id = ? AND tid <= ?').run(id, c).changes,
          )
        }
        blocks += Number(
          db
            .prepare(
              `DELETE FROM blocks WHERE tid < (SELECT max(b.tid) FROM blocks b
                WHERE b.file_id = blocks.file_id AND b.blk = blocks.blk AND b.tid <= ?)`,
            )
            .run(c).changes,
        )
        blocks += Number(db.prepare('DELETE FROM blocks WHERE data IS NULL AND tid <= ?').run(c).changes)
        records += Number(
          db
            .prepare(
              `DELETE FROM file_versions WHERE tid < (SELECT max(f.tid) FROM file_versions f
                WHERE f.file_id = file_versions.file_id AND f.tid <= ?)`,
            )
            .run(c).changes,
        )
        db.prepare('DELETE FROM log_files WHERE tid <= ?').run(c)
        db.prepare('DELETE FROM log WHERE tid <= ? AND tid < (SELECT max(tid) FROM log)').run(c)
        db.prepare(`UPDATE meta SET value = max(value, ?) WHERE key = 'packed'`).run(c)
        db.exec('COMMIT')
        return { cutoff: c, blocksRemoved: blocks, recordsRemoved: records }
      } catch (e) {
        this.#rollbackQuietly()
        throw e
      }
    } catch (e) {
      throw sqliteError(e, 'pack')
    } finally {
      this.#release()
    }
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    // Writers queued behind a transaction wake to a ClosedError instead of waiting forever.
    for (const wake of this.#waiters.splice(0)) wake()
    this.#rollbackQuietly()
    try {
      this.#db.close()
    } catch {
      // already closed
    }
  }

  #packed(): number {
    return packedTid(this.#s)
  }

  #rollbackQuietly(): void {
    try {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
    } catch {
      // nothing to roll back
    }
  }

  #release(): void {
    this.#writing = false
    this.#waiters.shift()?.()
  }

  #check(): void {
    if (this.#closed) throw new ClosedError('database is closed')
  }
}

function toRecord(row: RecordRow): FileRecord {
  return {
    id: row.id,
    name: row.name as string,
    blksize: row.blksize,
    size: row.size,
    meta: JSON.parse(row.meta) as Meta,
    tid: row.tid,
  }
}

/** Creates the schema in a new file, or checks that an existing one is ours. */
function initSchema(db: DatabaseSync, path: string): void {
  const count = () => (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n
  if (count() === 0) {
    // page_size only takes effect before the first table: 64 KiB pages make BLOB I/O about 2x faster.
    db.exec('PRAGMA page_size = 65536')
    db.exec('BEGIN IMMEDIATE')
    try {
      if (count() === 0) db.exec(SCHEMA) // another process may have won the race
      db.exec('COMMIT')
    } catch (e) {
      db.exec('ROLLBACK')
      throw e
    }
  }
  const app = (db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id
  if (app !== APPLICATION_ID) {
    throw new CorruptError(`${path} is an SQLite database, but not a bigfile database`)
  }
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
  if (version !== SCHEMA_VERSION) {
    throw new CorruptError(
      `${path} has schema version ${version}; this bigfile reads version ${SCHEMA_VERSION}`,
    )
  }
}
