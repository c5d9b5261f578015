import {
  BigFileError,
  BusyError,
  ClosedError,
  DeadlockError,
  FaultRetryError,
  InvalidArgumentError,
  LoadError,
  PurgedError,
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
import type { RAM, VolatileSource } from './ram.ts'
import { runSeq, settle } from './seq.ts'
import { VMA } from './vma.ts'
import { type PurgeUnit, VolatileState } from './volatile.ts'

/** Flags of `FileH.writeout`, alone or OR-ed together. */
export const WriteoutFlags = {
  /** Call `storeblk` for every dirty page, in ascending block order, once each. Pages stay dirty. */
  STORE: 1,
  /** Mark every dirty page as stored: DIRTY → LOADED, mappings become read-only. */
  MARKSTORED: 2,
} as const

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
}

export interface PageInfo {
  state: PageState
  /** Number of VMAs mapping the page. */
  mapcount: number
  pincount: number
  frame: number
}

/**
 * A file handle: one snapshot view of a BigFile through a RAM. It owns the page map (which pages are
 * resident, and in which frame), the dirty set, and the mappings (VMAs) made from it.
 */
export class FileH implements VolatileSource {
  readonly file: BigFile
  readonly ram: RAM
  readonly pagesize: number
  readonly blksize: number
  readonly maxRetries: number
  readonly counters = new Counters()
  /** Whether this is a scratch file (anonymous memory, no storage behind it; see `FileH.scratch`). */
  readonly isScratch: boolean
  /** Blocks per page (when blksize ≤ pagesize) and pages per block (when blksize > pagesize). */
  readonly #bpp: number
  readonly #ppb: number
  readonly #pagemap = new Map<number, Page>()
  readonly #dirty = new Set<Page>()
  readonly #vmas = new Set<VMA>()
  readonly #notifiers = new NotifierList()
  readonly #vol: VolatileState
  #closed = false
  /** A writeout's STORE step is running (its pages are pinned; `storeblk` may still be reading them). */
  #storing = false
  /** Stable pages under writeout: write faults are refused (see `freezeForWriteout`). */
  #frozen = false

  /** A scratch file over `ram`: pages read as zeros until written, and have no storage to go to. */
  static scratch(ram: RAM, options: FileHOptions = {}): FileH {
    return new FileH(new ScratchFile(ram.pagesize), ram, options)
  }

  constructor(file: BigFile, ram: RAM, options: FileHOptions = {}) {
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
    readonlyFields(this, ['file', 'ram', 'pagesize', 'blksize', 'maxRetries', 'counters', 'isScratch'])
  }

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

  /** @internal Fault for a synchronous access: WouldBlockError when the page needs an async load. */
  _faultSync(vma: VMA, pgoffset: number, write: boolean): void {
    // (2) count the fault
    this.#count('faults')
    if (this.#step(vma, pgoffset, write) !== null) {
      throw new WouldBlockError(
        pgoffset,
        `page ${pgoffset} is loading asynchronously; await vma.fault() before synchronous access`,
      )
    }
  }

  /** @internal Fault that may wait for loads; resolves once the page is mapped in `vma`. */
  _fault(vma: VMA, pgoffset: number, write: boolean): Awaitable<void> {
    // (2) count the fault
    this.#count('faults')
    const wait = this.#step(vma, pgoffset, write)
    if (wait === null) return
    return this.#waitAndRetry(vma, pgoffset, write, wait)
  }

