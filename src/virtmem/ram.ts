import { AbortError, ClosedError, InvalidArgumentError, OutOfMemoryError, SpillFullError } from '../errors.ts'
import { wasmArena } from '../util/blockhash.ts'
import { readonlyFields } from '../util/readonly.ts'
import { Counters } from './counters.ts'
import type { Interval } from './intervals.ts'
import type { Page } from './page.ts'
import { PageState } from './page.ts'
import { SpillFile, type SpillIO } from './spill.ts'

/** Options of `new RAM()`: the memory budget and how it is used. */
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
  /** Clean pages dropped per reclaim pass (at most a quarter of the frames are spilled at once). Default 64. */
  reclaimBatch?: number
  /**
   * Asynchronous loads in flight at most (the storage's queue depth): a fault past it waits in the FIFO of
   * frame waiters instead of starting another load. Default min(frames, 64).
   */
  maxLoads?: number
  /**
   * Dirty spill: when no frame is free and nothing clean can be dropped, dirty pages of files with a
   * storage are written to a private spill file and their frames freed, so a transaction may be bigger
   * than the budget. Needs `reserve >= 1` (writeout reads spilled pages back through the reserve):
   * with `reserve: 0` spill is off, and asking for it is InvalidArgumentError. Default true.
   */
  spill?: boolean
  /** Directory of the spill file (created on first spill, removed on close or exit). Default: the OS temp dir. */
  spillDir?: string
  /** Most bytes the spill file may hold; past it a spill fails with SpillFullError (ENOSPC). Default: unbounded. */
  maxSpill?: number
  /** @internal The spill file's system calls (fault injection in tests). */
  spillIO?: SpillIO
}

/** A snapshot of a RAM's frames, waiters and spill, from `ram.stats()`. */
export interface RAMStats {
  /** Bytes per page (frame). */
  pagesize: number
  /** The budget in bytes (reserve included), rounded down to whole frames. */
  capacity: number
  /** Frames available to pages (the reserve excluded). */
  frames: number
  /** Frames kept out of the page pool as the bounce buffer. */
  reserve: number
  /** Frames holding pages, pinned leftovers of dropped pages included. */
  used: number
  /** Frames on the free stack now. */
  free: number
  /** `used * pagesize`. */
  usedBytes: number
  /** Faults waiting now for a frame or a load slot (FIFO). */
  waiters: number
  /** Asynchronous loads in flight now (at most `maxLoads`). */
  loadsInFlight: number
  /** The most asynchronous loads in flight at once (option `maxLoads`). */
  maxLoads: number
  /** Pages in the spill file now (dirty pages with no frame). */
  spilled: number
  /** Bytes of those pages. */
  spillBytes: number
  /** Length of the spill file (its high-water mark; 0 before the first spill). */
  spillFileBytes: number
}

const MIN_PAGESIZE = 4 << 10
const MAX_PAGESIZE = 16 << 20

/**
 * A fixed pool of page frames inside one ArrayBuffer. The arena is allocated once, at the size of the
 * budget, so the budget cannot be exceeded. A frame comes from the free stack, else from purging volatile
 * ranges, else from CLOCK dropping clean pages, else from spilling dirty pages to the spill file; when none of them gives one, an awaitable fault waits in a
 * FIFO until a frame is freed (`_waitFrame`), a synchronous one gets WouldBlockError, and only when waiting
 * can never succeed (every frame dirty or pinned by the caller itself) is it OutOfMemoryError (`_noFrame`).
 *
 * Reclaim is CLOCK (second chance): every fault sets the frame's reference bit; the hand clears set bits
 * and unmaps those pages from their VMAs, so a page still in use faults back in (a minor fault, no load)
 * and earns its bit again, while a page untouched for a whole turn of the hand is dropped. The hit path
 * thus stays free of bookkeeping.
 */
