// A Connection: one snapshot (`at`) of a database, the files opened through it, and the transaction
// boundaries (commit, abort, sync) where other writers' changes reach it.
import {
  AbortError,
  BusyError,
  ClosedError,
  CommitRefreshError,
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  ReadOnlyError,
} from '../errors.ts'
import { readonlyFields } from '../util/readonly.ts'
import type { FileHOptions } from '../virtmem/fileh.ts'
import type { RAM } from '../virtmem/ram.ts'
import { checkName, checkNewFile } from './check.ts'
import { type ConnectionCore, DbFile } from './file.ts'
import type { FileRecord, Meta, Storage, Tid } from './storage.ts'

/** How `conn.open(name, { create })` and `db.createFile` create a file. */
export interface CreateOptions {
  /** Bytes per block: a power of two from 512 B to 256 MiB (InvalidArgumentError otherwise). */
  blksize: number
  /** Byte size. Default 0. */
  size?: number
  /** JSON metadata of the file (a plain object). Default `{}`. */
  meta?: Meta
}

/** Options of `conn.open()`: the FileH options of the file's pages, and whether to create it. */
export interface OpenOptions extends FileHOptions {
  /** Create the file (in this transaction) if it does not exist as of `at`. */
  create?: CreateOptions
  /** Gives up with AbortError (code EABORT) once aborted. */
  signal?: AbortSignal
}

/** Options of `conn.commit()`. */
export interface CommitOptions {
  /**
   * Checked until the commit point: once aborted, the commit rolls back (nothing written, the pages stay
   * dirty) and throws AbortError (code EABORT). After the commit point the commit completes.
   */
  signal?: AbortSignal
}

/** Options of `conn.transaction()`. */
export interface TransactionOptions {
  /** How many times to run the function again after a ConflictError. Default 0. */
  retries?: number
  /** Checked before each attempt and by the commit (see CommitOptions). */
  signal?: AbortSignal
}

/** A file as a connection sees it (its own uncommitted changes included): `conn.list()`. */
export interface FileInfo {
  /** The file's name. */
  name: string
  /** Bytes per block. */
  blksize: number
  /** Size in bytes. */
  size: number
  /** The file's JSON metadata. */
  meta: Meta
}

/** What a Connection needs from its Database. */
export interface DatabaseCore {
  /** The storage the database commits to. */
  readonly storage: Storage
  _forget(conn: Connection): void
  _seen(tid: Tid): void
}

/**
 * One snapshot (`at`) of a database, the files opened through it, and its transaction: `commit()`,
 * `abort()` and `sync()` are where other writers' changes reach it. Get one with `db.connect({ ram })`.
 */
export class Connection implements ConnectionCore {
  /** The RAM whose frames hold the pages of the files opened through this connection. */
  readonly ram: RAM
  /**
   * A historical connection (`db.connect({ ram, at })`): it reads its past snapshot and nothing else.
   * Writes to its pages, record changes, creations and `commit()` are refused with ReadOnlyError (EROFS);
   * it never moves (`sync()`: ReadOnlyError; `abort()` stays).
   */
  readonly readOnly: boolean
  readonly #db: DatabaseCore
  #at: Tid
  readonly #files = new Set<DbFile>()
  #busy = false
  #closed = false

  /** @internal Use `db.connect`. */
  constructor(db: DatabaseCore, ram: RAM, at: Tid, options: { readOnly?: boolean } = {}) {
    this.#db = db
    this.ram = ram
    this.#at = at
    this.readOnly = options.readOnly ?? false
    readonlyFields(this, ['ram', 'readOnly'])
  }

