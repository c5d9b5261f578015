// A Database: the storage plus the connections of this process, and file operations that commit on
// their own (create, delete, rename) for use outside any connection's transaction.
import { ClosedError, InvalidArgumentError, NotFoundError } from '../errors.ts'
import { isPromise } from '../util/awaitable.ts'
import { readonlyFields } from '../util/readonly.ts'
import { RAM } from '../virtmem/ram.ts'
import { checkName, checkNewFile } from './check.ts'
import { Connection, type CreateOptions, type DatabaseCore } from './connection.ts'
import type { FileRecord, PackResult, Storage, StorageTxn, Tid } from './storage.ts'

export interface ConnectOptions {
  /** The RAM whose frames hold this connection's pages (shared by connections if you like). */
  ram: RAM
}

export interface PackOptions {
  /**
   * How many of the newest transactions stay readable as snapshots besides the newest: snapshots
   * at >= head - keep read exactly as before. Connections of this process are always protected;
   * connections of other processes older than the cutoff get StaleSnapshotError. Default 0.
   */
  keep?: number
}

export class Database implements DatabaseCore {
  readonly storage: Storage
  readonly #conns = new Set<Connection>()
  #head: Tid
  #closed = false

  /** Prefer `Database.open(storage)`, which reads the head first (or a storage's opener: `openDatabase`). */
  constructor(storage: Storage, head: Tid = 0) {
    this.storage = storage
    this.#head = head
    readonlyFields(this, ['storage'])
  }

  static async open(storage: Storage): Promise<Database> {
    return new Database(storage, await storage.head())
  }

  /**
   * A new connection at the newest snapshot (for a storage that answers asynchronously: the newest
   * this process has seen; `await conn.sync()` catches up).
   */
  connect(options: ConnectOptions): Connection {
    this.#check()
    if (!options || !(options.ram instanceof RAM))
      throw new InvalidArgumentError('connect() needs { ram: RAM }')
    const h = this.storage.head()
    const at = isPromise(h) ? this.#head : h
    if (isPromise(h))
      h.then(
        (t) => this._seen(t),
        () => {},
      )
    this._seen(at)
    const conn = new Connection(this, options.ram, at)
    this.#conns.add(conn)
    return conn
  }

  /** The newest tid. */
  async head(): Promise<Tid> {
    this.#check()
    const t = await this.storage.head()
    this._seen(t)
    return t
  }

  /** Live files at the newest snapshot, by name. */
  async files(): Promise<FileRecord[]> {
    return this.storage.listFiles(await this.head())
  }

  async stat(name: string): Promise<FileRecord> {
    checkName(name)
    const rec = await this.storage.fileByName(name, await this.head())
    if (!rec) throw new NotFoundError(`no file named ${JSON.stringify(name)}`)
    return rec
  }

  /** Creates a file in a transaction of its own; ExistsError if the name is taken. */
  async createFile(name: string, options: CreateOptions): Promise<FileRecord> {
    this.#check()
    const spec = checkNewFile(name, options, 'createFile options')
    const tid = await this.#autocommit(async (txn) => {
      await txn.createFile(spec)
    })
    return (await this.storage.fileByName(name, tid)) as FileRecord
  }

  /** Deletes a file in a transaction of its own. Snapshots before it still read it. */
  async deleteFile(name: string): Promise<void> {
    checkName(name)
    const id = (await this.stat(name)).id
    await this.#autocommit(async (txn) => {
      await txn.deleteFile(id)
    })
  }

  /** Renames a file in a transaction of its own; ExistsError if `to` is taken. */
  async renameFile(from: string, to: string): Promise<void> {
    checkName(from)
    checkName(to)
    const id = (await this.stat(from)).id
    await this.#autocommit(async (txn) => {
      await txn.updateFile(id, { name: to })
    })
  }

  /**
   * Removes versions no snapshot at >= cutoff can read, where cutoff = min(head - keep, the oldest
   * `at` among this process's open connections). See Storage.pack for the rule.
   */
  async pack(options: PackOptions = {}): Promise<PackResult> {
    this.#check()
    const keep = options.keep ?? 0
    if (!Number.isSafeInteger(keep) || keep < 0) {
      throw new InvalidArgumentError(`keep must be a non-negative integer, got ${keep}`)
    }
    let cutoff = Math.max(0, (await this.head()) - keep)
    for (const c of this.#conns) cutoff = Math.min(cutoff, c.at)
    return this.storage.pack(cutoff)
  }

  /** Discards every connection's uncommitted changes, closes them and the storage. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const c of [...this.#conns]) c[Symbol.dispose]()
    await this.storage.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** @internal */
  _forget(conn: Connection): void {
    this.#conns.delete(conn)
  }

  /** @internal */
  _seen(tid: Tid): void {
    if (tid > this.#head) this.#head = tid
  }

  async #autocommit(fn: (txn: StorageTxn) => Promise<void>): Promise<Tid> {
    this.#check()
    const txn = await this.storage.begin()
    try {
      await fn(txn)
      await txn.commit()
    } catch (e) {
      await txn.rollback()
      throw e
    }
    this._seen(txn.tid)
    return txn.tid
  }

  #check(): void {
    if (this.#closed) throw new ClosedError('database is closed')
  }
}
