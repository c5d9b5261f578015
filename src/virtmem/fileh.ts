import {
  BigFileError,
  BusyError,
  ClosedError,
  DeadlockError,
  FaultRetryError,
  InvalidArgumentError,
  LoadError,
  PurgedError,
  ReadOnlyError,
  StoreError,
  VolatileWriteError,
  WouldBlockError,
} from '../errors.ts'
import { type Awaitable, isPromise } from '../util/awaitable.ts'
import { readonlyFields } from '../util/readonly.ts'
import { type BigFile, ScratchFile } from './bigfile.ts'
import { Counters, type CountersSnapshot } from './counters.ts'
import type { Interval } from './intervals.ts'
import {
  type FileHNotifier,
  type InvalidateReason,
  NotifierList,
  type NotifierRegistration,
} from './notifier.ts'
import { type LoadOutcome, Page, PageState } from './page.ts'
import { RAM, type SpillSource, type VolatileSource } from './ram.ts'
import { type Advice, Readahead } from './readahead.ts'
import { runSeq, settle } from './seq.ts'
import type { SpillFile } from './spill.ts'
import { VMA } from './vma.ts'
import { type PurgeUnit, VolatileState } from './volatile.ts'

/** Flags of `FileH.writeout`, alone or OR-ed together. */
export const WriteoutFlags = {
  /** Call `storeblk` for every dirty page, in ascending block order, once each. Pages stay dirty. */
  STORE: 1,
  /** Mark every dirty page as stored: DIRTY → LOADED, mappings become read-only. */
  MARKSTORED: 2,
} as const

/** Options of `new FileH()` and `FileH.scratch()`. */
export interface FileHOptions {
  /** How many times one fault may lose its load to invalidations before FaultRetryError. Default 16. */
  maxRetries?: number
  /**
   * Volatile ranges, strict mode: an access to a purged page throws PurgedError and a write to a volatile
   * page throws VolatileWriteError. Default false (lenient): purged pages read as zeros, and a write to a
   * volatile page takes that page out of the volatile set.
   */
  strict?: boolean
  /** What reclaim purges at once: a whole volatile range (default; all there or all gone) or single pages. */
  purgeUnit?: PurgeUnit
  /** Every write fault is refused with ReadOnlyError (EROFS): a view of a file that must not change. */
  readOnly?: boolean
  /**
   * Sequential read-ahead and drop-behind (see `advise`). Default true (a scratch file never reads ahead);
   * false loads one page per fault and never drops a page because a walk passed it ('dontneed' is ignored).
   */
  readahead?: boolean
}

/** @internal How an awaitable fault waits. */
export interface FaultWaitOptions {
  /** Stops a wait for a frame (AbortError). */
  signal?: AbortSignal
  /** Pages the caller holds pinned (its own, for deciding that waiting can never succeed). */
  held?: readonly Page[]
  /** The caller already waited in this walk: do not queue behind later waiters (a pinner finishes its range). */
  priority?: boolean
  /** Set when the fault waited for a frame. */
  waited?: boolean
}

/** What `fileh.pageInfo()` reports about one page. */
export interface PageInfo {
  /** The page's state (EMPTY when not resident and not spilled). */
  state: PageState
  /** Number of VMAs mapping the page. */
  mapcount: number
  /** Number of live pins holding the page (a pinned page is never reclaimed). */
  pincount: number
  /** The RAM frame holding the page, or -1 when it has none. */
  frame: number
}

/**
 * A file handle: one snapshot view of a BigFile through a RAM. It owns the page map (which pages are
 * resident, and in which frame), the dirty set, and the mappings (VMAs) made from it.
 */
export class FileH implements VolatileSource, SpillSource {
  /** The file this handle views. */
  readonly file: BigFile
  /** The RAM whose frames hold this handle's pages. */
  readonly ram: RAM
  /** Bytes per page (the RAM's page size). */
  readonly pagesize: number
  /** Bytes per block of the file (`file.blksize`). */
  readonly blksize: number
  /** How many times one fault may lose its page before FaultRetryError (option `maxRetries`, default 16). */
  readonly maxRetries: number
  /** Cumulative event and byte counts of this handle (loads, stores, spills, ...). */
  readonly counters = new Counters()
  /** Whether this is a scratch file (anonymous memory, no storage behind it; see `FileH.scratch`). */
  readonly isScratch: boolean
  /** Blocks per page (when blksize ≤ pagesize) and pages per block (when blksize > pagesize). */
  readonly #bpp: number
  readonly #ppb: number
  readonly #pagemap = new Map<number, Page>()
  readonly #dirty = new Set<Page>()
  /** SPILLED pages: pgoffset → slot in the RAM's spill file. The dirty set is `#dirty` plus these. */
  readonly #spilled = new Map<number, number>()
  /** Spill slots freed while a writeout may still read them: returned to the spill when it ends. */
  readonly #heldSlots: number[] = []
  readonly #vmas = new Set<VMA>()
  readonly #notifiers = new NotifierList()
  readonly #vol: VolatileState
  #closed = false
  /** A writeout's STORE step is running (its pages are pinned; `storeblk` may still be reading them). */
  #storing = false
  /** Stable pages under writeout: write faults are refused (see `freezeForWriteout`). */
  #frozen = false
  readonly #readOnly: boolean
  /** Sequential read-ahead and drop-behind state (readahead.ts). */
  readonly #ra: Readahead
  readonly #raOn: boolean

  /** A scratch file over `ram`: pages read as zeros until written, and have no storage to go to. */
  static scratch(ram: RAM, options: FileHOptions = {}): FileH {
    checkRam(ram)
    return new FileH(new ScratchFile(ram.pagesize), ram, options)
  }

  constructor(file: BigFile, ram: RAM, options: FileHOptions = {}) {
    const f = file as Partial<BigFile> | null
    if (
      f === null ||
      typeof f !== 'object' ||
      typeof f.loadblk !== 'function' ||
      typeof f.storeblk !== 'function'
    )
      throw new InvalidArgumentError('FileH needs a BigFile { blksize, loadblk, storeblk }')
    checkRam(ram)
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('FileH options must be an object')
    const ps = ram.pagesize
    const bs = file.blksize
    if (!Number.isSafeInteger(bs) || bs <= 0) {
      throw new InvalidArgumentError(`file.blksize must be a positive integer, got ${bs}`)
    }
    if (ps % bs !== 0 && bs % ps !== 0) {
      throw new InvalidArgumentError(`blksize ${bs} and pagesize ${ps} must divide one another`)
    }
    if (bs > ps && bs > ram.bounceSize) {
      throw new InvalidArgumentError(
        `blksize ${bs} is larger than the RAM's bounce buffer (${ram.reserve} reserve frames of ${ps}); ` +
          `create the RAM with reserve >= ${bs / ps}`,
      )
    }
    const maxRetries = options.maxRetries ?? 16
    if (!Number.isSafeInteger(maxRetries) || maxRetries < 0) {
      throw new InvalidArgumentError(`maxRetries must be a non-negative integer, got ${maxRetries}`)
    }
    this.file = file
    this.ram = ram
    this.pagesize = ps
    this.blksize = bs
    this.maxRetries = maxRetries
    this.#bpp = bs <= ps ? ps / bs : 1
    this.#ppb = bs > ps ? bs / ps : 1
    this.isScratch = file instanceof ScratchFile
    const unit = options.purgeUnit ?? 'range'
    if (unit !== 'range' && unit !== 'page') {
      throw new InvalidArgumentError(`purgeUnit must be 'range' or 'page', got ${String(unit)}`)
    }
    this.#vol = new VolatileState(options.strict ?? false, unit)
    this.#readOnly = options.readOnly ?? false
    const readahead = options.readahead ?? true
    if (typeof readahead !== 'boolean')
      throw new InvalidArgumentError(`readahead must be a boolean, got ${String(readahead)}`)
    // A scratch file has nothing to read ahead: its pages are zeros until written.
    this.#raOn = readahead && !this.isScratch
    this.#ra = new Readahead(ps, this.#raOn ? ram.frames : 0)
    // Only a file with a storage can spill: a scratch page has nowhere to come back from but RAM.
    if (!this.isScratch) ram._registerSpill(this)
    readonlyFields(this, ['file', 'ram', 'pagesize', 'blksize', 'maxRetries', 'counters', 'isScratch'])
  }

