// A FileH bound to a Connection: loads read the file as of the connection's `at`, stores go into the
// connection's open commit, and the record (size, meta) changes transactionally with the pages.
import { BusyError, ClosedError, InvalidArgumentError, NotFoundError } from '../errors.ts'
import type { Awaitable } from '../util/awaitable.ts'
import type { BigFile } from '../virtmem/bigfile.ts'
import { FileH, type FileHOptions, WriteoutFlags } from '../virtmem/fileh.ts'
import type { RAM } from '../virtmem/ram.ts'
import { checkMeta, checkSize } from './check.ts'
import type { FileRecord, Meta, Storage, StorageTxn, Tid, Touched } from './storage.ts'

/** What a DbFileH needs from its connection. */
export interface ConnectionCore {
  readonly at: Tid
  readonly storage: Storage
  /** @internal The open storage transaction while a commit writes out, else undefined. */
  readonly txn: StorageTxn | undefined
  _forget(fh: DbFileH): void
}

interface RecordState {
  name: string
  blksize: number
  size: number
  meta: Meta
}

/** The BigFile under a DbFileH: a forwarder, since the FileH must exist before it can be bound. */
class Blocks implements BigFile {
  readonly blksize: number
  fh: DbFileH | undefined
  constructor(blksize: number) {
    this.blksize = blksize
  }
  loadblk(blk: number, buf: Uint8Array): Awaitable<void> {
    return (this.fh as DbFileH)._loadblk(blk, buf)
  }
  storeblk(blk: number, buf: Uint8Array): Awaitable<void> {
    return (this.fh as DbFileH)._storeblk(blk, buf)
  }
}

const MAX_PAGES = (ps: number) => Math.floor(Number.MAX_SAFE_INTEGER / ps)

export class DbFileH extends FileH {
  readonly #conn: ConnectionCore
  #id: number | undefined
  /** The record as of the connection's `at`; undefined for a file created by this transaction. */
  #committed: RecordState | undefined
  /** The record as this transaction changed it (also a pending creation), else undefined. */
  #pending: RecordState | undefined
  /** Blocks from here on were dropped by a shrink in this transaction. */
  #dropFrom: number | undefined
  #gone = false
  #writing = false

  constructor(
    conn: ConnectionCore,
    ram: RAM,
    rec: { id: number | undefined } & RecordState,
    options?: FileHOptions,
  ) {
    const blocks = new Blocks(rec.blksize)
    super(blocks, ram, options)
    blocks.fh = this
    this.#conn = conn
    this.#id = rec.id
    const state = { name: rec.name, blksize: rec.blksize, size: rec.size, meta: rec.meta }
    if (rec.id === undefined) this.#pending = state
    else this.#committed = state
  }