  /** The snapshot this connection reads: every commit with tid <= at, nothing newer. */
  get at(): Tid {
    return this.#at
  }
  /** The database's storage. */
  get storage(): Storage {
    return this.#db.storage
  }
  /** Whether the connection was closed (`close()`, `using`, or its database's close); calls then throw ClosedError. */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * File `name` as of `at` — the same DbFile while it stays open. With `create`, a file
   * missing at `at` is created by this transaction (visible to others once committed; a concurrent
   * creation of the same name makes the commit fail with ConflictError).
   */
  async open(name: string, options: OpenOptions = {}): Promise<DbFile> {
    this.#check()
    checkName(name)
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('open options must be an object { create?, ... }')
    const have = this.#find(name)
    if (have) return have
    const { create, signal, ...fhOptions } = options
    checkSignal(signal)
    const rec = await this.storage.fileByName(name, this.#at)
    this.#check()
    checkSignal(signal)
    const again = this.#find(name)
    if (again) return again
    let file: DbFile
    if (rec) file = new DbFile(this, this.ram, rec, fhOptions)
    else if (create && this.readOnly) throw this.#readOnlyError('create a file')
    else if (create) {
      const spec = { id: undefined, ...checkNewFile(name, create, 'create') }
      file = new DbFile(this, this.ram, spec, fhOptions)
    } else throw new NotFoundError(`no file named ${JSON.stringify(name)} as of tid ${this.#at}`)
    this.#files.add(file)
    return file
  }

  /** Files as of `at`, with this transaction's own creations and changes. */
  async list(): Promise<FileInfo[]> {
    this.#check()
    const out = new Map<string, FileInfo>()
    for (const r of await this.storage.listFiles(this.#at)) {
      out.set(r.name, { name: r.name, blksize: r.blksize, size: r.size, meta: r.meta })
    }
    for (const f of this.#files) {
      if (f.gone || f.closed) continue
      out.set(f.name, { name: f.name, blksize: f.blksize, size: f.size, meta: f.meta })
    }
    return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** Whether any file has dirty pages or record changes. */
  hasChanges(): boolean {
    for (const f of this.#files) if (f._hasChanges()) return true
    return false
  }

  /**
   * Commits: one storage transaction checks for conflicts (ConflictError: nothing written, pages stay
   * dirty — abort() to go on), stores the record changes and every dirty block, and is made durable;
   * then the pages are marked stored and the connection moves to the new tid, invalidating exactly
   * what other commits changed in between. Returns the new `at`.
   */
  async commit(options: CommitOptions = {}): Promise<Tid> {
    const signal = options?.signal
    checkSignal(signal)
    this.#check()
    if (this.readOnly) throw this.#readOnlyError('commit')
    this.#enter()
    const files = [...this.#files].filter((f) => f._hasChanges())
    const frozen: DbFile[] = []
    try {
      if (files.length === 0) {
        await this.#moveToHead()
        return this.#at
      }
      // (1) freeze writes: every dirty page is write-protected and writes are refused until (8), so the
      //     blocks checked in (3) are exactly those stored in (4), and nothing written after the STORE
      //     is marked stored by (7) without having been stored.
      for (const f of files) {
        f.fileh.freezeForWriteout()
        frozen.push(f)
      }
      // (2) begin: wait for other writers, take the write lock, allocate the tid.
      const txn = await this.storage.begin()
      try {
        checkSignal(signal)
        // (3) conflict check: first committer wins; ConflictError leaves everything as it was.
        await txn.checkConflicts(
          this.#at,
          files.map((f) => f._touched()),
        )
        // (4) store each file into the txn: its record changes, then its dirty blocks (writeout STORE).
        for (const f of files) await f._store(txn)
        checkSignal(signal)
        // (5) txn.commit: the log rows, then durable.
        await txn.commit()
      } catch (e) {
        await txn.rollback()
        for (const f of files) f._commitFailed()
        throw e
      }
      // (6) move the snapshot, part one: read what others changed between `at` and the new tid.
      let move: (() => void) | undefined
      let refreshError: unknown
      try {
        move = await this.#readMove(txn.tid, txn.tid)
      } catch (e) {
        refreshError = e
      }
      // (7) MARKSTORED and the records, then the move itself, with no await in between: a page marked
      //     stored and reloaded in a gap would read the old snapshot and stay stale. The commit is durable
      //     even when (6) failed: mark it, then tell (CommitRefreshError).
      for (const f of files) f._commitDone()
      if (!move) throw new CommitRefreshError(txn.tid, refreshError)
      move()
      return this.#at
    } finally {
      // (8) thaw: writes go on (a failed commit leaves its pages dirty for abort() or another commit).
      for (const f of frozen) f.fileh.thawAfterWriteout()
      this.#busy = false
    }
  }

  /**
   * Runs `fn` as one transaction, the way lmdb-js, better-sqlite3 and pglite do: commits when it returns
   * (and answers what it returned), aborts when it throws (and rethrows); on ConflictError (another
   * commit won) aborts — which moves to the newest snapshot — and runs `fn` again, up to `retries` times,
   * then throws the ConflictError. `fn` should read what it changes inside, so a retry sees the new data.
   * BusyError if the connection has uncommitted changes before it starts.
   */
  async transaction<T>(fn: (conn: this) => T | Promise<T>, options: TransactionOptions = {}): Promise<T> {
    const retries = options?.retries ?? 0
    if (!Number.isSafeInteger(retries) || retries < 0)
      throw new InvalidArgumentError(`retries must be a non-negative integer, got ${retries}`)
    if (typeof fn !== 'function') throw new InvalidArgumentError('transaction needs a function')
    const signal = options?.signal
    this.#check()
    if (this.hasChanges())
      throw new BusyError('the connection has uncommitted changes: commit() or abort() before a transaction')
    for (let attempt = 0; ; attempt++) {
      try {
        checkSignal(signal)
        const result = await fn(this)
        await this.commit(signal ? { signal } : {})
        return result
      } catch (e) {
        // Leave the connection clean whatever happened; the error that ended the attempt is the one to tell.
        if (!this.#closed) await this.abort().catch(() => {})
        if (!(e instanceof ConflictError) || attempt >= retries) throw e
      }
    }
  }

  /** Drops every uncommitted change and moves to the newest snapshot (a historical connection stays). */
  async abort(): Promise<void> {
    this.#enter()
    try {
      for (const f of this.#files) f._abort()
      if (!this.readOnly) await this.#moveToHead()
    } finally {
      this.#busy = false
    }
  }

  /** Moves to the newest snapshot; BusyError when there are uncommitted changes. */
  async sync(): Promise<void> {
    this.#check()
    if (this.readOnly) throw this.#readOnlyError('move (sync)')
    this.#enter()
    try {
      if (this.hasChanges())
        throw new BusyError('the connection has uncommitted changes: commit() or abort() first')
      await this.#moveToHead()
    } finally {
      this.#busy = false
    }
  }

  /** Closes every file; BusyError when there are uncommitted changes (abort first). */
  close(): void {
    if (this.#closed) return
    if (this.#busy) throw new BusyError('a commit, abort or sync of this connection is in progress')
    if (this.hasChanges())
      throw new BusyError('the connection has uncommitted changes: commit() or abort() first')
    this.#dispose()
  }

  /** Discards uncommitted changes, unmaps and closes everything. Never throws. */
  [Symbol.dispose](): void {
    if (this.#closed) return
    for (const f of this.#files) f._abort()
    this.#dispose()
  }

  #dispose(): void {
    this.#closed = true
    for (const f of [...this.#files]) f[Symbol.dispose]()
    this.#files.clear()
    this.#db._forget(this)
  }

  /** @internal */
  _forget(file: DbFile): void {
    this.#files.delete(file)
  }

  /** Moves to the newest snapshot (commit with nothing to commit, abort, sync). */
  async #moveToHead(): Promise<void> {
    ;(await this.#readMove(await this.storage.head(), undefined))()
  }

  /**
   * Reads what moving `at` to `tid` needs and returns the move itself, which invalidates the pages and
   * records others changed (not those of `own`). The move is synchronous, so a caller can apply it
   * together with other state changes; a failing read leaves the connection where it was.
   */
  async #readMove(tid: Tid, own: Tid | undefined): Promise<() => void> {
    const from = this.#at
    if (tid === from) return () => {}
    const changes = await this.storage.changes(from, tid)
    const byId = new Map<number, DbFile>()
    for (const f of this.#files) if (f.id !== undefined && !f.gone && !f.closed) byId.set(f.id, f)
    const ids =
      changes === null
        ? [...byId.keys()] // history before `from` was packed away: reload everything
        : [
            ...new Set(
              changes.filter((c) => c.record && c.tid !== own && byId.has(c.file)).map((c) => c.file),
            ),
          ]
    const records = new Map<number, FileRecord | undefined>()
    for (const id of ids) records.set(id, await this.storage.fileById(id, tid))
    return () => {
      this.#at = tid
      this.#db._seen(tid)
      if (changes === null) for (const f of byId.values()) f._invalidateAll()
      else {
        for (const c of changes) if (c.tid !== own) byId.get(c.file)?._invalidateBlocks(c.blocks)
      }
      for (const [id, rec] of records) byId.get(id)?._refresh(rec)
    }
  }

  #readOnlyError(what: string): ReadOnlyError {
    return new ReadOnlyError(`cannot ${what}: this connection reads the past snapshot at tid ${this.#at}`)
  }

  #find(name: string): DbFile | undefined {
    for (const f of this.#files) if (!f.gone && !f.closed && f.name === name) return f
    return undefined
  }

  #enter(): void {
    this.#check()
    if (this.#busy) throw new BusyError('a commit, abort or sync of this connection is in progress')
    this.#busy = true
  }

  #check(): void {
    if (this.#closed) throw new ClosedError('connection is closed')
  }
}

function checkSignal(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(signal.reason)
}
