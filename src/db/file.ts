// A database file: a BigFile whose loadblk reads the block as of the connection's `at` and whose storeblk
// writes into the transaction of the commit storing it, plus the FileH that caches its pages and the
// record (size, meta) that changes transactionally with them.
import { BusyError, ClosedError, InvalidArgumentError, NotFoundError, ReadOnlyError } from '../errors.ts'
import type { Awaitable } from '../util/awaitable.ts'
import { readonlyFields } from '../util/readonly.ts'
import type { BigFile } from '../virtmem/bigfile.ts'
import { FileH, type FileHOptions, WriteoutFlags } from '../virtmem/fileh.ts'
import type { RAM } from '../virtmem/ram.ts'
import type { VMA } from '../virtmem/vma.ts'
import { checkMeta, checkSize } from './check.ts'
import type { FileRecord, Meta, Storage, StorageTxn, Tid, Touched } from './storage.ts'

/** What a DbFile needs from its connection. */
export interface ConnectionCore {
  /** The snapshot the connection reads. */
  readonly at: Tid
  /** A historical connection: pages and record are read-only. */
  readonly readOnly: boolean
  /** The storage the connection reads from and commits to. */
  readonly storage: Storage
  _forget(file: DbFile): void
}

interface RecordState {
  name: string
  blksize: number
  size: number
  meta: Meta
}

const MAX_PAGES = (ps: number) => Math.floor(Number.MAX_SAFE_INTEGER / ps)

/**
 * One file of a database as a connection sees it. Map it through `fileh` (or `mmap`); its pages and
 * record changes are stored by `conn.commit()` and dropped by `conn.abort()`.
 */
export class DbFile implements BigFile, Disposable {
  /** Bytes per block, fixed at the file's creation. */
  readonly blksize: number
  /** The pages of this file. Their writeout is the commit's job: storeblk refuses outside `conn.commit()`. */
  readonly fileh: FileH
  readonly #conn: ConnectionCore
  #id: number | undefined
  /** The record as of the connection's `at`; undefined for a file created by this transaction. */
  #committed: RecordState | undefined
  /** The record as this transaction changed it (also a pending creation), else undefined. */
  #pending: RecordState | undefined
  /** Blocks from here on were dropped by a shrink in this transaction. */
  #dropFrom: number | undefined
  #gone = false
  /** The transaction storeblk writes into: set by `_store` for the length of its writeout only. */
  #txn: StorageTxn | undefined

  /** @internal Use `conn.open`. */
  constructor(
    conn: ConnectionCore,
    ram: RAM,
    rec: { id: number | undefined } & RecordState,
    options?: FileHOptions,
  ) {
    this.blksize = rec.blksize
    this.#conn = conn
    this.#id = rec.id
    const state = { name: rec.name, blksize: rec.blksize, size: rec.size, meta: rec.meta }
    if (rec.id === undefined) this.#pending = state
    else this.#committed = state
    this.fileh = new FileH(this, ram, conn.readOnly ? { ...options, readOnly: true } : options)
    readonlyFields(this, ['blksize', 'fileh', '_epoch'])
  }