  get id(): number | undefined {
    return this.#id
  }
  get name(): string {
    return this.#rec().name
  }
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
    if (this._writesFrozen)
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
      const unit = Math.max(this.blksize, this.pagesize)
      const end = Math.ceil(size / unit) * unit
      if (end > size) {
        const pg = Math.floor(size / this.pagesize)
        const vma = this.mmap(pg, (end - pg * this.pagesize) / this.pagesize)
        try {
          await vma.write(size - pg * this.pagesize, new Uint8Array(end - size))
        } finally {
          vma.unmap()
        }
      }
      const fromPg = end / this.pagesize
      this.invalidateRange(fromPg, MAX_PAGES(this.pagesize) - fromPg)
      const fromBlk = Math.ceil(size / this.blksize)
      this.#dropFrom = Math.min(this.#dropFrom ?? fromBlk, fromBlk)
    }
    rec.size = size
  }

  /** Pages are written out by `conn.commit()`, never directly. */
  override writeout(flags: number): Awaitable<void> {
    if (!this.#writing) throw new BusyError('pages of a database file are written out by conn.commit()')
    return super.writeout(flags)
  }

  /** Refuses while the file has uncommitted changes: commit or abort first. */
  override close(): void {
    if (this.closed) return
    if (this._hasChanges()) {
      throw new BusyError(
        `file ${JSON.stringify(this.name)} has uncommitted changes: commit() or abort() first`,
      )
    }
    super.close()
    this.#conn._forget(this)
  }

  // ---------------------------------------------------------------- for the BigFile forwarder

  /** @internal */
  _loadblk(blk: number, buf: Uint8Array): Awaitable<void> {
    if (this.#gone) throw new NotFoundError(`file ${JSON.stringify(this.name)} no longer exists`)
    if (this.#id === undefined || (this.#dropFrom !== undefined && blk >= this.#dropFrom)) {
      buf.fill(0)
      return
    }
    return this.#conn.storage.loadBlock(this.#id, blk, this.#conn.at, buf)
  }

  /** @internal */
  _storeblk(blk: number, buf: Uint8Array): Awaitable<void> {
    const txn = this.#conn.txn
    if (!this.#writing || !txn || this.#id === undefined) {
      throw new BusyError('storeblk outside conn.commit()')
    }
    return txn.writeBlock(this.#id, blk, buf)
  }

  // ---------------------------------------------------------------- for the connection

  /** @internal */
  _hasChanges(): boolean {
    return !this.closed && !this.#gone && (this.isDirty() || this.#pending !== undefined)
  }

  /** @internal The blocks the dirty pages cover, ascending. */
  _dirtyBlocks(): number[] {
    const bs = this.blksize
    const ps = this.pagesize
    const out: number[] = []
    if (bs <= ps) {
      const bpp = ps / bs
      for (const pg of this.dirtyPages()) for (let k = 0; k < bpp; k++) out.push(pg * bpp + k)
    } else {
      const ppb = bs / ps
      for (const pg of this.dirtyPages()) {
        const blk = Math.floor(pg / ppb)
        if (out[out.length - 1] !== blk) out.push(blk)
      }
    }
    return out
  }

  /** @internal */
  _touched(): Touched {
    return {
      file: this.#id,
      name: this.name,
      blocks: this._dirtyBlocks(),
      record: this.#pending !== undefined,
    }
  }

  /** @internal Record operations of the commit, before the pages are stored. */
  async _applyOps(txn: StorageTxn): Promise<void> {
    const p = this.#pending
    if (!p) return
    if (this.#id === undefined) {
      this.#id = await txn.createFile({ name: p.name, blksize: p.blksize, size: p.size, meta: p.meta })
    } else {
      await txn.updateFile(this.#id, { name: p.name, size: p.size, meta: p.meta })
      if (this.#dropFrom !== undefined) await txn.dropBlocks(this.#id, this.#dropFrom)
    }
  }

  /** @internal Writeout on behalf of the commit. */
  _writeout(flags: number): Awaitable<void> {
    this.#writing = true
    try {
      const r = super.writeout(flags)
      if (r === undefined) {
        this.#writing = false
        return
      }
      return r.finally(() => {
        this.#writing = false
      })
    } catch (e) {
      this.#writing = false
      throw e
    }
  }

  /** @internal The commit failed: a file created by it has no id again. */
  _commitFailed(): void {
    this._epoch.v++
    if (this.#committed === undefined) this.#id = undefined
  }

  /** @internal The commit succeeded: the pending record is now the committed one. */
  _commitDone(): void {
    if (this.#pending) this.#committed = this.#pending
    this.#pending = undefined
    this.#dropFrom = undefined
  }

  /** @internal abort(): drop dirty pages and the pending record. */
  _abort(): void {
    this._epoch.v++
    if (this.closed) return
    this.discard()
    if (this.#dropFrom !== undefined) this._invalidateAll()
    if (this.#committed === undefined && this.#pending !== undefined) this.#gone = true
    else this.#pending = undefined
    this.#dropFrom = undefined
  }

  /** @internal Another commit changed these blocks. */
  _invalidateBlocks(blocks: readonly number[]): void {
    if (this.closed) return
    const bs = this.blksize
    const ps = this.pagesize
    let start = -1
    let end = -1
    for (const blk of blocks) {
      const a = Math.floor((blk * bs) / ps)
      const b = Math.ceil(((blk + 1) * bs) / ps)
      if (a <= end) end = Math.max(end, b)
      else {
        if (end > start) this.invalidateRange(start, end - start)
        start = a
        end = b
      }
    }
    if (end > start) this.invalidateRange(start, end - start)
  }

  /** @internal */
  _invalidateAll(): void {
    if (!this.closed) this.invalidateRange(0, MAX_PAGES(this.pagesize))
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

export const STORE = WriteoutFlags.STORE
export const MARKSTORED = WriteoutFlags.MARKSTORED
