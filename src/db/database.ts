// A Database: the storage plus the connections of this process, and file operations that commit on
// their own (create, delete, rename) for use outside any connection's transaction.
import { ClosedError, InvalidArgumentError, NotFoundError, StaleSnapshotError } from '../errors.ts'
import { type Awaitable, isPromise } from '../util/awaitable.ts'
import { readonlyFields } from '../util/readonly.ts'
import { RAM } from '../virtmem/ram.ts'
import { checkName, checkNewFile } from './check.ts'
import { Connection, type CreateOptions, type DatabaseCore } from './connection.ts'
import type {
  CheckOptions,
  CheckResult,
  Commit,
  FileRecord,
  PackResult,
  Storage,
  StorageTxn,
  Tid,
} from './storage.ts'

/** Options of `db.connect()` and `db.snapshot()`. */
export interface ConnectOptions {
  /** The RAM whose frames hold this connection's pages (shared by connections if you like). */
  ram: RAM
  /**
   * A past snapshot to read instead of the newest: a tid, or a Date (the newest commit at or before it).
   * The connection is historical: read-only (writes and commit: ReadOnlyError, EROFS), and it never
   * moves (sync: ReadOnlyError). While it is open, `pack` in this process keeps its snapshot.
   */
  at?: Tid | Date
}

/** Which snapshot `stat` and `files` read: the newest, or one in the past (as ConnectOptions.at). */
export interface AtOptions {
  /** The snapshot to read: a tid, or a Date (the newest commit at or before it). Default: the newest. */
  at?: Tid | Date
}

/** Which commits `db.log()` lists. */
export interface LogOptions {
  /** The oldest tid to list (default: the oldest the log still holds). */
  from?: Tid
  /** The newest tid to list (default: the head). */
  to?: Tid
  /** At most this many commits (default: all). */
  limit?: number
  /** Only the commits that changed the file that has this name at `to`, also under earlier names. */
  name?: string
}

/** Options of `db.commits()`. */
export interface CommitsOptions {
  /** Ends the iteration (quietly, as `break` would) when aborted. */
  signal?: AbortSignal
}

/** Options of `db.pack()`. */
export interface PackOptions {
  /**
   * How many of the newest transactions stay readable as snapshots besides the newest: snapshots
   * at >= head - keep read exactly as before. Connections of this process are always protected;
   * connections of other processes older than the cutoff get StaleSnapshotError. Default 0.
   */
  keep?: number
}

/**
 * A database: a storage plus this process's connections to it, and file operations (create, delete,
 * rename) that commit on their own. Open one with `openDatabase(path)` or `Database.open(storage)`.
 */
export class Database implements DatabaseCore {
  /** The storage this database reads and commits to. */
  readonly storage: Storage
  readonly #conns = new Set<Connection>()
  /** Cutoffs of packs of this process that have been decided but may not have run yet. */
  readonly #packing = new Set<Tid>()
  #head: Tid
  #closed = false
  /** The open `commits()` iterations: told of every newer head, ended by close. */
  readonly #watchers = new Set<{ seen(tid: Tid): void; end(): void }>()

  /** Prefer `Database.open(storage)`, which reads the head first (or a storage's opener: `openDatabase`). */
  constructor(storage: Storage, head: Tid = 0) {
    this.storage = storage
    this.#head = head
    readonlyFields(this, ['storage'])
  }

  /** Opens a database over `storage`, reading its head first. */
  static async open(storage: Storage): Promise<Database> {
    return new Database(storage, await storage.head())
  }