export class RAM {
  /** Bytes per page (frame): a power of two from 4 KiB to 16 MiB. */
  readonly pagesize: number
  /** The budget in bytes, reserve included, rounded down to whole frames: the arena's size. */
  readonly capacity: number
  /** Frames available to pages (the reserve excluded). */
  readonly frames: number
  /** Frames kept out of the page pool as the bounce buffer (option `reserve`, default 2). */
  readonly reserve: number
  /** Clean pages dropped per reclaim pass (option `reclaimBatch`, default 64). */
  readonly reclaimBatch: number
  /** The most asynchronous loads in flight at once (option `maxLoads`, default min(frames, 64)). */
  readonly maxLoads: number
  /** The one buffer holding every frame, allocated once at `capacity` bytes. */
  readonly arena: ArrayBuffer
  /** A byte view of the whole arena. */
  readonly bytes: Uint8Array
  /** A DataView of the whole arena. */
  readonly dataview: DataView
  /** Cumulative event and byte counts of every file handle over this RAM. */
  readonly counters = new Counters()

  /** frame → the page in it (undefined when free). */
  readonly pageOf: (Page | undefined)[]
  /** Reference bits for CLOCK. */
  readonly ref: Uint8Array
  readonly #freeStack: Int32Array
  /** One byte view per frame, made at its first load and kept: a fault then allocates no view (miss path). */
  readonly #views: (Uint8Array | undefined)[]
  #nfree: number
  #hand = 0
  #closed = false
  #bounceBusy = false
  readonly #bounceWaiters: (() => void)[] = []
  /** Files with volatile ranges: reclaim purges those before it drops any ordinary clean page. */
  readonly #volatile = new Set<VolatileSource>()
  #markSeq = 0
  /** Set while an allocation reclaims for itself: the first frame freed meanwhile is kept for it (#claimed). */
  #claiming = false
  #claimed = -1
  /** Faults waiting for a frame or a load slot, oldest first (a deque: `#whead` is its front). */
  #waiters: (Waiter | undefined)[] = []
  #whead = 0
  #nwaiting = 0
  #kickQueued = false
  #loadsInFlight = 0
  /** Files whose dirty pages may be spilled (a storage behind them), and the spill itself (lazily created). */
  readonly #spillSources = new Set<SpillSource>()
  readonly #spill: SpillFile | undefined
  #dirtySeq = 0