  /** The file id in the storage; undefined while its creation is not committed yet. */
  get id(): number | undefined {
    return this.#id
  }
  /** The file's name as of the connection's snapshot. */
  get name(): string {
    return this.#rec().name
  }
  /** Size in bytes, with this transaction's resize if any. */
  get size(): number {
    return this.#rec().size
  }
  /** A copy of the metadata object. */
  get meta(): Meta {
    return structuredClone(this.#rec().meta)
  }
  /** The file was deleted by a commit this connection has seen, or its creation was aborted. */
  get gone(): boolean {
    return this.#gone
  }
  /** Whether the file was closed (its FileH is closed). */
  get closed(): boolean {
    return this.fileh.closed
  }

  /** Maps pages [pgoffset, pgoffset + pglen): `fileh.mmap`. */
  mmap(pgoffset: number, pglen: number): VMA {
    return this.fileh.mmap(pgoffset, pglen)
  }

  #rec(): RecordState {
    return (this.#pending ?? this.#committed) as RecordState
  }

  /**
   * @internal Bumped whenever the record (size, meta) may have changed — an edit, an abort, a refresh from
   * another commit — so that views of it (BigArray) can test for staleness with one load and compare.
   */
  readonly _epoch = { v: 0 }

  #edit(): RecordState {
    this._epoch.v++
    if (this.#gone) throw new NotFoundError(`file ${JSON.stringify(this.name)} no longer exists`)
    if (this.closed) throw new ClosedError('FileH is closed')
    if (this.#conn.readOnly) {
      throw new ReadOnlyError(
        `file ${JSON.stringify(this.name)} is read-only: its connection reads the past snapshot at tid ${this.#conn.at}`,
      )
    }
    if (this.fileh.frozenForWriteout)
      throw new BusyError('a commit of this file is in progress; change it after it ends')
    if (!this.#pending) this.#pending = { ...(this.#committed as RecordState) }
    return this.#pending
  }

  /** Replaces the metadata (committed with the pages). */
  setMeta(meta: Meta): void {
    const m = checkMeta(meta)
    this.#edit().meta = m
  }

  /**
   * Sets the byte size (committed with the pages). Shrinking zeroes the tail of the last block and
   * drops every block past it: they read as zeros, and pack frees their storage.
   */
  async resize(size: number): Promise<void> {
    checkSize(size)
    const rec = this.#edit()
    if (size < rec.size) {
      const ps = this.fileh.pagesize
      const unit = Math.max(this.blksize, ps)
      const end = Math.ceil(size / unit) * unit
      if (end > size) {
        const pgoffset = Math.floor(size / ps)
        const vma = this.fileh.mmap(pgoffset, (end - pgoffset * ps) / ps)
        try {
          await vma.write(size - pgoffset * ps, new Uint8Array(end - size))
        } finally {
          vma.unmap()
        }
      }
      const fromPg = end / ps
      this.fileh.invalidateRange(fromPg, MAX_PAGES(ps) - fromPg)
      const fromBlk = Math.ceil(size / this.blksize)
      this.#dropFrom = Math.min(this.#dropFrom ?? fromBlk, fromBlk)
    }
    rec.size = size
  }

  /** Closes the FileH (see FileH.close); refuses while the file has uncommitted changes: commit or abort first. */
  close(): void {
    if (this.closed) return
    this.#checkNoChanges()
    this.fileh.close()
    this.#conn._forget(this)
  }

  /** Unmaps every mapping, then closes; refuses like close() while the file has uncommitted changes. */
  [Symbol.dispose](): void {
    if (this.closed) return
    this.#checkNoChanges()
    this.fileh[Symbol.dispose]()
    this.#conn._forget(this)
  }

  #checkNoChanges(): void {
    if (this._hasChanges()) {
      throw new BusyError(
        `file ${JSON.stringify(this.name)} has uncommitted changes: commit() or abort() first`,
      )
    }
  }

  // ---------------------------------------------------------------- the BigFile side

  /** The block as of the connection's `at`; zeros for a file not yet stored or blocks a shrink dropped. */
  loadblk(blk: number, buf: Uint8Array): Awaitable<void> {
    if (this.#gone) throw new NotFoundError(`file ${JSON.stringify(this.name)} no longer exists`)
    if (this.#id === undefined || (this.#dropFrom !== undefined && blk >= this.#dropFrom)) {
      buf.fill(0)
      return
    }
    return this.#conn.storage.loadBlock(this.#id, blk, this.#conn.at, buf)
  }

  /** Blocks `blk` .. `blk + count - 1` as of the connection's `at`, in one storage call where it has one. */
  loadblks(blk: number, count: number, buf: Uint8Array): Awaitable<void> {
    if (this.#gone) throw new NotFoundError(`file ${JSON.stringify(this.name)} no longer exists`)
    const storage = this.#conn.storage
    const id = this.#id
    const bs = this.blksize
    const drop = this.#dropFrom
    // A range reaching into blocks a shrink dropped, or a file not yet stored, goes block by block.
    if (id === undefined || storage.loadBlocks === undefined || (drop !== undefined && blk + count > drop)) {
      const each = (k: number): Awaitable<void> => {
        for (; k < count; k++) {
          const r = this.loadblk(blk + k, buf.subarray(k * bs, (k + 1) * bs))
          if (r instanceof Promise) return r.then(() => each(k + 1))
        }
      }
      return each(0)
    }
    return storage.loadBlocks(id, blk, count, this.#conn.at, buf)
  }

  /** Into the transaction of the commit storing this file; refused (BusyError) outside one. */
  storeblk(blk: number, buf: Uint8Array): Awaitable<void> {
    const txn = this.#txn
    if (!txn || this.#id === undefined) {
      throw new BusyError('pages of a database file are written out by conn.commit()')
    }
    return txn.writeBlock(this.#id, blk, buf)
  }

  // ---------------------------------------------------------------- for the connection

  /** @internal */
  _hasChanges(): boolean {
    return !this.closed && !this.#gone && (this.fileh.isDirty() || this.#pending !== undefined)
  }

  /** @internal What the commit changes here, for the conflict check: the blocks the dirty pages cover. */
  _touched(): Touched {
    return {
      file: this.#id,
      name: this.name,
      blocks: this.#dirtyBlocks(),
      record: this.#pending !== undefined,
    }
  }

  #dirtyBlocks(): number[] {
    const bs = this.blksize
    const ps = this.fileh.pagesize
    const out: number[] = []
    if (bs <= ps) {
      const bpp = ps / bs
      for (const pg of this.fileh.dirtyPages()) for (let k = 0; k < bpp; k++) out.push(pg * bpp + k)
    } else {
      const ppb = bs / ps
      for (const pg of this.fileh.dirtyPages()) {
        const blk = Math.floor(pg / ppb)
        if (out[out.length - 1] !== blk) out.push(blk)
      }
    }
    return out
  }

  /** @internal Stores the record changes, then every dirty block, into `txn` (pages stay dirty). */
  async _store(txn: StorageTxn): Promise<void> {
    const p = this.#pending
    if (p && this.#id === undefined) {
      this.#id = await txn.createFile({ name: p.name, blksize: p.blksize, size: p.size, meta: p.meta })
    } else if (p && this.#id !== undefined) {
      await txn.updateFile(this.#id, { name: p.name, size: p.size, meta: p.meta })
      if (this.#dropFrom !== undefined) await txn.dropBlocks(this.#id, this.#dropFrom)
    }
    if (!this.fileh.isDirty()) return
    this.#txn = txn
    try {
      await this.fileh.writeout(WriteoutFlags.STORE)
    } finally {
      this.#txn = undefined
    }
  }

  /** @internal The commit failed: a file created by it has no id again. */
  _commitFailed(): void {
    this._epoch.v++
    if (this.#committed === undefined) this.#id = undefined
  }

  /** @internal The commit is durable: the pages are stored, the pending record is the committed one. */
  _commitDone(): void {
    if (this.fileh.isDirty()) this.fileh.writeout(WriteoutFlags.MARKSTORED)
    if (this.#pending) this.#committed = this.#pending
    this.#pending = undefined
    this.#dropFrom = undefined
  }

  /** @internal abort(): drop dirty pages and the pending record. */
  _abort(): void {
    this._epoch.v++
    if (this.closed) return
    this.fileh.discard()
    if (this.#dropFrom !== undefined) this._invalidateAll()
    if (this.#committed === undefined && this.#pending !== undefined) this.#gone = true
    else this.#pending = undefined
    this.#dropFrom = undefined
  }

  /** @internal Another commit changed these blocks. */
  _invalidateBlocks(blocks: readonly number[]): void {
    if (this.closed) return
    const bs = this.blksize
    const ps = this.fileh.pagesize
    let start = -1
    let end = -1
    for (const blk of blocks) {
      const a = Math.floor((blk * bs) / ps)
      const b = Math.ceil(((blk + 1) * bs) / ps)
      if (a <= end) end = Math.max(end, b)
      else {
        if (end > start) this.fileh.invalidateRange(start, end - start)
        start = a
        end = b
      }
    }
    if (end > start) this.fileh.invalidateRange(start, end - start)
  }

  /** @internal */
  _invalidateAll(): void {
    if (!this.closed) this.fileh.invalidateRange(0, MAX_PAGES(this.fileh.pagesize))
  }

  /** @internal Another commit changed the record; undefined: the file was deleted. */
  _refresh(rec: FileRecord | undefined): void {
    this._epoch.v++
    if (!rec) {
      this.#gone = true
      this._invalidateAll()
      return
    }
    if (rec.blksize !== this.blksize) throw new InvalidArgumentError(`file #${rec.id} changed its blksize`)
    this.#committed = { name: rec.name, blksize: rec.blksize, size: rec.size, meta: rec.meta }
  }
}