  /** (9) An asynchronous load ended: take its error, or go round the fault again (VM_RETRY), bounded. */
  async #waitAndRetry(vma: VMA, pgoffset: number, write: boolean, wait: Promise<LoadOutcome>): Promise<void> {
    for (let retries = 1; ; retries++) {
      const err = await wait
      if (err) throw err
      if (retries > this.maxRetries) throw new FaultRetryError(pgoffset, retries - 1)
      const next = this.#step(vma, pgoffset, write)
      if (next === null) return
      wait = next
    }
  }

  /**
   * One pass of the fault: maps the page if resident, starts its load if absent, or hands back the
   * completion to wait for. A load that finishes synchronously is retried at once, so a loadblk that
   * invalidated its own page (re-entrancy) just costs another turn, bounded by maxRetries.
   */
  #step(vma: VMA, pgoffset: number, write: boolean): Promise<LoadOutcome> | null {
    for (let tries = 0; ; tries++) {
      // (3) the FileH and the VMA must still be there (a retry may find them closed or unmapped)
      if (this.#closed) throw new ClosedError('FileH is closed')
      if (vma.unmapped) throw new ClosedError('VMA is unmapped')
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
          return page.loading
        }
        // (6) resident: install it in the VMA's page table (a minor fault)
        this.#install(vma, page, write)
        return null
      }
      // (7) absent: allocate a frame from RAM (reclaim may run) for a new LOADING page in the page map
      if (tries > this.maxRetries) throw new FaultRetryError(pgoffset, tries - 1)
      if (this.#vol.strict && this.#vol.purged.contains(pgoffset)) throw new PurgedError(pgoffset)
      const fresh = new Page(this, pgoffset, this.ram.allocFrame())
      this.ram.bind(fresh.frame, fresh)
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
        fresh.loading = r.then(
          () => this.#finishLoad(fresh, undefined, false),
          (e: unknown) => this.#finishLoad(fresh, e, true),
        )
        return fresh.loading
      }
      // (9) loaded synchronously: re-validate, then go round again to (3), which installs it at (6)
      this.#finishLoad(fresh, undefined, false)
    }
  }

  /** (9) Re-validates a page whose load ended: keep it (LOADED), or drop it when invalidated or failed. */
  #finishLoad(page: Page, e: unknown, failed: boolean): LoadOutcome {
    page.loading = undefined
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
    if (write && page.state === PageState.LOADED) {
      page.state = PageState.DIRTY
      this.#dirty.add(page)
    }
    const pt = vma._pt
    const i = pgoffset - vma.pgoffset
    if (pt[i] < 0) page.mapcount++
    // A dirty page is mapped writable even on a read fault (it cannot get dirtier), unless it is volatile:
    // then writes must fault so that they can be refused or cancel the volatility.
    pt[i] = page.frame * 2 + (page.state === PageState.DIRTY && !isVolatile ? 1 : 0)
    this.ram.ref[page.frame] = 1
  }

  /** (8) Fills a LOADING page from its block(s): one loadblk per block, or a bigger block via the bounce buffer. */
  #load(page: Page): Awaitable<void> {
    const { ram, blksize: bs, pagesize: ps } = this
    if (this.#ppb === 1) {
      const base = page.frame * ps
      const blk0 = page.pgoffset * this.#bpp
      return runSeq(this.#bpp, (k) =>
        this.#blockIO('load', page.pgoffset, blk0 + k, new Uint8Array(ram.arena, base + k * bs, bs)),
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

  /** The (first) block holding file page `pgoffset`. */
  #blkOf(pgoffset: number): number {
    return this.#ppb === 1 ? pgoffset * this.#bpp : Math.floor(pgoffset / this.#ppb)
  }

  /**
   * Calls the storage's loadblk or storeblk for one block, counted, and turns its failure — thrown or
   * rejected — into LoadError or StoreError. `pgoffset` is the page the block is for (for errors).
   */
  #blockIO(op: 'load' | 'store', pgoffset: number, blk: number, buf: Uint8Array): Awaitable<void> {
    const store = op === 'store'
    this.#count(store ? 'stores' : 'loads')
    this.#count(store ? 'bytesStored' : 'bytesLoaded', buf.length)
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
    this.#count('reclaims')
  }

  /** @internal Clears every page table entry that maps `page`. */
  _unmapFromAll(page: Page): void {
    if (page.mapcount === 0) return
    for (const vma of this.#vmas) {
      const i = page.pgoffset - vma.pgoffset
      if (i < 0 || i >= vma.pglen || vma._pt[i] < 0) continue
      vma._pt[i] = -1
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
    }
  }

  /** @internal A resident page or undefined (EMPTY). */
  _page(pgoffset: number): Page | undefined {
    return this.#pagemap.get(pgoffset)
  }

  /** @internal Called by VMA.unmap. */
  _unmap(vma: VMA): void {
    const pt = vma._pt
    if (this.#pagemap.size < vma.pglen) {
      for (const page of this.#pagemap.values()) {
        const i = page.pgoffset - vma.pgoffset
        if (i >= 0 && i < vma.pglen && pt[i] >= 0) page.mapcount--
      }
    } else {
      for (let i = 0; i < vma.pglen; i++) {
        if (pt[i] < 0) continue
        const page = this.#pagemap.get(vma.pgoffset + i)
        if (page) page.mapcount--
      }
    }
    pt.fill(-1)
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
    const pages = [...this.#dirty].sort((a, b) => a.pgoffset - b.pgoffset)
    for (const p of pages) this._pin(p)
    this.#storing = true
    const done = () => {
      this.#storing = false
      for (const p of pages) this._unpin(p)
    }
    const mark = flags & WriteoutFlags.MARKSTORED ? () => this.#markStored() : () => {}
    const r = settle(() => this.#store(pages), done)
    if (isPromise(r)) return r.then(mark)
    mark()
  }

  #store(pages: Page[]): Awaitable<void> {
    const { ram, blksize: bs, pagesize: ps } = this
    if (this.#ppb === 1) {
      const bpp = this.#bpp
      return runSeq(pages.length * bpp, (i) => {
        const page = pages[Math.floor(i / bpp)]
        const k = i % bpp
        return this.#blockIO(
          'store',
          page.pgoffset,
          page.pgoffset * bpp + k,
          new Uint8Array(ram.arena, page.frame * ps + k * bs, bs),
        )
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
                const page = this.#pagemap.get(blk * ppb + j)
                if (page && (page.state === PageState.LOADED || page.state === PageState.DIRTY)) {
                  b.set(ram.bytes.subarray(page.frame * ps, page.frame * ps + ps), j * ps)
                }
              }
              return this.#blockIO('store', blk * ppb, blk, b)
            }
            // Pages of the block that are not resident come from the storage as it is.
            if (!this.#blockResident(blk)) {
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

  #blockResident(blk: number): boolean {
    for (let j = 0; j < this.#ppb; j++) {
      const page = this.#pagemap.get(blk * this.#ppb + j)
      if (!page || (page.state !== PageState.LOADED && page.state !== PageState.DIRTY)) return false
    }
    return true
  }

  #markStored(): void {
    for (const page of this.#dirty) {
      page.state = PageState.LOADED
      this.#writeProtect(page)
    }
    this.#dirty.clear()
  }

  /** Makes every mapping of `page` read-only, so that the next write faults. */
  #writeProtect(page: Page): void {
    if (page.mapcount === 0) return
    for (const vma of this.#vmas) {
      const i = page.pgoffset - vma.pgoffset
      if (i >= 0 && i < vma.pglen && vma._pt[i] >= 0) vma._pt[i] &= ~1
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

  /** Drops every dirty page: their next access reloads the stored data. Always succeeds. */
  discard(): void {
    this.#checkOpen()
    for (const page of [...this.#dirty]) {
      if (page.state !== PageState.DIRTY) continue // dropped meanwhile by a re-entrant notifier
      this.#drop(page, 'discard')
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
      const dirty = this.#residentIn(start, end).filter((p) => p.state === PageState.DIRTY)
      if (dirty.length > 0) {
        throw new BusyError(
          `pages ${dirty.map((p) => p.pgoffset).join(', ')} are dirty: write them out or discard them before marking volatile`,
        )
      }
    }
    this.#vol.ranges.add(start, end, this.ram._nextMarkSeq())
    this.ram._registerVolatile(this)
    for (const page of this.#residentIn(start, end)) this.#writeProtect(page)
  }

  /**
   * Takes the pages touching bytes [offset, offset + length) out of the volatile set (rounded outward) and
   * answers whether any of them was purged since it was marked: their contents are then zeros and must be
   * regenerated. (A file with a storage never loses data this way: its volatile pages are clean.)
   */
  markNonVolatile(offset: number, length: number): { purged: boolean } {
    this.#checkOpen()
    const [start, end] = this.#pageSpan(offset, length, true)
    const purged = this.#vol.purged.overlaps(start, end)
    this.#vol.purged.remove(start, end)
    this.#vol.ranges.remove(start, end)
    if (this.#vol.ranges.size === 0) this.ram._unregisterVolatile(this)
    return { purged }
  }

  /** The volatile page ranges [pgstart, pgend), ascending. */
  volatileRanges(): { pgstart: number; pgend: number }[] {
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
    this.#vol.ranges.clear()
    this.ram._unregisterVolatile(this)
    this.#notifiers.release(this)
  }

  [Symbol.dispose](): void {
    if (this.#closed) return
    for (const vma of [...this.#vmas]) vma.unmap()
    this.close()
  }

  // ---------------------------------------------------------------- notifiers

  registerNotifier(notifier: FileHNotifier): NotifierRegistration {
    this.#checkOpen()
    this.#notifiers.add(notifier)
    const unregister = () => this.#notifiers.remove(notifier)
    return { unregister, [Symbol.dispose]: unregister }
  }

  unregisterNotifier(notifier: FileHNotifier): void {
    this.#notifiers.remove(notifier)
  }

  // ---------------------------------------------------------------- introspection

  isDirty(): boolean {
    return this.#dirty.size > 0
  }

  /** Offsets of the dirty pages, ascending. */
  dirtyPages(): number[] {
    return [...this.#dirty].map((p) => p.pgoffset).sort((a, b) => a - b)
  }

  /** Offsets of the resident pages (loading ones included), ascending. */
  residentPages(): number[] {
    return [...this.#pagemap.keys()].sort((a, b) => a - b)
  }

  pageState(pgoffset: number): PageState {
    return this.#pagemap.get(pgoffset)?.state ?? PageState.EMPTY
  }

  pageInfo(pgoffset: number): PageInfo {
    const p = this.#pagemap.get(pgoffset)
    if (!p) return { state: PageState.EMPTY, mapcount: 0, pincount: 0, frame: -1 }
    return { state: p.state, mapcount: p.mapcount, pincount: p.pincount, frame: p.frame }
  }

  get mappings(): number {
    return this.#vmas.size
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClosedError('FileH is closed')
  }
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