  /** Whether `close()` was called; most calls then throw ClosedError. */
  get closed(): boolean {
    return this.#closed
  }

  /** Maps pages [pgoffset, pgoffset + pglen) of the file. Nothing is loaded until accessed. */
  mmap(pgoffset: number, pglen: number): VMA {
    this.#checkOpen()
    checkPageRange(pgoffset, pglen, this.pagesize)
    const vma = new VMA(this, pgoffset, pglen)
    this.#vmas.add(vma)
    return vma
  }

  // ---------------------------------------------------------------- faults
  //
  // The walk of one fault, numbered as in ARCHITECTURE.md. (1) is in vma.ts: the slow path validates the
  // access and turns its VMA page index i into the file page pgoffset = vma.pgoffset + i.

  /**
   * @internal Fault for a synchronous access: WouldBlockError when the page needs an async load or must
   * wait for a frame. `held`: pages this very call holds pinned (they count as its own when no frame is left).
   */
  _faultSync(vma: VMA, pgoffset: number, write: boolean, held?: readonly Page[]): void {
    // (2) count the fault
    this.counters.faults++
    this.ram.counters.faults++
    const page = this.#step(vma, pgoffset, write, false, 'sync', held)
    if (page === null) {
      throw new WouldBlockError(
        pgoffset,
        `no frame is free for page ${pgoffset}: pages are loading or pinned; await vma.fault() to wait for one`,
      )
    }
    if (page.state === PageState.LOADING) {
      throw new WouldBlockError(
        pgoffset,
        `page ${pgoffset} is loading asynchronously; await vma.fault() before synchronous access`,
      )
    }
  }

  /** @internal Fault that may wait (for loads and for frames); settles once the page is mapped in `vma`. */
  _fault(vma: VMA, pgoffset: number, write: boolean, signal?: AbortSignal): Awaitable<unknown> {
    return this.#fault(vma, pgoffset, write, false, { signal })
  }

  /**
   * @internal `_fault` that hands the page back pinned (the caller unpins it with the same `write`): the pin
   * is taken in the same synchronous step that maps the page, so no reclaim can come between the fault and
   * the caller's use of the frame — no frame address survives an await without a pin.
   */
  _faultPin(vma: VMA, pgoffset: number, write: boolean, opts: FaultWaitOptions = {}): Awaitable<Page> {
    return this.#fault(vma, pgoffset, write, true, opts)
  }

