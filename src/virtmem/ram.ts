import { ClosedError, InvalidArgumentError, OutOfMemoryError } from '../errors.ts'
import { readonlyFields } from '../util/readonly.ts'
import { Counters } from './counters.ts'
import type { Interval } from './intervals.ts'
import type { Page } from './page.ts'
import { PageState } from './page.ts'

export interface RAMOptions {
  /** Page (frame) size in bytes: a power of two from 4 KiB to 16 MiB. Default 64 KiB. */
  pagesize?: number
  /** Total budget in bytes, reserve included; rounded down to whole frames. */
  capacity: number
  /**
   * Frames kept out of the page pool as a bounce buffer, so that I/O of blocks larger than a page
   * (and the writeout they need) always progresses without taking frames from pages. Default 2.
   */
  reserve?: number
  /** Clean pages dropped per reclaim pass. Default 64. */
  reclaimBatch?: number
}

export interface RAMStats {
  pagesize: number
  capacity: number
  /** Frames available to pages (the reserve excluded). */
  frames: number
  reserve: number
  /** Frames holding pages, pinned leftovers of dropped pages included. */
  used: number
  free: number
  usedBytes: number
}

const MIN_PAGESIZE = 4 << 10
const MAX_PAGESIZE = 16 << 20

/**
 * A fixed pool of page frames inside one ArrayBuffer. The arena is allocated once, at the size of the
 * budget, so the budget cannot be exceeded: when no frame is free and reclaim finds nothing clean to drop,
 * allocation fails with OutOfMemoryError.
 *
 * Reclaim is CLOCK (second chance): every fault sets the frame's reference bit; the hand clears set bits
 * and unmaps those pages from their VMAs, so a page still in use faults back in (a minor fault, no load)
 * and earns its bit again, while a page untouched for a whole turn of the hand is dropped. The hit path
 * thus stays free of bookkeeping.
 */
export class RAM {
  readonly pagesize: number
  readonly capacity: number
  readonly frames: number
  readonly reserve: number
  readonly reclaimBatch: number
  readonly arena: ArrayBuffer
  readonly bytes: Uint8Array
  readonly dataview: DataView
  readonly counters = new Counters()

  /** frame → the page in it (undefined when free). */
  readonly pageOf: (Page | undefined)[]
  /** Reference bits for CLOCK. */
  readonly ref: Uint8Array
  readonly #freeStack: Int32Array
  #nfree: number
  #hand = 0
  #closed = false
  #bounceBusy = false
  readonly #bounceWaiters: (() => void)[] = []
  /** Files with volatile ranges: reclaim purges those before it drops any ordinary clean page. */
  readonly #volatile = new Set<VolatileSource>()
  #markSeq = 0

  constructor(options: RAMOptions) {
    const pagesize = options.pagesize ?? 64 << 10
    if (
      !Number.isSafeInteger(pagesize) ||
      pagesize < MIN_PAGESIZE ||
      pagesize > MAX_PAGESIZE ||
      (pagesize & (pagesize - 1)) !== 0
    ) {
      throw new InvalidArgumentError(`pagesize must be a power of two from 4 KiB to 16 MiB, got ${pagesize}`)
    }
    const reserve = options.reserve ?? 2
    if (!Number.isSafeInteger(reserve) || reserve < 0) {
      throw new InvalidArgumentError(
        `reserve must be a non-negative integer number of frames, got ${reserve}`,
      )
    }
    const capacity = options.capacity
    if (typeof capacity !== 'number' || !Number.isSafeInteger(capacity) || capacity < 0) {
      throw new InvalidArgumentError(
        `capacity must be a non-negative integer number of bytes, got ${capacity}`,
      )
    }
    const total = Math.floor(capacity / pagesize)
    if (total < reserve + 1) {
      throw new InvalidArgumentError(
        `capacity ${capacity} holds ${total} frames of ${pagesize} bytes; at least ${reserve + 1} are needed (reserve ${reserve} + 1)`,
      )
    }
    const batch = options.reclaimBatch ?? 64
    if (!Number.isSafeInteger(batch) || batch < 1) {
      throw new InvalidArgumentError(`reclaimBatch must be a positive integer, got ${batch}`)
    }
    this.pagesize = pagesize
    this.capacity = total * pagesize
    this.reserve = reserve
    this.frames = total - reserve
    this.reclaimBatch = batch
    try {
      this.arena = new ArrayBuffer(this.capacity)
    } catch (e) {
      throw new OutOfMemoryError(
        `cannot allocate a RAM arena of ${this.capacity} bytes: ${(e as Error).message}`,
      )
    }
    this.bytes = new Uint8Array(this.arena)
    this.dataview = new DataView(this.arena)
    this.pageOf = new Array<Page | undefined>(this.frames).fill(undefined)
    this.ref = new Uint8Array(this.frames)
    this.#freeStack = new Int32Array(this.frames)
    // Low frames first: keeps a small working set at the start of the arena.
    for (let i = 0; i < this.frames; i++) this.#freeStack[i] = this.frames - 1 - i
    this.#nfree = this.frames
    readonlyFields(this, [
      'pagesize',
      'capacity',
      'frames',
      'reserve',
      'reclaimBatch',
      'arena',
      'bytes',
      'dataview',
      'counters',
      'pageOf',
      'ref',
    ])
  }

