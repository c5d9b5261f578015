// The RawFile: a FileH over the raw file's blocks plus its commit protocol (journal, then in place).
import { dirname } from 'node:path'
import {
  BigFileError,
  BusyError,
  ClosedError,
  InvalidArgumentError,
  OutOfRangeError,
  ReadOnlyError,
  StorageError,
  StoreError,
} from '../errors.ts'
import { isPromise } from '../util/awaitable.ts'
import { readonlyFields } from '../util/readonly.ts'
import { type BigFile, FileH, type RAM, type VMA, WriteoutFlags } from '../virtmem/index.ts'
import { ioError, type RawIO, wrapIO } from './io.ts'
import type { Recovery } from './journal-replay.ts'
import { JournalWriter } from './journal-writer.ts'
import type { WriterLock } from './lock.ts'
import type { RawFileMode, RawFileOptions } from './options.ts'
import { replayOrDiscard } from './recovery.ts'

/** What a commit's storeblk calls do: nothing allowed, append to the journal, or write in place. */
type Phase = 'idle' | 'journal' | 'apply'

/**
 * A raw binary file mapped through the VM: blocks of `blksize` bytes starting at `offset`. See index.ts
 * for the model; open one with `openRawFile`.
 */
export class RawFile implements Disposable {
  /** The path as given to `openRawFile`. */
  readonly path: string
  /** `'r'` (read-only) or `'rw'` (read-write, holding the writer lock). */
  readonly mode: RawFileMode
  /** Bytes per block. */
  readonly blksize: number
  /** Bytes skipped at the start of the file (a header). */
  readonly offset: number
  /** Bytes mapped (after `offset`). Fixed: a raw file never grows or shrinks. */
  readonly length: number
  /** Blocks mapped: `length / blksize`, rounded up (the last one may be partial). */
  readonly nblocks: number
  /** The file handle whose pages cache the file: map them with `fileh.mmap()`. */
  readonly fileh: FileH
  /** What the open found: no journal, a journal replayed (a crashed commit completed), or a torn one dropped. */
  readonly recovery: Recovery
  readonly #io: RawIO
  readonly #dfd: number
  readonly #jfd: number
  readonly #jpath: string
  readonly #lock: WriterLock | undefined
  readonly #journal: JournalWriter | undefined
  readonly #fileSize: number
  #phase: Phase = 'idle'
  /** A commit failed after its journal became durable: replay it before anything reads the file. */
  #mustReplay = false
  #closed = false

  /** @internal Use openRawFile. */
  constructor(init: {
    path: string
    mode: RawFileMode
    blksize: number
    offset: number
    length: number
    ram: RAM
    options: RawFileOptions
    io: RawIO
    dfd: number
    jfd: number
    jpath: string
    lock: WriterLock | undefined
    fileSize: number
    recovery: Recovery
  }) {
    this.path = init.path
    this.mode = init.mode
    this.blksize = init.blksize
    this.offset = init.offset
    this.length = init.length
    this.nblocks = Math.ceil(init.length / init.blksize)
    this.recovery = init.recovery
    this.#io = init.io
    this.#dfd = init.dfd
    this.#jfd = init.jfd
    this.#jpath = init.jpath
    this.#lock = init.lock
    this.#fileSize = init.fileSize
    this.#journal = init.jfd >= 0 ? new JournalWriter(init.io, init.jfd) : undefined
    const file: BigFile = {
      blksize: init.blksize,
      loadblk: (blk, buf) => this.#load(blk, buf),
      storeblk: (blk, buf) => this.#store(blk, buf),
    }
    this.fileh = new FileH(file, init.ram, init.options.fileh)
    readonlyFields(this, ['path', 'mode', 'blksize', 'offset', 'length', 'nblocks', 'fileh', 'recovery'])
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed
  }

  /** Pages of the mapping that covers the whole file (the last one padded with zeros). */
  get pages(): number {
    return Math.ceil(this.length / this.fileh.pagesize)
  }

  /** Whether a failed commit left a durable journal that the next load, commit, abort or close replays. */
  get needsRecovery(): boolean {
    return this.#mustReplay
  }

  /** Maps pages [pgoffset, pgoffset + pglen) of the file; by default all of it. */
  mmap(pgoffset = 0, pglen: number = this.pages - pgoffset): VMA {
    this.#checkOpen()
    return this.fileh.mmap(pgoffset, pglen)
  }

  // ---------------------------------------------------------------- the BigFile side

  #load(blk: number, buf: Uint8Array): void {
    this.#checkOpen()
    if (this.#mustReplay) this.#replay()
    const n = this.#bytesOf(blk)
    const pos = this.offset + blk * this.blksize
    let got: number
    try {
      got = n > 0 ? this.#io.read(this.#dfd, buf.subarray(0, n), pos) : 0
    } catch (e) {
      throw ioError(`reading block ${blk} of ${this.path}`, e)
    }
    if (got < n) {
      throw new StorageError(`${this.path} shrank: block ${blk} reads ${got} of ${n} bytes at ${pos}`)
    }
    buf.fill(0, n)
  }

