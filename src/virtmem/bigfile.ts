import { InvalidArgumentError } from '../errors.ts'
import type { Awaitable } from '../util/awaitable.ts'
import { readonlyFields } from '../util/readonly.ts'

/**
 * BigFile, what the VM layer needs from whatever holds a file's data: a sequence of `blksize`-byte blocks.
 * (The db layer's own contract with a database backend is `Storage`, in db/storage.ts.)
 *
 * `loadblk` fills `buf` (exactly `blksize` bytes) with block `blk`; `storeblk` persists it.
 * Either may answer synchronously or with a Promise. They are called with no VM state held,
 * so they may take their own locks and call back into the VM (for example `invalidatePage`).
 * `buf` is only valid until the call (or its Promise) completes: never keep it.
 */
export interface BigFile {
  /** Bytes per block: a positive integer; a FileH needs it and its page size to divide one another. */
  readonly blksize: number
  /** Fills `buf` (exactly `blksize` bytes) with the contents of block `blk`. */
  loadblk(blk: number, buf: Uint8Array): Awaitable<void>
  /**
   * Optional, for read-ahead: fills `buf` (exactly `count * blksize` bytes) with blocks `blk` ..
   * `blk + count - 1`, in one I/O where the storage can. Same contract as `loadblk` otherwise; a file
   * without it is read block by block.
   */
  loadblks?(blk: number, count: number, buf: Uint8Array): Awaitable<void>
  /** Persists `buf` (exactly `blksize` bytes) as block `blk`; `buf` must not be kept past the call. */
  storeblk(blk: number, buf: Uint8Array): Awaitable<void>
}

/** Options of `new MemoryBigFile()`. */
export interface MemoryBigFileOptions {
  /** Answer loads and stores with Promises instead of synchronously (resolved on a later macrotask). */
  async?: boolean
}

/**
 * A BigFile held in process memory: blocks never stored read as zeros. For tests and scratch data;
 * its contents are outside any RAM budget.
 */
export class MemoryBigFile implements BigFile {
  readonly blksize: number
  /** The stored blocks, by block number (each `blksize` bytes); a missing one reads as zeros. */
  readonly blocks = new Map<number, Uint8Array>()
  readonly #async: boolean

  constructor(blksize: number, options: MemoryBigFileOptions = {}) {
    checkBlksize(blksize)
    this.blksize = blksize
    this.#async = options.async ?? false
    readonlyFields(this, ['blksize', 'blocks'])
  }

  loadblk(blk: number, buf: Uint8Array): Awaitable<void> {
    if (!this.#async) return this.#load(blk, buf)
    return new Promise<void>((resolve) => setImmediate(() => resolve(this.#load(blk, buf))))
  }

  loadblks(blk: number, count: number, buf: Uint8Array): Awaitable<void> {
    const bs = this.blksize
    const one = (): void => {
      for (let k = 0; k < count; k++) this.#load(blk + k, buf.subarray(k * bs, (k + 1) * bs))
    }
    if (!this.#async) return one()
    return new Promise<void>((resolve) => setImmediate(() => resolve(one())))
  }

  storeblk(blk: number, buf: Uint8Array): Awaitable<void> {
    if (!this.#async) return this.#store(blk, buf)
    const copy = buf.slice()
    return new Promise<void>((resolve) => setImmediate(() => resolve(this.#store(blk, copy))))
  }

  #load(blk: number, buf: Uint8Array): void {
    const data = this.blocks.get(blk)
    if (data) buf.set(data)
    else buf.fill(0)
  }

  #store(blk: number, buf: Uint8Array): void {
    let data = this.blocks.get(blk)
    if (!data) this.blocks.set(blk, (data = new Uint8Array(this.blksize)))
    data.set(buf)
  }
}

export function checkBlksize(blksize: number): void {
  if (!Number.isSafeInteger(blksize) || blksize <= 0) {
    throw new InvalidArgumentError(`blksize must be a positive integer, got ${blksize}`)
  }
}

/**
 * The "storage" of a scratch file (anonymous memory): pages start as zeros and have nowhere to be
 * stored, so their dirty pages stay in RAM until discarded or purged. Open one with `FileH.scratch()`.
 */
export class ScratchFile implements BigFile {
  readonly blksize: number

  constructor(blksize: number) {
    checkBlksize(blksize)
    this.blksize = blksize
    readonlyFields(this, ['blksize'])
  }

  loadblk(_blk: number, buf: Uint8Array): void {
    buf.fill(0)
  }

  storeblk(): void {
    throw new InvalidArgumentError('a scratch file has no storage to write out to')
  }
}