  /** A frame for a new page (`bind` links them): a free one, or one freed by reclaim; OutOfMemoryError when neither. */
  allocFrame(): number {
    if (this.#closed) throw new ClosedError('RAM is closed')
    // Volatile memory is given up only as far as this one frame needs; clean pages go in batches.
    if (this.#nfree === 0 && this.#purgeVolatile(1) === 0 && this.#clock(this.reclaimBatch) === 0) {
      throw new OutOfMemoryError(
        `RAM budget exhausted: all ${this.frames} frames of ${this.pagesize} bytes hold dirty, pinned or loading pages`,
      )
    }
    const frame = this.#freeStack[--this.#nfree]
    this.ref[frame] = 1
    return frame
  }

  /** Links `page` to the frame it was allocated for. */
  bind(frame: number, page: Page): void {
    this.pageOf[frame] = page
  }

  freeFrame(frame: number): void {
    // Cheap insurance: a second free would hand one frame to two pages.
    if (this.pageOf[frame] === undefined)
      throw new Error(`bigfile internal error: frame ${frame} freed twice`)
    this.pageOf[frame] = undefined
    this.ref[frame] = 0
    this.#freeStack[this.#nfree++] = frame
  }

  /** The bytes of one frame (a fresh view: not for the hit path). */
  frameBytes(frame: number): Uint8Array {
    return new Uint8Array(this.arena, frame * this.pagesize, this.pagesize)
  }

  /**
   * Frees up to one batch of frames and returns how many. Volatile ranges go first, least recently
   * marked first; only when they free nothing does the CLOCK hand drop clean, unpinned, not-loading
   * pages. Dirty pages outside volatile ranges are never touched.
   */
  reclaim(batch: number = this.reclaimBatch): number {
    if (!Number.isSafeInteger(batch) || batch < 1) {
      throw new InvalidArgumentError(`reclaim batch must be a positive integer, got ${batch}`)
    }
    const purged = this.#purgeVolatile(batch)
    return purged > 0 ? purged : this.#clock(batch)
  }

  #reclaiming = false

  #clock(batch: number): number {
    // A notifier that faults during reclaim must not start a second hand over the same pages: its
    // allocation sees only the free frames (or fails with OutOfMemoryError).
    if (this.#reclaiming) return 0
    this.#reclaiming = true
    try {
      return this.#sweep(batch)
    } finally {
      this.#reclaiming = false
    }
  }

  #sweep(batch: number): number {
    let freed = 0
    const n = this.frames
    // Two turns of the hand: the first may only clear reference bits.
    for (let scanned = 0; freed < batch && scanned < 2 * n; scanned++) {
      const frame = this.#hand
      this.#hand = frame + 1 === n ? 0 : frame + 1
      const page = this.pageOf[frame]
      if (page === undefined || page.state !== PageState.LOADED || page.pincount !== 0 || page.detached)
        continue
      if (this.ref[frame] !== 0) {
        this.ref[frame] = 0
        page.fileh._unmapFromAll(page)
        continue
      }
      page.fileh._reclaimPage(page)
      freed++
    }
    return freed
  }

  #purgeVolatile(want: number): number {
    if (this.#volatile.size === 0 || this.#reclaiming) return 0
    this.#reclaiming = true
    try {
      return this.#purge(want)
    } finally {
      this.#reclaiming = false
    }
  }

  #purge(want: number): number {
    const all: { src: VolatileSource; range: Interval }[] = []
    for (const src of this.#volatile) for (const range of src._volatileRanges()) all.push({ src, range })
    all.sort((a, b) => a.range.value - b.range.value)
    let freed = 0
    for (const { src, range } of all) {
      if (freed >= want) break
      freed += src._purgeRange(range, want - freed)
    }
    return freed
  }

  /** @internal */
  _registerVolatile(src: VolatileSource): void {
    this.#volatile.add(src)
  }

  /** @internal */
  _unregisterVolatile(src: VolatileSource): void {
    this.#volatile.delete(src)
  }

  /** @internal Orders volatile marks across every file of this RAM. */
  _nextMarkSeq(): number {
    return ++this.#markSeq
  }

  get freeFrames(): number {
    return this.#nfree
  }

  stats(): RAMStats {
    const used = this.frames - this.#nfree
    return {
      pagesize: this.pagesize,
      capacity: this.capacity,
      frames: this.frames,
      reserve: this.reserve,
      used,
      free: this.#nfree,
      usedBytes: used * this.pagesize,
    }
  }

  /** Bytes of the bounce buffer (the reserve frames, contiguous at the end of the arena). */
  get bounceSize(): number {
    return this.reserve * this.pagesize
  }

  /** @internal Takes the bounce buffer now, or returns undefined when an I/O holds it. */
  _tryBounce(size: number): Uint8Array | undefined {
    if (this.#bounceBusy) return undefined
    this.#bounceBusy = true
    return new Uint8Array(this.arena, this.frames * this.pagesize, size)
  }

  /** @internal Waits (by completion, in FIFO order) for the bounce buffer. */
  _bounce(size: number): Promise<Uint8Array> {
    const b = this._tryBounce(size)
    if (b) return Promise.resolve(b)
    return new Promise((resolve) => {
      this.#bounceWaiters.push(() => resolve(new Uint8Array(this.arena, this.frames * this.pagesize, size)))
    })
  }

  /** @internal Hands the bounce buffer to the next waiter, or frees it. */
  _releaseBounce(): void {
    const next = this.#bounceWaiters.shift()
    if (next) next()
    else this.#bounceBusy = false
  }

  /** Forbids further allocation. Pages already resident stay readable until their FileH closes. */
  close(): void {
    this.#closed = true
  }
}

/** What reclaim needs from a file with volatile ranges. */
export interface VolatileSource {
  _volatileRanges(): readonly Interval[]
  /** Purges (part of) one range; returns the frames freed. */
  _purgeRange(range: Interval, want: number): number
}