  /**
   * A new connection at the newest snapshot (for a storage that answers asynchronously: the newest
   * this process has seen; `await conn.sync()` catches up). With `at`, a historical connection at that
   * past snapshot: NotFoundError for a tid not committed yet, StaleSnapshotError for one older than the
   * pack cutoff. `at` needs a storage that answers synchronously (SQLite); `snapshot()` takes any.
   */
  connect(options: ConnectOptions): Connection {
    this.#check()
    if (!options || !(options.ram instanceof RAM))
      throw new InvalidArgumentError('connect() needs { ram: RAM }')
    if (options.at !== undefined) {
      const tid = this.#resolve(options.at)
      if (isPromise(tid)) {
        tid.catch(() => {})
        throw new InvalidArgumentError(
          'this storage answers asynchronously: open a past snapshot with await db.snapshot({ ram, at })',
        )
      }
      const r = this.#historical(options.ram, tid)
      if (isPromise(r)) {
        // Only the pack-cutoff read answered late: the connection is not handed out, so let it go.
        r.then(
          (c) => c[Symbol.dispose](),
          () => {},
        )
        throw new InvalidArgumentError(
          'this storage answers asynchronously: open a past snapshot with await db.snapshot({ ram, at })',
        )
      }
      return r
    }
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

  /** `connect({ ram, at })` for any storage: a historical connection at `at` (a tid or a Date). */
  async snapshot(options: ConnectOptions & { at: Tid | Date }): Promise<Connection> {
    this.#check()
    if (!options || !(options.ram instanceof RAM))
      throw new InvalidArgumentError('snapshot() needs { ram: RAM, at }')
    if (options.at === undefined) throw new InvalidArgumentError('snapshot() needs { ram, at }')
    return this.#historical(options.ram, await this.#resolve(options.at))
  }

  /**
   * The tid a snapshot at `at` reads: a tid as it is, a Date as the newest commit at or before it (0 if
   * none). NotFoundError past the head, StaleSnapshotError before the pack cutoff.
   */
  async tidAt(at: Tid | Date): Promise<Tid> {
    this.#check()
    const tid = await this.#resolve(at)
    await this.#checkNotStale(tid)
    return tid
  }

  /**
   * The commit log, newest first: each commit's tid, time and the files it changed (name, blocks
   * written, whether the record changed or the file was deleted). Commits older than the pack cutoff
   * are gone.
   */
  async log(options: LogOptions = {}): Promise<Commit[]> {
    this.#check()
    const head = await this.head()
    const to = options.to ?? head
    const from = options.from ?? 0
    const limit = options.limit ?? Number.POSITIVE_INFINITY
    checkTid(from, 'from')
    checkTid(to, 'to')
    if (limit !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(limit) || limit < 1))
      throw new InvalidArgumentError(`limit must be a positive integer, got ${limit}`)
    let file: number | undefined
    if (options.name !== undefined) {
      checkName(options.name)
      const rec = await this.storage.fileByName(options.name, Math.min(to, head))
      if (!rec) throw new NotFoundError(`no file named ${JSON.stringify(options.name)} as of tid ${to}`)
      file = rec.id
    }
    return this.storage.log({ from, to, limit, file })
  }

  /** The newest tid. */
  async head(): Promise<Tid> {
    this.#check()
    const t = await this.storage.head()
    this._seen(t)
    return t
  }

