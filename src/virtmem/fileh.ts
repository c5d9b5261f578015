import {
  BigFileError,
  BusyError,
  ClosedError,
  DeadlockError,
  FaultRetryError,
  InvalidArgumentError,
  LoadError,
  StoreError,
  WouldBlockError,
} from '../errors.ts'
import { type Awaitable, isPromise } from '../util/awaitable.ts'
import type { BigFile } from './bigfile.ts'
import { Counters } from './counters.ts'
import {
  type FileHNotifier,
  type InvalidateReason,
  NotifierList,
  type NotifierRegistration,
} from './notifier.ts'
import { type LoadOutcome, Page, PageState } from './page.ts'
import type { RAM } from './ram.ts'
import { runSeq, settle } from './seq.ts'
import { VMA } from './vma.ts'

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
export class FileH {
  readonly file: BigFile
  readonly ram: RAM
  readonly pagesize: number
  readonly blksize: number
  readonly maxRetries: number
  readonly counters = new Counters()
  /** Blocks per page (when blksize ≤ pagesize) and pages per block (when blksize > pagesize). */
  readonly #bpp: number
  readonly #ppb: number
  readonly #pagemap = new Map<number, Page>()
  readonly #dirty = new Set<Page>()
  readonly #vmas = new Set<VMA>()
  readonly #notifiers = new NotifierList()
  #closed = false
  #writing = false

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

  /** @internal Fault for a synchronous access: WouldBlockError when the page needs an async load. */
  _faultSync(vma: VMA, pgoffset: number, write: boolean): void {
    this.#countFault()
    if (this.#step(vma, pgoffset, write) !== null) {
      throw new WouldBlockError(
        pgoffset,
        `page ${pgoffset} is loading asynchronously; await vma.fault() before synchronous access`,
      )
    }
  }

  /** @internal Fault that may wait for loads; resolves once the page is mapped in `vma`. */
  _fault(vma: VMA, pgoffset: number, write: boolean): Awaitable<void> {
    this.#countFault()
    const wait = this.#step(vma, pgoffset, write)
    if (wait === null) return
    return this.#waitAndRetry(vma, pgoffset, write, wait)
  }