  #fault(vma: VMA, pgoffset: number, write: boolean, pin: boolean, opts: FaultWaitOptions): Awaitable<Page> {
    // (2) count the fault
    this.counters.faults++
    this.ram.counters.faults++
    opts.signal?.throwIfAborted()
    const page = this.#step(vma, pgoffset, write, pin, opts.priority ? 'turn' : 'async', opts.held)
    if (page !== null && page.state !== PageState.LOADING) return page
    return this.#waitAndRetry(vma, pgoffset, write, pin, opts, page)
  }

  /**
   * (9) Waits — for a load to end, or (7) in the RAM's FIFO for a frame — then goes round the fault again
   * (VM_RETRY). Lost loads are bounded by maxRetries; waits for frames are not retries.
   */
  async #waitAndRetry(
    vma: VMA,
    pgoffset: number,
    write: boolean,
    pin: boolean,
    opts: FaultWaitOptions,
    first: Page | null,
  ): Promise<Page> {
    const { signal } = opts
    let page = first
    // A caller that already waited once in its walk (opts.priority) keeps its place at the head.
    let turn = opts.priority ?? false
    try {
      for (let retries = 0; ; ) {
        if (page === null) {
          opts.waited = true
          const t0 = performance.now()
          const front = turn
          turn = false
          // Pins this call holds while it waits are not going to be released by it: RAM._noFrame counts them
          // as stuck, so pinners waiting on one another end in ENOMEM instead of waiting for ever.
          const held = opts.held ?? []
          for (const h of held) h.waitPins++
          try {
            await this.ram._waitFrame(signal, front)
          } finally {
            for (const h of held) h.waitPins--
            this.#count('waits')
            this.#count('waitMs', performance.now() - t0)
          }
          turn = true
        } else {
          const err = await (page.loading as Promise<LoadOutcome>)
          if (err) throw err
          if (pin && page.loadOk) {
            // The load pinned the page for us: keep it if it is still the page of this offset.
            const p = page
            if (!p.detached && this.#pagemap.get(pgoffset) === p && !this.#closed && !vma.unmapped) {
              try {
                signal?.throwIfAborted()
                this.#install(vma, p, write)
              } catch (e) {
                this._unpin(p)
                throw e
              }
              if (write) p.wpincount++
              return p
            }
            this._unpin(p)
          }
          if (++retries > this.maxRetries) throw new FaultRetryError(pgoffset, retries - 1)
        }
        signal?.throwIfAborted()
        page = this.#step(vma, pgoffset, write, pin, turn ? 'turn' : 'async', opts.held)
        if (page === null) continue // still no frame: back to the head of the queue
        if (turn) this.ram._passTurn()
        turn = false
        if (page.state !== PageState.LOADING) return page
      }
    } finally {
      // Leaving with the turn (an error): the next waiter must not wait for an event that has passed.
      if (turn) this.ram._passTurn()
    }
  }

  /**
   * One pass of the fault: maps the page if resident (and pins it when `pin`), starts its load if absent,
   * or hands back the LOADING page whose `loading` to wait for; null when it must wait for a frame (or a
   * load slot). A load that finishes synchronously is retried at once, so a loadblk that invalidated its own
   * page (re-entrancy) just costs another turn, bounded by maxRetries. `mode`: a synchronous caller never
   * queues; an asynchronous one queues behind earlier waiters unless it is the woken one ('turn').
   */
  #step(
    vma: VMA,
    pgoffset: number,
    write: boolean,
    pin: boolean,
    mode: 'sync' | 'async' | 'turn',
    held: readonly Page[] | undefined,
  ): Page | null {
    for (let tries = 0; ; tries++) {
      // (3) the FileH and the VMA must still be there (a retry may find them closed or unmapped)
      if (this.#closed) throw new ClosedError('FileH is closed')
      if (vma.unmapped) throw new ClosedError('VMA is unmapped')
      if (write && this.#readOnly) throw new ReadOnlyError(`page ${pgoffset}: this file is read-only`)
      // (4) fileh, pgoffset -> page, via the page map
      const page = this.#pagemap.get(pgoffset)
      if (page !== undefined) {
        if (page.state === PageState.LOADING) {
          // (5) another fault is loading it: share that load's completion (see Page.loading)
          if (page.loading === undefined) {
            throw new DeadlockError(
              `page ${pgoffset} is being loaded by a synchronous loadblk up this call stack`,
            )
          }
          if (pin) page.loadPins++
          if (pgoffset === this.#ra.trigger) this.#readAhead(vma, pgoffset)
          return page
        }
        // (6r) the stream's trigger page: start its next window in the background (before mapping this one)
        if (pgoffset === this.#ra.trigger) this.#readAhead(vma, pgoffset)
        // (6) resident: install it in the VMA's page table (a minor fault), pinned in the same step if asked
        this.#install(vma, page, write)
        if (pin) this._pin(page, write)
        return page
      }
      // (7) absent: take a frame from RAM (reclaim may run) for a new LOADING page in the page map. An async
      // fault queues behind earlier waiters (FIFO) and waits when the loads in flight are at maxLoads or no
      // frame can be had; OutOfMemoryError only when waiting can never give one (RAM._noFrame).
      if (tries > this.maxRetries) throw new FaultRetryError(pgoffset, tries - 1)
      if (this.#vol.strict && this.#vol.purged.contains(pgoffset)) throw new PurgedError(pgoffset)
      if ((mode === 'async' && this.ram._hasWaiters()) || !this.ram._loadSlotFree()) {
        // Queue up; but not where every frame is stuck: someone has to fail, and it is the newcomer.
        const oom = this.ram.freeFrames === 0 ? this.ram._noFrame(held) : undefined
        if (oom) throw oom
        return null
      }
      // (7r) read-ahead: how many pages from pgoffset on this miss loads (1: none; see readahead.ts). A
      // stream nobody declared first frees the pages it has passed (drop-behind), so it reuses its frames.
      const ra = this.#ra
      const want =
        ra.cap > 1 && this.#ppb === 1 && !this.ram._hasWaiters()
          ? ra.plan(pgoffset, vma.pgoffset + vma.pglen)
          : 1
      if (want > 1) {
        const end = ra.behindEnd(pgoffset, this.ram.frames)
        if (end > ra.behind) this.#dropBehind(ra.behind, end)
      }
      const frame = this.ram._tryAllocFrame()
      if (frame < 0) {
        const oom = this.ram._noFrame(held)
        if (oom) throw oom
        return null
      }
      // A callback during reclaim may have loaded this very page meanwhile: then use that one.
      if (this.#pagemap.has(pgoffset)) {
        this.ram._unclaim(frame)
        continue
      }
      // (7s) SPILLED (looked up after allocFrame, whose callbacks may have dropped it): read the image
      // back synchronously; the page is dirty again, and goes round to (6)
      const slot = this.#spilled.get(pgoffset)
      if (slot !== undefined) {
        const back = new Page(this, pgoffset, frame)
        this.ram.bind(frame, back)
        this.#unspill(back, slot)
        continue
      }
      if (want > 1) {
        // (7w) the window: the fault's page and the pages after it, in free frames only
        const group = this.#window(pgoffset, want, frame)
        ra.commit(pgoffset, want, group === undefined ? 1 : group.length)
        if (group !== undefined) {
          const page = this.#loadWindow(group, pin)
          if (page !== undefined) return page
          // (9) loaded synchronously: go round again; a window that failed is not counted as a retry (its
          // pages were dropped and the fault's page loads alone next, failing with its own error if any)
          if (ra.failStart === pgoffset && ra.failEnd > pgoffset) tries--
          continue
        }
      } else if (ra.cap > 1) ra.commit(pgoffset, 1, 1)
      const fresh = new Page(this, pgoffset, frame)
      fresh.seq = want > 1 || (ra.advice === 'sequential' && ra.adviceAt(pgoffset) === 'sequential')
      this.ram.bind(frame, fresh)
      this.#pagemap.set(pgoffset, fresh)
      // (8) load it, with no VM state held: loadblk may re-enter the VM
      let r: Awaitable<void>
      try {
        r = this.#load(fresh)
      } catch (e) {
        const err = this.#finishLoad(fresh, e, true)
        if (err) throw err
        continue
      }
      if (isPromise(r)) {
        this.ram._loadStarted()
        this.#ra.async = true
        fresh.loading = r.then(
          () => this.#endAsyncLoad(fresh, undefined, false),
          (e: unknown) => this.#endAsyncLoad(fresh, e, true),
        )
        if (pin) fresh.loadPins++
        return fresh
      }
      // (9) loaded synchronously: re-validate, then go round again to (3), which installs it at (6)
      this.#finishLoad(fresh, undefined, false)
    }
  }

  #endAsyncLoad(page: Page, e: unknown, failed: boolean): LoadOutcome {
    try {
      return this.#finishLoad(page, e, failed)
    } finally {
      this.ram._loadEnded()
    }
  }

  /**
   * (9) Re-validates a page whose load ended: keep it (LOADED, pinned once for each fault that asked for a
   * pin), or drop it when invalidated or failed.
   */
  #finishLoad(page: Page, e: unknown, failed: boolean): LoadOutcome {
    page.loading = undefined
    const pins = page.loadPins
    page.loadPins = 0
    if (page.state === PageState.LOADING_INVALIDATED) {
      // Invalidated (or the FileH closed) mid-load: the data may predate the change. The fault retries.
      page.state = PageState.EMPTY
      this.ram.freeFrame(page.frame)
      return undefined
    }
    if (failed) {
      this.#pagemap.delete(page.pgoffset)
      page.state = PageState.EMPTY
      this.ram.freeFrame(page.frame)
      return e instanceof BigFileError ? e : new LoadError(page.pgoffset, this.#blkOf(page.pgoffset), e)
    }
    page.state = PageState.LOADED
    page.pincount += pins
    page.loadOk = true
    this.ram._wake()
    return undefined
  }

  /** (6) Maps a resident page into `vma`: stable-page and volatile checks, dirtying, the entry, the ref bit. */
  #install(vma: VMA, page: Page, write: boolean): void {
    const pgoffset = page.pgoffset
    if (write && this.#frozen) {
      throw new BusyError(
        `page ${pgoffset} of this file is under writeout (stable pages): writes are refused until the writeout ends`,
      )
    }
    let isVolatile = this.#vol.ranges.size > 0 && this.#vol.ranges.contains(pgoffset)
    if (write && isVolatile) {
      if (this.#vol.strict) throw new VolatileWriteError(pgoffset)
      // Lenient: writing means the page is wanted again (like a write to MADV_FREE memory).
      this.#vol.ranges.remove(pgoffset, pgoffset + 1)
      isVolatile = false
    }
    page.readahead = false
    if (write && page.state === PageState.LOADED) {
      page.state = PageState.DIRTY
      page.dirtySeq = this.ram._nextDirtySeq()
      this.#dirty.add(page)
    }
    const pt = vma._pt
    const i = pgoffset - vma.pgoffset
    if (pt.get(i) < 0) page.mapcount++
    // A dirty page is mapped writable even on a read fault (it cannot get dirtier), unless it is volatile:
    // then writes must fault so that they can be refused or cancel the volatility.
    pt.set(i, page.frame * 2 + (page.state === PageState.DIRTY && !isVolatile ? 1 : 0))
    this.ram.ref[page.frame] = 1
  }

  /** (8) Fills a LOADING page from its block(s): one loadblk per block, or a bigger block via the bounce buffer. */
  #load(page: Page): Awaitable<void> {
    const { ram, blksize: bs, pagesize: ps } = this
    // One block per page (the common case): straight into the frame's kept view, nothing allocated.
    if (this.#ppb === 1 && this.#bpp === 1)
      return this.#blockIO('load', page.pgoffset, page.pgoffset, ram._frameView(page.frame), page.readahead)
    if (this.#ppb === 1) {
      const base = page.frame * ps
      const blk0 = page.pgoffset * this.#bpp
      return runSeq(this.#bpp, (k) =>
        this.#blockIO(
          'load',
          page.pgoffset,
          blk0 + k,
          new Uint8Array(ram.arena, base + k * bs, bs),
          page.readahead,
        ),
      )
    }
    // The block spans several pages: stage it whole in the bounce buffer, keep this page's slice.
    const blk = Math.floor(page.pgoffset / this.#ppb)
    const at = (page.pgoffset % this.#ppb) * ps
    const into = (b: Uint8Array): Awaitable<void> =>
      settle(
        () => {
          const copy = () => ram.bytes.set(b.subarray(at, at + ps), page.frame * ps)
          const r = this.#blockIO('load', page.pgoffset, blk, b)
          return isPromise(r) ? r.then(copy) : copy()
        },
        () => ram._releaseBounce(),
      )
    const b = ram._tryBounce(bs)
    return b ? into(b) : ram._bounce(bs).then(into)
  }

  /**
   * (7w) The pages of a read-ahead window at `pgoffset`: the fault's page (its frame already taken) and up
   * to `want - 1` pages after it that are neither resident nor spilled, each in a free frame (read-ahead
   * never reclaims, purges or spills). The frames go to the pages in ascending order, so frames freed
   * together (drop-behind frees a stream's frames in order) make a contiguous run that one `loadblks` fills.
   * All LOADING in the page map; undefined (nothing done) when no page could join the fault's.
   */
  #window(pgoffset: number, want: number, frame: number): Page[] | undefined {
    const { ram } = this
    // frame < 0: a window read ahead in the background, every page of it in a free frame
    const ahead = frame < 0
    const frames = ahead ? [] : [frame]
    for (let pg = ahead ? pgoffset : pgoffset + 1; pg < pgoffset + want; pg++) {
      if (this.#pagemap.has(pg) || this.#spilled.has(pg)) break
      if (this.#vol.strict && this.#vol.purged.contains(pg)) break
      const f = ram._tryTakeFree()
      if (f < 0) break
      frames.push(f)
    }
    if (frames.length === (ahead ? 0 : 1)) return undefined
    frames.sort((a, b) => a - b)
    const group = new Array<Page>(frames.length)
    for (let k = 0; k < frames.length; k++) {
      const page = new Page(this, pgoffset + k, frames[k])
      page.seq = true
      page.readahead = ahead || k > 0
      ram.ref[frames[k]] = k === 0 && !ahead ? 1 : 0
      ram.bind(frames[k], page)
      this.#pagemap.set(page.pgoffset, page)
      group[k] = page
    }
    return group
  }

  /**
   * (6r) Asynchronous read-ahead: a fault reached the trigger page of a stream whose loads are
   * asynchronous, so the next window is loaded now, in the background, in free frames only, as one load
   * in flight that nobody waits for (`#loadWindow` without a fault's page): the reader's next faults find
   * its pages LOADING or LOADED. A stream nobody declared frees what it has passed first (drop-behind).
   * Only when no fault waits for a frame and a load slot is free; a failed window is dropped quietly like
   * any window, so its error reaches only a fault that then needs one of its blocks.
   */
  #readAhead(vma: VMA, pgoffset: number): void {
    const ra = this.#ra
    ra.trigger = -1
    if (!ra.async || this.#ppb !== 1 || this.ram._hasWaiters() || !this.ram._loadSlotFree()) return
    const want = ra.planAhead(vma.pgoffset + vma.pglen)
    if (want === 0) return
    const end = ra.behindEndAhead(pgoffset, this.ram.frames)
    if (end > ra.behind) this.#dropBehind(ra.behind, end)
    const group = this.#window(ra.next, want, -1)
    ra.commitAhead(want, group === undefined ? 0 : group.length)
    if (group === undefined) return
    this.#count('readaheadAsync')
    this.#loadWindow(group, false)
  }

  /**
   * (8w) Loads a window: one `loadblks` per run of consecutive frames (per page when the file has none).
   * Returns the fault's page when the load went asynchronous (every page's `loading` is the window's), else
   * undefined once every page is LOADED. A failure drops the whole window quietly — its waiters retry, and
   * the pages in it load one by one for a while, so an error is reported by the fault whose block has it.
   */
  #loadWindow(group: Page[], pin: boolean): Page | undefined {
    let r: Awaitable<void>
    try {
      r = this.#loadRuns(group)
    } catch (e) {
      this.#failWindow(group, e)
      return undefined
    }
    if (isPromise(r)) {
      this.ram._loadStarted()
      this.#ra.async = true
      const outcome = r.then(
        () => this.#endWindow(group, undefined, false),
        (e: unknown) => this.#endWindow(group, e, true),
      )
      for (const page of group) page.loading = outcome
      if (pin) group[0].loadPins++
      return group[0]
    }
    for (const page of group) this.#finishLoad(page, undefined, false)
    return undefined
  }

  #endWindow(group: Page[], e: unknown, failed: boolean): LoadOutcome {
    try {
      if (failed) this.#failWindow(group, e)
      else for (const page of group) this.#finishLoad(page, undefined, false)
    } finally {
      this.ram._loadEnded()
    }
    return undefined
  }

  #failWindow(group: Page[], e: unknown): void {
    const ra = this.#ra
    ra.reset()
    ra.failStart = group[0].pgoffset
    ra.failEnd = group[0].pgoffset + group.length
    for (const page of group) this.#finishLoad(page, e, true)
  }

  /** The runs of consecutive frames of a window, each loaded by one `loadblks` (or page by page). */
  #loadRuns(group: Page[]): Awaitable<void> {
    const multi = typeof this.file.loadblks === 'function'
    const starts: number[] = [0]
    for (let k = 1; k < group.length; k++) if (group[k].frame !== group[k - 1].frame + 1) starts.push(k)
    starts.push(group.length)
    return runSeq(starts.length - 1, (i) => {
      const a = starts[i]
      const b = starts[i + 1]
      if (b - a === 1 || !multi) return runSeq(b - a, (k) => this.#load(group[a + k]))
      return this.#loadRun(group, a, b)
    })
  }

  /** One `loadblks` straight into the consecutive frames of `group[a..b)`, counted, its failure a LoadError. */
  #loadRun(group: Page[], a: number, b: number): Awaitable<void> {
    const { ram, pagesize: ps } = this
    const bpp = this.#bpp
    const first = group[a]
    const blk = first.pgoffset * bpp
    let ahead = 0
    for (let k = a; k < b; k++) if (group[k].readahead) ahead++
    this.#count('multiLoads')
    this.#count('loads', (b - a) * bpp)
    this.#count('readahead', ahead * bpp)
    this.#count('bytesLoaded', (b - a) * ps)
    const buf = new Uint8Array(ram.arena, first.frame * ps, (b - a) * ps)
    let r: Awaitable<void>
    try {
      r = (this.file.loadblks as NonNullable<BigFile['loadblks']>).call(this.file, blk, (b - a) * bpp, buf)
    } catch (e) {
      throw blockError('load', first.pgoffset, blk, e)
    }
    if (isPromise(r)) {
      return r.catch((e: unknown) => {
        throw blockError('load', first.pgoffset, blk, e)
      })
    }
  }

  /** Drop-behind of a stream nobody declared: the pages it loaded in [start, end) that it has passed. */
  #dropBehind(start: number, end: number): void {
    this.#ra.behind = end
    for (let pg = start; pg < end; pg++) {
      const page = this.#pagemap.get(pg)
      if (page !== undefined) this.#dropPassed(page)
    }
  }

  /** Drops a page a sequential stream loaded and has passed, if it is clean, unpinned and mapped at most once. */
  #dropPassed(page: Page): void {
    if (!page.seq || page.state !== PageState.LOADED || page.pincount !== 0 || page.mapcount > 1) return
    if (page.detached) return
    this.#drop(page, 'reclaim')
    this.#count('dropBehind')
  }

  /**
   * Says how pages [pgoffset, pgoffset + pglen) will be accessed (see `Advice`): 'sequential' reads ahead
   * from the first fault in the range, up to its end, and leaves drop-behind to the caller; 'random' turns
   * read-ahead off there; 'normal' (the default) reads ahead once faults are seen to be sequential;
   * 'dontneed' drops now the clean, unpinned pages of the range that a sequential stream loaded (the
   * caller has passed them). One range is advised at a time: a new 'sequential' or 'random' replaces it.
   */
  advise(pgoffset: number, pglen: number, advice: Advice): void {
    this.#checkOpen()
    checkPageRange(pgoffset, pglen, this.pagesize)
    const ra = this.#ra
    const end = pgoffset + pglen
    switch (advice) {
      case 'dontneed':
        if (!this.#raOn) return
        if (pglen === 1) {
          const page = this.#pagemap.get(pgoffset)
          if (page !== undefined) this.#dropPassed(page)
        } else for (const page of this.#residentIn(pgoffset, end)) this.#dropPassed(page)
        return
      case 'normal':
        if (pgoffset < ra.advEnd && end > ra.advStart) {
          ra.advice = 'normal'
          ra.advStart = ra.advEnd = 0
        }
        return
      case 'sequential':
      case 'random':
        ra.advice = advice
        ra.advStart = pgoffset
        ra.advEnd = end
        return
      default:
        throw new InvalidArgumentError(
          `advice must be 'normal', 'sequential', 'random' or 'dontneed', got ${String(advice)}`,
        )
    }
  }

  /** The (first) block holding file page `pgoffset`. */
  #blkOf(pgoffset: number): number {
    return this.#ppb === 1 ? pgoffset * this.#bpp : Math.floor(pgoffset / this.#ppb)
  }

  /**
   * Calls the storage's loadblk or storeblk for one block, counted, and turns its failure — thrown or
   * rejected — into LoadError or StoreError. `pgoffset` is the page the block is for (for errors).
   */
  #blockIO(
    op: 'load' | 'store',
    pgoffset: number,
    blk: number,
    buf: Uint8Array,
    ahead = false,
  ): Awaitable<void> {
    const store = op === 'store'
    // named increments, not #count's keyed ones: this is the miss path
    const c = this.counters
    const rc = this.ram.counters
    if (store) {
      c.stores++
      rc.stores++
      c.bytesStored += buf.length
      rc.bytesStored += buf.length
    } else {
      c.loads++
      rc.loads++
      if (ahead) {
        c.readahead++
        rc.readahead++
      }
      c.bytesLoaded += buf.length
      rc.bytesLoaded += buf.length
    }
    let r: Awaitable<void>
    try {
      r = store ? this.file.storeblk(blk, buf) : this.file.loadblk(blk, buf)
    } catch (e) {
      throw blockError(op, pgoffset, blk, e)
    }
    if (isPromise(r)) {
      return r.catch((e: unknown) => {
        throw blockError(op, pgoffset, blk, e)
      })
    }
  }

  /** Counts an event on this FileH and on its RAM (which sums every file). */
  #count(event: keyof CountersSnapshot, n = 1): void {
    this.counters[event] += n
    this.ram.counters[event] += n
  }

  // ---------------------------------------------------------------- spill

  /** (7s) Fills `page` (a fresh frame) from spill slot `slot`: DIRTY and resident again, the slot freed. */
  #unspill(page: Page, slot: number): void {
    const spill = this.ram._spill as SpillFile
    try {
      spill.read(slot, this.ram.frameBytes(page.frame))
    } catch (e) {
      page.state = PageState.EMPTY
      this.ram.freeFrame(page.frame)
      throw e
    }
    this.#count('spillReads')
    this.#count('bytesSpillRead', this.pagesize)
    this.#spilled.delete(page.pgoffset)
    this.#releaseSlot(slot)
    page.state = PageState.DIRTY
    page.dirtySeq = this.ram._nextDirtySeq()
    this.#dirty.add(page)
    this.#pagemap.set(page.pgoffset, page)
  }

  /** Frees a spill slot, or holds it until the running writeout (which may still read it) ends. */
  #releaseSlot(slot: number): void {
    if (this.#storing) this.#heldSlots.push(slot)
    else (this.ram._spill as SpillFile).free(slot)
  }

  /** Forgets spilled page `pgoffset` (discard, invalidate, close, marked stored): it reads from storage again. */
  #dropSpilled(pgoffset: number, slot: number): void {
    this.#spilled.delete(pgoffset)
    this.#releaseSlot(slot)
  }

  /** @internal RAM's spill step: the oldest dirty pages (the dirty set keeps the order they were dirtied in). */
  _spillCandidates(max: number, out: Page[]): void {
    let n = 0
    for (const page of this.#dirty) {
      if (n >= max) break
      if (page.pincount !== 0 || page.detached || page.state !== PageState.DIRTY) continue
      out.push(page)
      n++
    }
  }

  /**
   * @internal RAM's spill step: writes `pages` (ascending) to the spill and frees their frames.
   * 1. notifiers hear of each page (reason 'spill') before its frame goes; a callback may re-enter,
   * 2. so each page is re-checked (still this page, DIRTY, unpinned) afterwards,
   * 3. slots are taken (SpillFullError when none is left) and the images written, sequentially,
   * 4. then the pages become SPILLED: unmapped, out of the page map and the resident dirty set, frame freed.
   * A failed write frees the slots and changes nothing.
   */
  _spillOut(pages: Page[], spill: SpillFile): number {
    // (1)
    const ranges = this.#notifiers.size > 0 ? pages.map((p) => this.#notifyStart(p, 'spill')) : null
    try {
      // (2)
      let victims = pages.filter(
        (p) => this.#pagemap.get(p.pgoffset) === p && p.state === PageState.DIRTY && p.pincount === 0,
      )
      if (victims.length === 0) return 0
      // (3)
      const slots = spill.alloc(victims.length)
      if (slots.length < victims.length) victims = victims.slice(0, slots.length)
      try {
        spill.write(
          slots,
          victims.map((p) => this.ram.frameBytes(p.frame)),
        )
      } catch (e) {
        for (const slot of slots) spill.free(slot)
        throw e
      }
      // (4)
      for (let i = 0; i < victims.length; i++) {
        const page = victims[i]
        this._unmapFromAll(page)
        this.#dirty.delete(page)
        this.#pagemap.delete(page.pgoffset)
        this.#spilled.set(page.pgoffset, slots[i])
        page.state = PageState.EMPTY
        this.ram.freeFrame(page.frame)
      }
      this.#count('spills', victims.length)
      this.#count('bytesSpilled', victims.length * this.pagesize)
      return victims.length
    } finally {
      if (ranges) for (const r of ranges) this.#notifiers.end(r)
    }
  }

  #notifyStart(
    page: Page,
    reason: InvalidateReason,
  ): { fileh: FileH; pgstart: number; pgend: number; reason: InvalidateReason } {
    const range = { fileh: this, pgstart: page.pgoffset, pgend: page.pgoffset + 1, reason }
    this.#notifiers.start(range)
    return range
  }

  // ---------------------------------------------------------------- dropping pages

  /** Drops a resident (LOADED or DIRTY) page: unmapped everywhere, forgotten, its frame freed or detached. */
  #drop(page: Page, reason: InvalidateReason | null): void {
    const notify = reason !== null && this.#notifiers.size > 0
    const range = notify ? { fileh: this, pgstart: page.pgoffset, pgend: page.pgoffset + 1, reason } : null
    if (range) {
      this.#notifiers.start(range)
      // A notifier may have called back into the VM and dropped this page already.
      if (this.#pagemap.get(page.pgoffset) !== page) {
        this.#notifiers.end(range)
        return
      }
    }
    this._unmapFromAll(page)
    if (page.readahead) this.#count('readaheadUnused')
    if (page.state === PageState.DIRTY) this.#dirty.delete(page)
    this.#pagemap.delete(page.pgoffset)
    page.state = PageState.EMPTY
    if (page.pincount > 0) page.detached = true
    else this.ram.freeFrame(page.frame)
    if (range) this.#notifiers.end(range)
  }

  /** @internal Called by RAM reclaim for a clean, unpinned page. */
  _reclaimPage(page: Page): void {
    this.#drop(page, 'reclaim')
    this.counters.reclaims++
    this.ram.counters.reclaims++
  }

  /** @internal Clears every page table entry that maps `page`. */
  _unmapFromAll(page: Page): void {
    if (page.mapcount === 0) return
    for (const vma of this.#vmas) {
      const i = page.pgoffset - vma.pgoffset
      if (i < 0 || i >= vma.pglen || vma._pt.get(i) < 0) continue
      vma._pt.clear(i)
      if (--page.mapcount === 0) return
    }
  }

  /** @internal Pins `page`: its frame is not reused until the matching unpin. */
  _pin(page: Page, write = false): void {
    page.pincount++
    if (write) page.wpincount++
  }

  /** @internal */
  _unpin(page: Page, write = false): void {
    if (page.pincount <= 0) return
    if (write && page.wpincount > 0) page.wpincount--
    if (--page.pincount === 0 && page.detached) {
      page.detached = false
      this.ram.freeFrame(page.frame)
      return
    }
    // Reclaimable again (if clean); and a waiter that found every frame stuck must look again.
    this.ram._wake()
  }

  /** @internal A resident page or undefined (EMPTY). */
  _page(pgoffset: number): Page | undefined {
    return this.#pagemap.get(pgoffset)
  }

  /** @internal Called by VMA.unmap. */
  _unmap(vma: VMA): void {
    const pt = vma._pt
    if (this.#pagemap.size < pt.mapped) {
      for (const page of this.#pagemap.values()) {
        const i = page.pgoffset - vma.pgoffset
        if (i >= 0 && i < vma.pglen && pt.get(i) >= 0) page.mapcount--
      }
    } else {
      pt.forEachMapped((i) => {
        const page = this.#pagemap.get(vma.pgoffset + i)
        if (page) page.mapcount--
      })
    }
    pt.clearAll()
    this.#vmas.delete(vma)
  }

  // ---------------------------------------------------------------- writeout / discard / invalidate

  /**
   * Writes out dirty pages. STORE calls storeblk for every dirty page in ascending block order (each
   * block once) and leaves the pages dirty; MARKSTORED makes them LOADED and read-only; both together
   * do one then the other, and mark nothing when a store fails. Answers synchronously when storeblk
   * does, else with a Promise. Failures raise StoreError and leave every page dirty, ready to retry.
   * Writing to the pages while an asynchronous STORE runs is a race the caller must avoid.
   */
  writeout(flags: number): Awaitable<void> {
    if (flags !== 1 && flags !== 2 && flags !== 3) {
      throw new InvalidArgumentError(`writeout flags must be STORE, MARKSTORED or both, got ${flags}`)
    }
    this.#checkOpen()
    if (this.isScratch)
      throw new InvalidArgumentError('a scratch file has no storage: it cannot be written out')
    if (this.#storing) throw new BusyError('a writeout of this FileH is already in progress')
    if (!(flags & WriteoutFlags.STORE)) {
      this.#markStored()
      return
    }
    // The dirty set is the resident dirty pages (pinned for the store) and the spilled ones (their slots
    // held until the store ends), in one ascending list: the storage sees blocks in order either way.
    const resident = [...this.#dirty]
    const spilled = new Map(this.#spilled)
    const pages: DirtyPage[] = resident.map((p) => ({ pgoffset: p.pgoffset, page: p, slot: -1 }))
    for (const [pgoffset, slot] of spilled) pages.push({ pgoffset, page: undefined, slot })
    pages.sort((a, b) => a.pgoffset - b.pgoffset)
    for (const p of resident) this._pin(p)
    this.#storing = true
    const done = () => {
      this.#storing = false
      for (const p of resident) this._unpin(p)
      const spill = this.ram._spill
      if (spill) for (const slot of this.#heldSlots.splice(0)) spill.free(slot)
    }
    const mark = flags & WriteoutFlags.MARKSTORED ? () => this.#markStored() : () => {}
    const r = settle(() => this.#store(pages, spilled), done)
    if (isPromise(r)) return r.then(mark)
    mark()
  }

  /**
   * STORE: one storeblk per block, ascending. A resident page is stored from its frame; a spilled one is
   * read back into the bounce buffer (the reserve) and stored from there, so the writeout never needs
   * more frames than the budget has, however big the dirty set.
   */
  #store(pages: DirtyPage[], spilled: Map<number, number>): Awaitable<void> {
    const { ram, blksize: bs, pagesize: ps } = this
    if (this.#ppb === 1) {
      const bpp = this.#bpp
      return runSeq(pages.length, (i) => {
        const { pgoffset, page, slot } = pages[i]
        const blk0 = pgoffset * bpp
        if (page) {
          return runSeq(bpp, (k) =>
            this.#blockIO(
              'store',
              pgoffset,
              blk0 + k,
              new Uint8Array(ram.arena, page.frame * ps + k * bs, bs),
            ),
          )
        }
        const body = (b: Uint8Array): Awaitable<void> =>
          settle(
            () => {
              this.#readSpilled(slot, b)
              return runSeq(bpp, (k) =>
                this.#blockIO('store', pgoffset, blk0 + k, b.subarray(k * bs, k * bs + bs)),
              )
            },
            () => ram._releaseBounce(),
          )
        const b = ram._tryBounce(ps)
        return b ? body(b) : ram._bounce(ps).then(body)
      })
    }
    const ppb = this.#ppb
    const blocks = [...new Set(pages.map((p) => Math.floor(p.pgoffset / ppb)))]
    return runSeq(blocks.length, (i) => {
      const blk = blocks[i]
      const body = (b: Uint8Array): Awaitable<void> =>
        settle(
          () => {
            const assemble = () => {
              for (let j = 0; j < ppb; j++) {
                const pgoffset = blk * ppb + j
                const page = this.#pagemap.get(pgoffset)
                if (page && (page.state === PageState.LOADED || page.state === PageState.DIRTY)) {
                  b.set(ram.bytes.subarray(page.frame * ps, page.frame * ps + ps), j * ps)
                  continue
                }
                const slot = this.#spilled.get(pgoffset) ?? spilled.get(pgoffset)
                if (slot !== undefined) this.#readSpilled(slot, b.subarray(j * ps, j * ps + ps))
              }
              return this.#blockIO('store', blk * ppb, blk, b)
            }
            // Pages of the block that are neither resident nor spilled come from the storage as it is.
            if (!this.#blockResident(blk, spilled)) {
              const r = this.#blockIO('load', blk * ppb, blk, b)
              if (isPromise(r)) return r.then(assemble)
            }
            return assemble()
          },
          () => ram._releaseBounce(),
        )
      const b = ram._tryBounce(bs)
      return b ? body(b) : ram._bounce(bs).then(body)
    })
  }

  #blockResident(blk: number, spilled: Map<number, number>): boolean {
    for (let j = 0; j < this.#ppb; j++) {
      const pgoffset = blk * this.#ppb + j
      const page = this.#pagemap.get(pgoffset)
      if (page && (page.state === PageState.LOADED || page.state === PageState.DIRTY)) continue
      if (!this.#spilled.has(pgoffset) && !spilled.has(pgoffset)) return false
    }
    return true
  }

  /** Reads a spilled page's image into `into` for a writeout, counted. */
  #readSpilled(slot: number, into: Uint8Array): void {
    ;(this.ram._spill as SpillFile).read(slot, into)
    this.#count('spillReads')
    this.#count('bytesSpillRead', this.pagesize)
  }

  /** MARKSTORED: resident dirty pages become LOADED (read-only); spilled ones are forgotten, their slots freed. */
  #markStored(): void {
    for (const page of this.#dirty) {
      page.state = PageState.LOADED
      this.#writeProtect(page)
    }
    this.#dirty.clear()
    for (const [pgoffset, slot] of this.#spilled) this.#dropSpilled(pgoffset, slot)
    this.ram._wake() // clean pages are reclaimable: a fault waiting for a frame may take one
  }

  /** Makes every mapping of `page` read-only, so that the next write faults. */
  #writeProtect(page: Page): void {
    if (page.mapcount === 0) return
    for (const vma of this.#vmas) {
      const i = page.pgoffset - vma.pgoffset
      const e = vma._pt.get(i)
      if (e >= 0) vma._pt.set(i, e & ~1)
    }
  }

  /**
   * Stable pages under writeout (Linux's `clear_page_dirty_for_io` and stable page writes): until
   * `thawAfterWriteout()`, no page of this file may change, so the bytes a writeout stores are the bytes it
   * later marks stored. Every dirty page is write-protected, so the next write to any page faults, and a
   * write fault is refused with BusyError (EBUSY) instead of dirtying the page. A commit protocol calls it
   * before it decides what to store (a transaction: before its conflict check, so the blocks it checked are
   * exactly the blocks it stores) and thaws when the writeout ends, stored or not. Refused (BusyError) while a
   * write pin is live: its views write without faulting.
   */
  freezeForWriteout(): void {
    this.#checkOpen()
    for (const page of this.#dirty) {
      if (page.wpincount > 0) {
        throw new BusyError(
          `page ${page.pgoffset} is pinned for writing: release the pin before a writeout can freeze it`,
        )
      }
    }
    this.#frozen = true
    for (const page of this.#dirty) this.#writeProtect(page)
  }

  /** Ends `freezeForWriteout()`: writes fault and dirty pages as usual again. */
  thawAfterWriteout(): void {
    this.#frozen = false
  }

  /** Whether the pages are frozen for a writeout (`freezeForWriteout()`), so writes are refused. */
  get frozenForWriteout(): boolean {
    return this.#frozen
  }

  /** Drops every dirty page, spilled ones included: their next access reloads the stored data. Always succeeds. */
  discard(): void {
    this.#checkOpen()
    for (const page of [...this.#dirty]) {
      if (page.state !== PageState.DIRTY) continue // dropped meanwhile by a re-entrant notifier
      this.#drop(page, 'discard')
      this.#count('drops')
    }
    for (const [pgoffset, slot] of [...this.#spilled]) {
      if (this.#spilled.get(pgoffset) !== slot) continue
      this.#dropSpilled(pgoffset, slot)
      this.#count('drops')
    }
  }

  /** Forgets page `pgoffset` (the file changed underneath): see invalidateRange. */
  invalidatePage(pgoffset: number): void {
    this.invalidateRange(pgoffset, 1)
  }

  /**
   * Forgets pages [pgoffset, pgoffset + pglen), dirty or not: the next access loads them anew. A load in
   * progress is marked LOADING_INVALIDATED, so its data is dropped and its fault retried. Notifiers hear
   * of the whole range even when none of it is resident (a mirror may outlive the pages).
   */
  invalidateRange(pgoffset: number, pglen: number): void {
    this.#checkOpen()
    checkPageRange(pgoffset, pglen, this.pagesize)
    const end = pgoffset + pglen
    const hit = this.#residentIn(pgoffset, end)
    const range = this.#notifiers.size
      ? { fileh: this, pgstart: pgoffset, pgend: end, reason: 'invalidate' as const }
      : null
    if (range) this.#notifiers.start(range)
    for (const page of hit) {
      if (page.state === PageState.LOADING) {
        page.state = PageState.LOADING_INVALIDATED
        this.#pagemap.delete(page.pgoffset)
      } else if (page.state === PageState.LOADED || page.state === PageState.DIRTY) {
        this.#drop(page, null)
        this.#count('drops')
      }
    }
    if (this.#spilled.size > 0) {
      for (const [pg, slot] of [...this.#spilled]) {
        if (pg < pgoffset || pg >= end) continue
        this.#dropSpilled(pg, slot)
        this.#count('drops')
      }
    }
    if (range) this.#notifiers.end(range)
  }

  /** Resident pages of [start, end), ascending; walks whichever is smaller, the range or the page map. */
  #residentIn(start: number, end: number): Page[] {
    const hit: Page[] = []
    if (end - start <= this.#pagemap.size) {
      for (let pgoffset = start; pgoffset < end; pgoffset++) {
        const page = this.#pagemap.get(pgoffset)
        if (page) hit.push(page)
      }
    } else {
      for (const page of this.#pagemap.values())
        if (page.pgoffset >= start && page.pgoffset < end) hit.push(page)
      hit.sort((a, b) => a.pgoffset - b.pgoffset)
    }
    return hit
  }

  // ---------------------------------------------------------------- volatile ranges

  /**
   * Marks the pages wholly inside bytes [offset, offset + length) volatile (rounded inward, so no byte
   * outside the range is ever given up): under memory pressure reclaim may purge them before any
   * ordinary clean page. Volatility belongs to the file, shared by every mapping. For a file with a
   * storage, volatile pages must be clean (BusyError otherwise): they are only dropped, and reload.
   */
  markVolatile(offset: number, length: number): void {
    this.#checkOpen()
    const [start, end] = this.#pageSpan(offset, length, false)
    if (start >= end) return
    if (!this.isScratch) {
      const dirty = this.#residentIn(start, end)
        .filter((p) => p.state === PageState.DIRTY)
        .map((p) => p.pgoffset)
      for (const pg of this.#spilled.keys()) if (pg >= start && pg < end) dirty.push(pg)
      if (dirty.length > 0) {
        throw new BusyError(
          `pages ${dirty.sort((a, b) => a - b).join(', ')} are dirty: write them out or discard them before marking volatile`,
        )
      }
    }
    this.#vol.ranges.add(start, end, this.ram._nextMarkSeq())
    this.ram._registerVolatile(this)
    this.ram._wake() // purgeable now
    for (const page of this.#residentIn(start, end)) this.#writeProtect(page)
  }

  /**
   * Takes the pages touching bytes [offset, offset + length) out of the volatile set (rounded outward) and
   * answers whether any of them was purged since it was marked: their contents are then zeros and must be
   * regenerated. (A file with a storage never loses data this way: its volatile pages are clean.)
   */
  markNonVolatile(
    offset: number,
    length: number,
  ): {
    /** Whether any page of the range was purged since it was marked volatile (its contents are then zeros). */
    purged: boolean
  } {
    this.#checkOpen()
    const [start, end] = this.#pageSpan(offset, length, true)
    if (length === 0) return { purged: false } // an empty range touches no page (outward rounding aside)
    const purged = this.#vol.purged.overlaps(start, end)
    this.#vol.purged.remove(start, end)
    this.#vol.ranges.remove(start, end)
    if (this.#vol.ranges.size === 0) this.ram._unregisterVolatile(this)
    return { purged }
  }

  /** The volatile page ranges [pgstart, pgend), ascending. */
  volatileRanges(): {
    /** The first page of the range. */
    pgstart: number
    /** The page after the last one of the range. */
    pgend: number
  }[] {
    return this.#vol.ranges.toArray().map((r) => ({ pgstart: r.start, pgend: r.end }))
  }

  /** @internal */
  _volatileRanges(): readonly Interval[] {
    return this.#vol.ranges.toArray()
  }

  /** @internal Purges one volatile range (or, per page, part of it); returns the frames freed. */
  _purgeRange(range: Interval, want: number): number {
    const pages = this.#residentIn(range.start, range.end)
    const perPage = this.#vol.purgeUnit === 'page'
    // A range is purged whole or not at all: a pinned page keeps all of it.
    if (!perPage && pages.some((p) => p.pincount > 0)) return 0
    let freed = 0
    let lost = false
    for (const page of pages) {
      if (perPage && freed >= want) break
      if (page.pincount > 0 || (page.state !== PageState.LOADED && page.state !== PageState.DIRTY)) continue
      if (this.#pagemap.get(page.pgoffset) !== page) continue // dropped meanwhile by a re-entrant notifier
      const dirty = page.state === PageState.DIRTY
      this.#drop(page, 'purge')
      this.#count('purges')
      freed++
      if (dirty && perPage) this.#vol.purged.add(page.pgoffset, page.pgoffset + 1, 0)
      lost ||= dirty
    }
    if (lost && !perPage) this.#vol.purged.add(range.start, range.end, 0)
    return freed
  }

  /** Bytes → pages: inward (only whole pages) or outward (every page touched). */
  #pageSpan(offset: number, length: number, outward: boolean): [number, number] {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new InvalidArgumentError(`offset must be a non-negative integer, got ${offset}`)
    }
    if (!Number.isSafeInteger(length) || length < 0 || !Number.isSafeInteger(offset + length)) {
      throw new InvalidArgumentError(`length must be a non-negative integer, got ${length}`)
    }
    const ps = this.pagesize
    if (outward) return [Math.floor(offset / ps), Math.ceil((offset + length) / ps)]
    return [Math.ceil(offset / ps), Math.floor((offset + length) / ps)]
  }

  // ---------------------------------------------------------------- close

  /**
   * Drops every page of the file, dirty ones included, and fires `release` on the notifiers. Refuses
   * (BusyError) while mappings are alive or a writeout runs: unmap first. Loads in flight finish into
   * nothing. Idempotent.
   */
  close(): void {
    if (this.#closed) return
    if (this.#vmas.size > 0) {
      throw new BusyError(`FileH still has ${this.#vmas.size} mapping(s): unmap them before close()`)
    }
    if (this.#storing) throw new BusyError('a writeout of this FileH is in progress')
    this.#closed = true
    for (const page of this.#pagemap.values()) {
      if (page.state === PageState.LOADING) {
        page.state = PageState.LOADING_INVALIDATED
      } else {
        this.#drop(page, null)
        this.#count('drops')
      }
    }
    this.#pagemap.clear()
    this.#dirty.clear()
    for (const [pgoffset, slot] of [...this.#spilled]) {
      this.#dropSpilled(pgoffset, slot)
      this.#count('drops')
    }
    this.ram._unregisterSpill(this)
    this.#vol.ranges.clear()
    this.ram._unregisterVolatile(this)
    this.#notifiers.release(this)
  }

  /** For `using`: unmaps every VMA of this handle, then `close()`. Does nothing once closed. */
  [Symbol.dispose](): void {
    if (this.#closed) return
    for (const vma of [...this.#vmas]) vma.unmap()
    this.close()
  }

  // ---------------------------------------------------------------- notifiers

  /** Registers `notifier` to hear of invalidations and of this handle's close; returns a registration to unregister it (also with `using`). ClosedError once closed. */
  registerNotifier(notifier: FileHNotifier): NotifierRegistration {
    this.#checkOpen()
    this.#notifiers.add(notifier)
    const unregister = () => this.#notifiers.remove(notifier)
    return { unregister, [Symbol.dispose]: unregister }
  }

  /** Stops calling `notifier`. Does nothing when it is not registered. */
  unregisterNotifier(notifier: FileHNotifier): void {
    this.#notifiers.remove(notifier)
  }

  // ---------------------------------------------------------------- introspection

  /** Whether any page is dirty: resident (DIRTY) or in the spill file (SPILLED). */
  isDirty(): boolean {
    return this.#dirty.size > 0 || this.#spilled.size > 0
  }

  /** Offsets of the dirty pages, resident (DIRTY) and spilled (SPILLED), ascending. */
  dirtyPages(): number[] {
    const out = [...this.#dirty].map((p) => p.pgoffset)
    for (const pg of this.#spilled.keys()) out.push(pg)
    return out.sort((a, b) => a - b)
  }

  /** Offsets of the SPILLED pages (dirty, in the spill file, no frame), ascending. */
  spilledPages(): number[] {
    return [...this.#spilled.keys()].sort((a, b) => a - b)
  }

  /** Offsets of the resident pages (loading ones included), ascending. */
  residentPages(): number[] {
    return [...this.#pagemap.keys()].sort((a, b) => a - b)
  }

  /** The state of file page `pgoffset`: EMPTY when neither resident nor spilled. */
  pageState(pgoffset: number): PageState {
    return (
      this.#pagemap.get(pgoffset)?.state ??
      (this.#spilled.has(pgoffset) ? PageState.SPILLED : PageState.EMPTY)
    )
  }

  /** State, mapping and pin counts and frame of file page `pgoffset` (frame -1 when not resident). */
  pageInfo(pgoffset: number): PageInfo {
    const p = this.#pagemap.get(pgoffset)
    if (!p) return { state: this.pageState(pgoffset), mapcount: 0, pincount: 0, frame: -1 }
    return { state: p.state, mapcount: p.mapcount, pincount: p.pincount, frame: p.frame }
  }

  /** Number of live VMAs made from this handle; `close()` throws BusyError while it is not 0. */
  get mappings(): number {
    return this.#vmas.size
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('FileH is closed')
  }
}

/** One entry of a writeout's dirty list: a resident page, or a spilled one (`page` undefined) and its slot. */
interface DirtyPage {
  pgoffset: number
  page: Page | undefined
  slot: number
}

function checkPageRange(pgoffset: number, pglen: number, pagesize: number): void {
  if (!Number.isSafeInteger(pgoffset) || pgoffset < 0) {
    throw new InvalidArgumentError(`pgoffset must be a non-negative integer, got ${pgoffset}`)
  }
  if (!Number.isSafeInteger(pglen) || pglen < 1) {
    throw new InvalidArgumentError(`pglen must be a positive integer, got ${pglen}`)
  }
  if (!Number.isSafeInteger((pgoffset + pglen) * pagesize)) {
    throw new InvalidArgumentError(`pages [${pgoffset}, ${pgoffset + pglen}) lie beyond 2^53 bytes`)
  }
}

function blockError(op: 'load' | 'store', pgoffset: number, blk: number, cause: unknown): BigFileError {
  return op === 'store' ? new StoreError(blk, cause) : new LoadError(pgoffset, blk, cause)
}

function checkRam(ram: unknown): asserts ram is RAM {
  if (!(ram instanceof RAM)) throw new InvalidArgumentError('a FileH needs a RAM')
}