  /** Live files at the newest snapshot (or as of `at`), by name. */
  async files(options: AtOptions = {}): Promise<FileRecord[]> {
    return this.storage.listFiles(await this.#readAt(options.at))
  }

  /** File `name` at the newest snapshot (or as of `at`); NotFoundError if there is none. */
  async stat(name: string, options: AtOptions = {}): Promise<FileRecord> {
    checkName(name)
    const at = options.at
    const rec = await this.storage.fileByName(name, await this.#readAt(at))
    if (!rec) {
      const when = at === undefined ? '' : ` as of ${at instanceof Date ? at.toISOString() : `tid ${at}`}`
      throw new NotFoundError(`no file named ${JSON.stringify(name)}${when}`)
    }
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
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('pack options must be an object { keep? }')
    const keep = options.keep ?? 0
    if (!Number.isSafeInteger(keep) || keep < 0) {
      throw new InvalidArgumentError(`keep must be a non-negative integer, got ${keep}`)
    }
    let cutoff = Math.max(0, (await this.head()) - keep)
    for (const c of this.#conns) cutoff = Math.min(cutoff, c.at)
    // Until it has run, a historical connection older than this cutoff must not open (#checkNotStale).
    this.#packing.add(cutoff)
    try {
      return await this.storage.pack(cutoff)
    } finally {
      this.#packing.delete(cutoff)
    }
  }

  /**
   * Verifies every stored version of every block and file record against its checksum, with progress.
   * Damage is reported in the result (each a ChecksumError naming file, block and tid), not thrown.
   */
  async check(options: CheckOptions = {}): Promise<CheckResult> {
    this.#check()
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('check options must be an object')
    if (!this.storage.check) throw new InvalidArgumentError('this storage keeps no checksums to check')
    return this.storage.check(options)
  }

  /**
   * Calls `listener` with the tid of every commit, this process's and others', as the storage pushes
   * them (PostgreSQL: NOTIFY; SQLite pushes nothing). Snapshots do not move: a connection sees the
   * commit at its next commit/abort/sync. Returns the unsubscribe function.
   */
  on(event: 'commit', listener: (tid: Tid) => void): () => void {
    this.#check()
    if (event !== 'commit') throw new InvalidArgumentError(`unknown event ${JSON.stringify(event)}`)
    if (typeof listener !== 'function') throw new InvalidArgumentError('listener must be a function')
    return (
      this.storage.subscribe?.((tid) => {
        this._seen(tid)
        listener(tid)
      }) ?? (() => {})
    )
  }

  /**
   * The tids of new commits as an async iterator, for `for await (const tid of db.commits({ signal }))`.
   * It yields the newest tid this Database knows of whenever that moves on, strictly increasing. A slow
   * consumer misses nothing it needs but intermediate tids: while it is busy, newer tids replace the one
   * waiting (one tid is buffered, never more). What moves it: with PostgreSQL, every commit of any
   * process, pushed by NOTIFY; with SQLite (which pushes nothing), this Database's own commits (its
   * connections' and createFile/deleteFile/renameFile) and other processes' commits only once this
   * Database reads the head (a connection's commit/abort/sync, `connect()`, `db.head()`). Snapshots do
   * not move: a connection sees the commit at its next commit/abort/sync. Ends on `close()`, on
   * `signal`'s abort, or when the loop breaks.
   */
  commits(options: CommitsOptions = {}): AsyncIterableIterator<Tid> {
    this.#check()
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('commits options must be an object { signal? }')
    const signal = options.signal
    let waiting: Tid | undefined
    let ended = false
    let wake: (() => void)[] = []
    const rouse = () => {
      const w = wake
      wake = []
      for (const f of w) f()
    }
    const watcher = {
      seen: (tid: Tid) => {
        waiting = tid
        rouse()
      },
      end: () => {
        if (ended) return
        ended = true
        this.#watchers.delete(watcher)
        unsubscribe?.()
        signal?.removeEventListener('abort', onAbort)
        rouse()
      },
    }
    const onAbort = () => watcher.end()
    this.#watchers.add(watcher)
    // The storage's pushes move the head (and so every iteration) as they come.
    const unsubscribe = this.storage.subscribe?.((tid) => this._seen(tid))
    if (signal?.aborted) watcher.end()
    else signal?.addEventListener('abort', onAbort, { once: true })
    const it: AsyncIterableIterator<Tid> = {
      async next(): Promise<IteratorResult<Tid>> {
        while (!ended && waiting === undefined) await new Promise<void>((r) => wake.push(r))
        if (ended) return { done: true, value: undefined }
        const tid = waiting as Tid
        waiting = undefined
        return { done: false, value: tid }
      },
      async return(): Promise<IteratorResult<Tid>> {
        watcher.end()
        return { done: true, value: undefined }
      },
      [Symbol.asyncIterator]() {
        return it
      },
    }
    return it
  }

  /** Discards every connection's uncommitted changes, closes them and the storage. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const w of [...this.#watchers]) w.end()
    for (const c of [...this.#conns]) c[Symbol.dispose]()
    await this.storage.close()
  }

  /** `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** @internal */
  _forget(conn: Connection): void {
    this.#conns.delete(conn)
  }

  /** @internal */
  _seen(tid: Tid): void {
    if (tid <= this.#head) return
    this.#head = tid
    for (const w of this.#watchers) w.seen(tid)
  }

  /** The tid `stat`/`files` read: the head, or `at` resolved and checked. */
  async #readAt(at: Tid | Date | undefined): Promise<Tid> {
    return at === undefined ? this.head() : this.tidAt(at)
  }

  /**
   * Opens a historical connection at `tid` (resolved by #resolve, step (1)): (2) register the connection,
   * so that no pack of this process passes it from now on, (3) check it against the pack cutoff — after
   * (2), so a pack that raced it is seen — and dispose of it when stale. Synchronous while the storage is.
   */
  #historical(ram: RAM, tid: Tid): Awaitable<Connection> {
    this.#check()
    // (2)
    const conn = new Connection(this, ram, tid, { readOnly: true })
    this.#conns.add(conn)
    // (3)
    try {
      const r = this.#checkNotStale(tid)
      if (!isPromise(r)) return conn
      return r.then(
        () => conn,
        (e: unknown) => {
          conn[Symbol.dispose]()
          throw e
        },
      )
    } catch (e) {
      conn[Symbol.dispose]()
      throw e
    }
  }

  /** (1) `at` as a tid: checked, a Date looked up in the log; NotFoundError past the head. */
  #resolve(at: Tid | Date): Awaitable<Tid> {
    if (at instanceof Date) {
      if (Number.isNaN(at.getTime())) throw new InvalidArgumentError('at: an invalid Date')
      return this.storage.tidAt(at)
    }
    checkTid(at, 'at')
    return then(this.storage.head(), (head) => {
      this._seen(head)
      if (at > head) throw new NotFoundError(`no commit ${at} yet: the newest is tid ${head}`)
      return at
    })
  }

  /** StaleSnapshotError when `tid` is older than the pack cutoff, or than a pack of this process about to run. */
  #checkNotStale(tid: Tid): Awaitable<void> {
    return then(this.storage.packed(), (packed) => {
      let cutoff = packed
      for (const c of this.#packing) cutoff = Math.max(cutoff, c)
      if (tid < cutoff) throw new StaleSnapshotError(tid, cutoff, `tids ${cutoff} and newer can be read`)
    })
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

function checkTid(tid: unknown, what: string): asserts tid is Tid {
  if (typeof tid !== 'number' || !Number.isSafeInteger(tid) || tid < 0)
    throw new InvalidArgumentError(`${what} must be a tid (a non-negative integer), got ${String(tid)}`)
}

/** `f(v)` now when `v` is a value, after it when a Promise: synchronous storages stay synchronous. */
function then<T, U>(v: Awaitable<T>, f: (t: T) => Awaitable<U>): Awaitable<U> {
  return isPromise(v) ? v.then(f) : f(v)
}