  #store(blk: number, buf: Uint8Array): void {
    if (this.#phase === 'idle') {
      if (this.mode === 'r') throw new ReadOnlyError(`${this.path} is open read-only`)
      throw new InvalidArgumentError(
        `blocks of ${this.path} are written by RawFile.commit(), not by a bare writeout`,
      )
    }
    const n = this.#bytesOf(blk)
    for (let i = n; i < buf.length; i++) {
      if (buf[i] !== 0) {
        throw new OutOfRangeError(
          `block ${blk} of ${this.path} was written at byte ${blk * this.blksize + i}, past the end of the ` +
            `mapped ${this.length} bytes; a raw file never grows`,
        )
      }
    }
    if (n === 0) return
    const pos = this.offset + blk * this.blksize
    const data = buf.subarray(0, n)
    try {
      if (this.#phase === 'journal') this.#journal!.add(pos, data)
      else this.#io.write(this.#dfd, [data], pos)
    } catch (e) {
      throw ioError(`${this.#phase === 'journal' ? 'journaling' : 'writing'} block ${blk} of ${this.path}`, e)
    }
  }

  /** Bytes of block `blk` that lie inside the file (0 for padding blocks past the end). */
  #bytesOf(blk: number): number {
    return Math.max(0, Math.min(this.blksize, this.length - blk * this.blksize))
  }

  // ---------------------------------------------------------------- transactions

  /**
   * Makes every dirty page durable, all or nothing: the blocks go to the journal, which is fsynced; then
   * in place, and the raw file is fsynced. A crash anywhere leaves the old or the new content. Refuses
   * with ReadOnlyError in mode 'r' (when something is dirty). On failure the pages stay dirty: commit
   * again, or abort. A failure after the journal was durable means the commit will still happen: the
   * next load, commit, abort or close replays it (`needsRecovery`).
   */
  commit(): void {
    this.#checkOpen()
    if (!this.fileh.isDirty()) return
    if (this.mode === 'r') {
      throw new ReadOnlyError(
        `cannot commit ${this.path}: it is open read-only ('r'); abort() discards the changes`,
      )
    }
    if (this.#phase !== 'idle') throw new BusyError(`a commit of ${this.path} is in progress`)
    if (this.#mustReplay) this.#replay()
    const journal = this.#journal!
    try {
      this.#phase = 'journal'
      wrapIO(`starting the journal of ${this.path}`, () => journal.begin(this.#fileSize))
      this.#writeout(WriteoutFlags.STORE)
      wrapIO(`sealing the journal of ${this.path}`, () => journal.finish())
    } catch (e) {
      this.#phase = 'idle'
      // The raw file is untouched; a torn journal would be ignored anyway, but drop it while we can.
      try {
        this.#io.truncate(this.#jfd, 0)
      } catch {}
      throw e
    }
    // The journal is durable: from here on the commit happens, now or by replay.
    try {
      this.#phase = 'apply'
      this.#writeout(WriteoutFlags.STORE)
      wrapIO(`syncing ${this.path}`, () => this.#io.fsync(this.#dfd))
    } catch (e) {
      this.#mustReplay = true
      throw e
    } finally {
      this.#phase = 'idle'
    }
    this.#retireJournal()
    this.fileh.writeout(WriteoutFlags.MARKSTORED)
  }

  /**
   * Drops every uncommitted change: the next access reads the file. Also completes a commit that failed
   * after its journal was durable (so what it then reads is that commit's data). The pages are dropped
   * even when that replay fails; the error is thrown after.
   */
  abort(): void {
    this.#checkOpen()
    this.fileh.discard()
    if (this.#mustReplay) this.#replay()
  }

  #writeout(flags: number): void {
    let r: ReturnType<FileH['writeout']>
    try {
      r = this.fileh.writeout(flags)
    } catch (e) {
      // Surface the storage's own typed error (StorageError, OutOfRangeError) rather than the VM's wrapper.
      throw e instanceof StoreError && e.cause instanceof BigFileError ? e.cause : e
    }
    if (isPromise(r)) throw new StorageError('internal: a synchronous writeout answered with a Promise')
  }

  /** After a commit's data is durable in place the journal is spent; no fsync: a replay of it is a no-op. */
  #retireJournal(): void {
    try {
      this.#io.truncate(this.#jfd, 0)
    } catch {
      // Harmless: a spent journal replays to the same bytes, and the next commit truncates it anyway.
    }
  }

  #replay(): void {
    replayOrDiscard(this.#io, this.#jfd, this.#dfd, this.#jpath, this.#fileSize)
    this.#mustReplay = false
  }

  // ---------------------------------------------------------------- close

  /**
   * Drops uncommitted changes and releases the file and the writer lock. Refuses (BusyError) while
   * mappings are alive, like FileH.close. Idempotent. If a failed commit's journal cannot be replayed
   * now, it stays on disk for the next open and the error is thrown after everything is released.
   */
  close(): void {
    if (this.#closed) return
    this.fileh.close()
    this.#closed = true
    let error: unknown
    if (this.#lock) {
      try {
        if (this.#mustReplay) this.#replay()
        this.#io.truncate(this.#jfd, 0)
        this.#io.fsync(this.#jfd)
        this.#io.unlink(this.#jpath)
        this.#io.fsyncDir(dirname(this.#jpath))
      } catch (e) {
        error ??= ioError(`closing the journal of ${this.path}`, e)
      }
      try {
        this.#io.close(this.#jfd)
      } catch {}
    }
    try {
      this.#io.close(this.#dfd)
    } catch {}
    this.#lock?.release()
    if (error) throw error
  }

  /** Unmaps live mappings and closes; never throws over them. */
  [Symbol.dispose](): void {
    if (this.#closed) return
    this.fileh[Symbol.dispose]()
    this.close()
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError(`${this.path} is closed`)
  }
}