  async #waitAndRetry(vma: VMA, pg: number, write: boolean, wait: Promise<LoadOutcome>): Promise<void> {
    for (let retries = 1; ; retries++) {
      const err = await wait
      if (err) throw err
      if (retries > this.maxRetries) throw new FaultRetryError(pg, retries - 1)
      const next = this.#step(vma, pg, write)
      if (next === null) return
      wait = next
    }
  }

  #countFault(): void {
    this.counters.faults++
    this.ram.counters.faults++
  }

  /**
   * One pass of the fault: maps the page if resident, starts its load if absent, or hands back the
   * completion to wait for. A load that finishes synchronously is retried at once, so a loadblk that
   * invalidated its own page (re-entrancy) just costs another turn, bounded by maxRetries.
   */
  #step(vma: VMA, pg: number, write: boolean): Promise<LoadOutcome> | null {
    for (let tries = 0; ; tries++) {
      if (this.#closed) throw new ClosedError('FileH is closed')
      if (vma.unmapped) throw new ClosedError('VMA is unmapped')
      const page = this.#pagemap.get(pg)
      if (page !== undefined) {
        if (page.state === PageState.LOADING) {
          if (page.loading === undefined) {
            throw new DeadlockError(`page ${pg} is being loaded by a synchronous loadblk up this call stack`)
          }
          return page.loading
        }
        this.#install(vma, page, write)
        return null
      }
      if (tries > this.maxRetries) throw new FaultRetryError(pg, tries - 1)
      const fresh = new Page(this, pg, this.ram.allocFrame())
      this.ram.bind(fresh.frame, fresh)
      this.#pagemap.set(pg, fresh)
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
      this.#finishLoad(fresh, undefined, false)
    }
  }

  /** Re-validates a page whose load ended: keep it (LOADED), or drop it when invalidated or failed. */
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
      return e instanceof BigFileError ? e : new LoadError(page.pgoffset, e)
    }
    page.state = PageState.LOADED
    return undefined
  }

  #install(vma: VMA, page: Page, write: boolean): void {
    if (write && page.state === PageState.LOADED) {
      page.state = PageState.DIRTY
      this.#dirty.add(page)
    }
    const pt = vma._pt
    const i = page.pgoffset - vma.pgoffset
    if (pt[i] < 0) page.mapcount++
    // A dirty page is mapped writable even on a read fault: it cannot get dirtier.
    pt[i] = page.frame * 2 + (page.state === PageState.DIRTY ? 1 : 0)
    this.ram.ref[page.frame] = 1
  }

  #load(page: Page): Awaitable<void> {
    const { ram, blksize: bs, pagesize: ps } = this
    if (this.#ppb === 1) {
      const base = page.frame * ps
      const blk0 = page.pgoffset * this.#bpp
      return runSeq(this.#bpp, (k) => this.#loadblk(blk0 + k, new Uint8Array(ram.arena, base + k * bs, bs)))
    }
    // The block spans several pages: stage it whole in the bounce buffer, keep this page's slice.
    const blk = Math.floor(page.pgoffset / this.#ppb)
    const at = (page.pgoffset % this.#ppb) * ps
    const into = (b: Uint8Array): Awaitable<void> =>
      settle(
        () => {
          const copy = () => ram.bytes.set(b.subarray(at, at + ps), page.frame * ps)
          const r = this.#loadblk(blk, b)
          return isPromise(r) ? r.then(copy) : copy()
        },
        () => ram._releaseBounce(),
      )
    const b = ram._tryBounce(bs)
    return b ? into(b) : ram._bounce(bs).then(into)
  }

  #loadblk(blk: number, buf: Uint8Array): Awaitable<void> {
    this.counters.loads++
    this.ram.counters.loads++
    this.counters.bytesLoaded += buf.length
    this.ram.counters.bytesLoaded += buf.length
    let r: Awaitable<void>
    try {
      r = this.file.loadblk(blk, buf)
    } catch (e) {
      throw new LoadError(blk, e)
    }
    if (isPromise(r)) {
      return r.catch((e: unknown) => {
        throw new LoadError(blk, e)
      })
    }
  }

  #storeblk(blk: number, buf: Uint8Array): Awaitable<void> {
    this.counters.stores++
    this.ram.counters.stores++
    this.counters.bytesStored += buf.length
    this.ram.counters.bytesStored += buf.length
    let r: Awaitable<void>
    try {
      r = this.file.storeblk(blk, buf)
    } catch (e) {
      throw new StoreError(blk, e)
    }
    if (isPromise(r)) {
      return r.catch((e: unknown) => {
        throw new StoreError(blk, e)
      })
    }
  }

  // ---------------------------------------------------------------- dropping pages

  /** Drops a resident (LOADED or DIRTY) page: unmapped everywhere, forgotten, its frame freed or detached. */
  #drop(page: Page, reason: InvalidateReason | null): void {
    const notify = reason !== null && this.#notifiers.size > 0
    const range = notify ? { fileh: this, pgstart: page.pgoffset, pgend: page.pgoffset + 1, reason } : null
    if (range) this.#notifiers.start(range)
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
    this.counters.reclaims++
    this.ram.counters.reclaims++
  }

  #countDrop(): void {
    this.counters.drops++
    this.ram.counters.drops++
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
  _pin(page: Page): void {
    page.pincount++
  }

  /** @internal */
  _unpin(page: Page): void {
    if (page.pincount <= 0) return
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
    if (this.#writing) throw new BusyError('a writeout of this FileH is already in progress')
    if (!(flags & WriteoutFlags.STORE)) {
      this.#markStored()
      return
    }
    const pages = [...this.#dirty].sort((a, b) => a.pgoffset - b.pgoffset)
    for (const p of pages) this._pin(p)
    this.#writing = true
    const done = () => {
      this.#writing = false
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
        return this.#storeblk(
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
              return this.#storeblk(blk, b)
            }
            // Pages of the block that are not resident come from the storage as it is.
            if (!this.#blockResident(blk)) {
              const r = this.#loadblk(blk, b)
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
      if (page.mapcount === 0) continue
      for (const vma of this.#vmas) {
        const i = page.pgoffset - vma.pgoffset
        if (i >= 0 && i < vma.pglen && vma._pt[i] >= 0) vma._pt[i] &= ~1
      }
    }
    this.#dirty.clear()
  }

  /** Drops every dirty page: their next access reloads the stored data. Always succeeds. */
  discard(): void {
    this.#checkOpen()
    for (const page of [...this.#dirty]) {
      this.#drop(page, 'discard')
      this.#countDrop()
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
    const hit: Page[] = []
    if (pglen <= this.#pagemap.size) {
      for (let pg = pgoffset; pg < end; pg++) {
        const page = this.#pagemap.get(pg)
        if (page) hit.push(page)
      }
    } else {
      for (const page of this.#pagemap.values())
        if (page.pgoffset >= pgoffset && page.pgoffset < end) hit.push(page)
    }
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
        this.#countDrop()
      }
    }
    if (range) this.#notifiers.end(range)
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
    if (this.#writing) throw new BusyError('a writeout of this FileH is in progress')
    this.#closed = true
    for (const page of this.#pagemap.values()) {
      if (page.state === PageState.LOADING) {
        page.state = PageState.LOADING_INVALIDATED
      } else {
        this.#drop(page, null)
        this.#countDrop()
      }
    }
    this.#pagemap.clear()
    this.#dirty.clear()
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