  constructor(options: RAMOptions) {
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('RAM needs options { capacity, pagesize?, reserve?, reclaimBatch? }')
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
    const maxLoads = options.maxLoads ?? Math.min(total - reserve, 64)
    if (!Number.isSafeInteger(maxLoads) || maxLoads < 1) {
      throw new InvalidArgumentError(`maxLoads must be a positive integer, got ${maxLoads}`)
    }
    this.maxLoads = maxLoads
    this.pagesize = pagesize
    this.capacity = total * pagesize
    this.reserve = reserve
    this.frames = total - reserve
    this.reclaimBatch = batch
    const maxSpill = options.maxSpill ?? Number.POSITIVE_INFINITY
    if (maxSpill !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(maxSpill) || maxSpill < 0)) {
      throw new InvalidArgumentError(
        `maxSpill must be a non-negative integer number of bytes, got ${maxSpill}`,
      )
    }
    if (options.spill === true && reserve < 1) {
      throw new InvalidArgumentError('spill needs reserve >= 1: writeout reads spilled pages back through it')
    }
    if ((options.spill ?? true) && reserve >= 1) {
      this.#spill = new SpillFile(pagesize, {
        max: maxSpill,
        ...(options.spillDir === undefined ? {} : { dir: options.spillDir }),
        ...(options.spillIO === undefined ? {} : { io: options.spillIO }),
      })
    }
    try {
      // In a WebAssembly memory when it can be, so block checksums are computed in place (util/blockhash.ts).
      this.arena = wasmArena(this.capacity) ?? new ArrayBuffer(this.capacity)
    } catch (e) {
      throw new OutOfMemoryError(
        `cannot allocate a RAM arena of ${this.capacity} bytes: ${(e as Error).message}`,
      )
    }
    this.bytes = new Uint8Array(this.arena)
    this.dataview = new DataView(this.arena)
    this.pageOf = new Array<Page | undefined>(this.frames).fill(undefined)
    this.ref = new Uint8Array(this.frames)
    this.#views = new Array<Uint8Array | undefined>(this.frames).fill(undefined)
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
      'maxLoads',
      'arena',
      'bytes',
      'dataview',
      'counters',
      'pageOf',
      'ref',
    ])
  }

  /**
   * A frame for a new page (`bind` links them): a free one, or one freed by reclaim or by the spill (SpillFullError when
   * the spill is full); OutOfMemoryError when none (the fault path uses `_tryAllocFrame` and decides between waiting and failing with `_noFrame`).
   */
  allocFrame(): number {
    const frame = this._tryAllocFrame()
    if (frame < 0) {
      throw new OutOfMemoryError(
        `RAM budget exhausted: all ${this.frames} frames of ${this.pagesize} bytes hold ${this.#spill ? 'pinned, loading or unspillable dirty (scratch)' : 'dirty (spill is off), pinned or loading'} pages`,
      )
    }
    return frame
  }

  /**
   * @internal A frame, or -1 when none could be had now. Correct whatever a callback does: notifiers run
   * during reclaim may fault, free or reclaim pages themselves, so the frame this reclaim frees first is
   * claimed for this allocation before any callback can take it, and the free stack is re-checked after.
   */
  _tryAllocFrame(): number {
    if (this.#closed) throw new ClosedError('RAM is closed')
    let frame = this.#nfree > 0 ? this.#freeStack[--this.#nfree] : this.#reclaimForOne()
    // A reclaim already running up the stack claims for its own allocation: here only free frames count.
    if (frame < 0 && this.#nfree > 0) frame = this.#freeStack[--this.#nfree]
    if (frame < 0) return -1
    this.ref[frame] = 1
    return frame
  }

  /**
   * @internal A free frame for read-ahead, or -1: never reclaims, purges or spills (pages nobody asked for
   * yet must not push out pages in use), and leaves the reference bit clear, so a page read ahead but never
   * used gets no second chance from CLOCK.
   */
  _tryTakeFree(): number {
    if (this.#closed || this.#nfree === 0) return -1
    const frame = this.#freeStack[--this.#nfree]
    this.ref[frame] = 0
    return frame
  }

  /** Frees frames for one allocation, in order, and returns the one claimed for it (-1: none). */
  #reclaimForOne(): number {
    if (this.#claiming) return -1
    this.#claiming = true
    this.#claimed = -1
    try {
      // (1) volatile ranges, only as far as this one frame needs; (2) CLOCK drops clean pages in a batch
      if (this.#purgeVolatile(1) === 0) this.#clock(this.reclaimBatch)
      // (3) only when nothing clean could go: a batch of dirty pages goes to the spill file
      if (this.#claimed < 0 && this.#nfree === 0) this.#spillDirty()
    } catch (e) {
      // a failed spill may have freed a frame first: it goes back, not lost
      if (this.#claimed >= 0) this.#freeStack[this.#nfree++] = this.#claimed
      this.#claimed = -1
      throw e
    } finally {
      this.#claiming = false
    }
    const frame = this.#claimed
    this.#claimed = -1
    return frame
  }

  /** @internal Gives back a frame from `_tryAllocFrame` that no page was bound to. */
  _unclaim(frame: number): void {
    this.ref[frame] = 0
    this.#freeStack[this.#nfree++] = frame
    this._wake()
  }

  /** Links `page` to the frame it was allocated for. */
  bind(frame: number, page: Page): void {
    this.pageOf[frame] = page
  }

  /** Unbinds `frame` from its page and frees it, waking faults that wait for a frame. */
  freeFrame(frame: number): void {
    // Cheap insurance: a second free would hand one frame to two pages.
    if (this.pageOf[frame] === undefined)
      throw new Error(`bigfile internal error: frame ${frame} freed twice`)
    this.pageOf[frame] = undefined
    this.ref[frame] = 0
    if (this.#claiming && this.#claimed < 0) this.#claimed = frame
    else this.#freeStack[this.#nfree++] = frame
    this._wake()
  }

  /**
   * @internal The bytes of page frame `frame`, one view kept per frame (made on first use, like the Page
   * objects it costs as much as): the miss path hands it to `loadblk` instead of making a view per load.
   */
  _frameView(frame: number): Uint8Array {
    let v = this.#views[frame]
    if (v === undefined)
      this.#views[frame] = v = new Uint8Array(this.arena, frame * this.pagesize, this.pagesize)
    return v
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

  /**
   * The spill step of allocation: writes out one batch of dirty pages, oldest dirtied first across every
   * spill-capable file, and frees their frames. Returns the frames freed. SpillFullError when the spill
   * cannot take even one page (nothing is lost: the pages stay dirty).
   */
  #spillDirty(): number {
    const spill = this.#spill
    if (spill === undefined || this.#spillSources.size === 0 || this.#reclaiming) return 0
    this.#reclaiming = true
    try {
      // 1. candidates: each file offers its oldest dirty, unpinned pages; keep the oldest overall
      const want = Math.min(this.reclaimBatch, Math.max(1, this.frames >> 2))
      const cands: Page[] = []
      for (const src of this.#spillSources) src._spillCandidates(want, cands)
      if (cands.length === 0) return 0
      cands.sort((a, b) => a.dirtySeq - b.dirtySeq)
      if (cands.length > want) cands.length = want
      // 2. per file, in ascending page order: one sequential write into consecutive slots where possible
      const byFile = new Map<SpillSource, Page[]>()
      for (const p of cands) {
        const src = p.fileh as SpillSource
        const list = byFile.get(src)
        if (list) list.push(p)
        else byFile.set(src, [p])
      }
      let freed = 0
      for (const [src, pages] of byFile) {
        pages.sort((a, b) => a.pgoffset - b.pgoffset)
        try {
          freed += src._spillOut(pages, spill)
        } catch (e) {
          // 3. a full spill ends the batch; frames already freed still count
          if (freed > 0 && e instanceof SpillFullError) break
          throw e
        }
      }
      return freed
    } finally {
      this.#reclaiming = false
    }
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

  /** @internal A file whose dirty pages may be spilled. */
  _registerSpill(src: SpillSource): void {
    if (this.#spill) this.#spillSources.add(src)
  }

  /** @internal */
  _unregisterSpill(src: SpillSource): void {
    this.#spillSources.delete(src)
  }

  /** @internal The spill file, or undefined when spill is off. */
  get _spill(): SpillFile | undefined {
    return this.#spill
  }

  /** @internal Orders dirtying across every file of this RAM (oldest dirty pages spill first). */
  _nextDirtySeq(): number {
    return ++this.#dirtySeq
  }

  /** @internal Orders volatile marks across every file of this RAM. */
  _nextMarkSeq(): number {
    return ++this.#markSeq
  }

  /** Frames on the free stack now. */
  get freeFrames(): number {
    return this.#nfree
  }

  /** A snapshot of the frames, waiters, loads and spill now. */
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
      waiters: this.#nwaiting,
      loadsInFlight: this.#loadsInFlight,
      maxLoads: this.maxLoads,
      spilled: this.#spill?.used ?? 0,
      spillBytes: (this.#spill?.used ?? 0) * this.pagesize,
      spillFileBytes: this.#spill?.fileBytes ?? 0,
    }
  }

  // ---------------------------------------------------------------- waiting for frames

  /**
   * @internal No frame could be had for a fault of the caller holding `held` pinned: undefined when waiting
   * may get one — a page is loading, pinned by a call in progress (a load handing its page over, a writeout,
   * another pinAsync that is not waiting itself), or clean but not reclaimable right now (a reclaim is
   * running up the stack) — else the OutOfMemoryError saying what holds the frames: dirty pages, this
   * call's own pins, live Pin objects, pinners waiting on one another.
   */
  _noFrame(held: readonly Page[] = []): OutOfMemoryError | undefined {
    if (this.#loadsInFlight > 0) return undefined
    let dirty = 0
    let own = 0
    let pinned = 0
    let stuck = 0
    for (let f = 0; f < this.frames; f++) {
      const page = this.pageOf[f]
      if (page === undefined) continue
      if (page.pincount > 0) {
        let mine = 0
        for (const h of held) if (h === page) mine++
        // Pinned by a call in progress that is not itself waiting for a frame: that pin will go. Pins of
        // live Pin objects go when user code says so — maybe never, if it is the caller — so they do not count.
        if (page.pincount > mine + page.waitPins + page.userPins) return undefined
        if (mine > 0) own++
        else if (page.userPins > 0) pinned++
        else stuck++
      } else if (page.state === PageState.DIRTY) dirty++
      else return undefined
    }
    const what = [
      dirty > 0
        ? `${dirty} dirty that cannot spill (${this.#spill ? 'scratch pages, or under writeout' : 'spill is off'}: write them out or discard them)`
        : '',
      own > 0 ? `${own} pinned by this very call (pin a smaller range)` : '',
      pinned > 0 ? `${pinned} held by live pins (release them)` : '',
      stuck > 0 ? `${stuck} pinned by calls that wait for frames themselves (pin fewer pages at once)` : '',
    ].filter((x) => x !== '')
    return new OutOfMemoryError(
      `RAM budget exhausted: all ${this.frames} frames of ${this.pagesize} bytes hold pages that waiting cannot free: ${what.join(', ')}`,
    )
  }

  /** @internal Whether faults are queued for frames (a new async fault queues behind them: FIFO). */
  _hasWaiters(): boolean {
    return this.#nwaiting > 0
  }

  /**
   * @internal Waits, in FIFO order, until a frame may have been freed (or a load slot); `front` puts back at
   * the head a waiter that was woken and still found none. Rejects with AbortError when `signal` aborts and
   * ClosedError when the RAM closes. The caller retries its fault, then calls `_passTurn`.
   */
  _waitFrame(signal?: AbortSignal, front = false): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('RAM is closed'))
    if (signal?.aborted) return Promise.reject(new AbortError(signal.reason))
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal, onAbort: undefined }
      if (signal) {
        w.onAbort = () => {
          const i = this.#waiters.indexOf(w, this.#whead)
          if (i < 0) return
          this.#waiters[i] = undefined
          this.#nwaiting--
          reject(new AbortError(signal.reason))
        }
        signal.addEventListener('abort', w.onAbort, { once: true })
      }
      if (front && this.#whead > 0) this.#waiters[--this.#whead] = w
      else if (front) this.#waiters.unshift(w)
      else this.#waiters.push(w)
      // No wake here: the caller's failed try and this call are one synchronous step (a wake now would spin).
      this.#nwaiting++
    })
  }

  /** @internal A woken waiter is done with its turn: the next one may try (a frame may be left over). */
  _passTurn(): void {
    this._wake()
  }

  /** @internal A frame may have become obtainable (freed, unpinned, clean again, a load slot): wake the head waiter. */
  _wake(): void {
    if (this.#nwaiting === 0 || this.#kickQueued) return
    this.#kickQueued = true
    queueMicrotask(this.#kick)
  }

  readonly #kick = (): void => {
    this.#kickQueued = false
    const w = this.#shiftWaiter()
    if (w === undefined) return
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort)
    w.resolve()
  }

  #shiftWaiter(): Waiter | undefined {
    const q = this.#waiters
    while (this.#whead < q.length) {
      const w = q[this.#whead]
      q[this.#whead++] = undefined
      if (w === undefined) continue // aborted
      this.#nwaiting--
      if (this.#whead > 1024 && this.#whead * 2 > q.length) {
        q.splice(0, this.#whead)
        this.#whead = 0
      }
      return w
    }
    q.length = 0
    this.#whead = 0
    return undefined
  }

  /** @internal Whether another asynchronous load may start now (fewer than `maxLoads` in flight). */
  _loadSlotFree(): boolean {
    return this.#loadsInFlight < this.maxLoads
  }

  /** @internal */
  _loadStarted(): void {
    this.#loadsInFlight++
  }

  /** @internal */
  _loadEnded(): void {
    this.#loadsInFlight--
    this._wake()
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

  /** Forbids further allocation; faults waiting for a frame fail with ClosedError. Pages already resident stay readable until their FileH closes. */
  close(): void {
    this.#closed = true
    for (let w = this.#shiftWaiter(); w !== undefined; w = this.#shiftWaiter()) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort)
      w.reject(new ClosedError('RAM is closed'))
    }
    // The spill file goes once no page is left in it (a FileH closing frees its slots).
    this.#spill?.close()
  }
}

interface Waiter {
  resolve: () => void
  reject: (e: unknown) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

/** What the spill step needs from a file that can spill (one with a storage). */
export interface SpillSource {
  /** Appends up to `max` of its oldest dirty pages that may be spilled now (unpinned, not under writeout). */
  _spillCandidates(max: number, out: Page[]): void
  /** Writes `pages` (ascending) to the spill and frees their frames; returns how many it spilled. */
  _spillOut(pages: Page[], spill: SpillFile): number
}

/** What reclaim needs from a file with volatile ranges. */
export interface VolatileSource {
  _volatileRanges(): readonly Interval[]
  /** Purges (part of) one range; returns the frames freed. */
  _purgeRange(range: Interval, want: number): number
}
