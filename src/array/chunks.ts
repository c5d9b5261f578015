// Contiguous-run iteration: a layout walked in C element order as pieces that each lie in one page, the
// page pinned while its pieces are handed out as zero-copy typed arrays, and read-ahead of the next pages
// when the storage loads asynchronously.
import { isPromise } from '../util/awaitable.ts'
import type { Pin } from '../virtmem/pin.ts'
import type { VMA } from '../virtmem/vma.ts'
import type { AnyTypedArray, TypedArrayCtor } from './dtype.ts'
import { extent, innerRun, type Layout, sizeOf } from './layout.ts'
import { checkAbort, type Progress, report, yielder } from './progress.ts'

/** A zero-copy typed array over `data.length` elements, the first being flat C-order index `start`. */
export interface Chunk {
  data: AnyTypedArray
  start: number
}

/**
 * The one chunk loop behind chunks(), forEachChunk() and every bulk operation: walks flat C-order range
 * [from, to) of layout `l` over `vma`. Each step is either a Promise the caller awaits before asking for
 * the next (a page load, a turn of the event loop) or the next Chunk, valid (its page pinned) only until
 * the next step; the same Chunk object is reused. Checks the abort signal before each chunk and reports
 * progress in bytes after the caller has used it. The caller's for-of releases the pin on exit.
 */
export function* walk(
  vma: VMA,
  l: Layout,
  itemsize: number,
  ctor: TypedArrayCtor,
  write: boolean,
  from: number,
  to: number,
  progress?: Progress,
): Generator<Chunk | Promise<unknown>, void, undefined> {
  const pins = new PagePins(vma, write, l, itemsize, from, to)
  const turn = yielder(progress)
  const chunk: Chunk = { data: EMPTY, start: 0 }
  try {
    for (const p of pieces(l, itemsize, vma.pagesize, from, to)) {
      checkAbort(progress)
      const r = pins.enter(p.off)
      if (r) yield r
      chunk.data = pins.view(ctor, p.off, p.n)
      chunk.start = p.start
      yield chunk
      report(progress, (p.start + p.n - from) * itemsize, (to - from) * itemsize)
      const y = turn?.(p.n * itemsize)
      if (y) yield y
    }
  } finally {
    pins.release()
    pins.done()
  }
}

const EMPTY = new Uint8Array(0)

/** One piece: `n` elements from byte `off` of the mapping, the first being flat C-order index `start`. */
export interface Piece {
  off: number
  n: number
  start: number
}

/**
 * The pieces of flat C-order range [from, to) of layout `l`. The same object is yielded each time
 * (no allocation per piece): read it before advancing.
 */
export function* pieces(
  l: Layout,
  itemsize: number,
  pagesize: number,
  from = 0,
  to = sizeOf(l.shape),
): Generator<Piece, void, undefined> {
  if (from >= to) return
  const { axes, runLen } = innerRun(l, itemsize)
  const outer = l.shape.length - axes
  // Odometer over the outer axes, positioned at the run holding `from`.
  const idx = new Array<number>(outer).fill(0)
  let base = l.offset
  let r = Math.floor(from / runLen)
  for (let k = outer - 1; k >= 0; k--) {
    idx[k] = r % l.shape[k]
    r = Math.floor(r / l.shape[k])
    base += idx[k] * l.strides[k]
  }
  const p: Piece = { off: 0, n: 0, start: 0 }
  let flat = from
  let within = from % runLen
  while (flat < to) {
    let off = base + within * itemsize
    let left = Math.min(runLen - within, to - flat)
    while (left > 0) {
      const n = Math.min(left, (pagesize - (off % pagesize)) / itemsize)
      p.off = off
      p.n = n
      p.start = flat
      yield p
      off += n * itemsize
      flat += n
      left -= n
    }
    within = 0
    for (let k = outer - 1; k >= 0; k--) {
      idx[k]++
      base += l.strides[k]
      if (idx[k] < l.shape[k]) break
      base -= idx[k] * l.strides[k]
      idx[k] = 0
    }
  }
}

/** Read-ahead depth in pages, capped by a quarter of the RAM so prefetch never crowds out the working page. */
const READAHEAD = 8

/**
 * Holds the pin of the page the current piece lies in; moving to another page releases it and pins the
 * next. Once a load has come back as a Promise (an async storage), each new page also starts loading the
 * pages after it in the direction of travel, not awaited.
 *
 * A walk of one contiguous ascending run (a C-contiguous array or slice of one) tells the FileH so
 * (`advise(..., 'sequential')`): it reads ahead in windows of adjacent blocks from the first page. When
 * the run is larger than the RAM's frames, each page the walk leaves is given back at once (`advise(pg, 1,
 * 'dontneed')`, drop-behind), so the scan reuses its own frames instead of flushing the rest of the cache.
 */
export class PagePins {
  readonly #vma: VMA
  readonly #write: boolean
  readonly #ps: number
  readonly #lo: number
  readonly #hi: number
  readonly #depth: number
  #pin: Pin | undefined
  #pg = -1
  #base = 0
  #async = false
  /** The file pages advised 'sequential' for this walk ([seqLo, seqHi); empty when not one ascending run). */
  #seqLo = 0
  #seqHi = 0
  /** The walk is larger than the RAM: pages it leaves are dropped (drop-behind). */
  #dropBehind = false

  constructor(vma: VMA, write: boolean, l: Layout, itemsize: number, from = 0, to = sizeOf(l.shape)) {
    this.#vma = vma
    this.#write = write
    this.#ps = vma.pagesize
    const { lo, hi } = extent(l, itemsize)
    this.#lo = Math.floor(lo / this.#ps)
    this.#hi = Math.ceil(hi / this.#ps)
    const ram = vma.fileh.ram
    this.#depth = Math.max(0, Math.min(READAHEAD, Math.floor(ram.frames / 4)))
    // One ascending run of bytes: the walk reads pages in order, from the page of `from` to that of `to`.
    const n = sizeOf(l.shape)
    if (to > from && innerRun(l, itemsize).runLen === n && n > 0) {
      const a = Math.floor((l.offset + from * itemsize) / this.#ps)
      const b = Math.ceil((l.offset + to * itemsize) / this.#ps)
      if (b - a > 1 && !vma.unmapped && !vma.fileh.closed) {
        this.#seqLo = vma.pgoffset + a
        this.#seqHi = vma.pgoffset + b
        vma.fileh.advise(this.#seqLo, b - a, 'sequential')
        this.#dropBehind = b - a > ram.frames
      }
    }
  }

  /** The walk has ended: its range goes back to normal advice. */
  done(): void {
    const fileh = this.#vma.fileh
    if (this.#seqHi > this.#seqLo && !fileh.closed)
      fileh.advise(this.#seqLo, this.#seqHi - this.#seqLo, 'normal')
  }

  /** Pins the page holding byte `off`; a Promise when it has to wait for a load. */
  enter(off: number): Promise<void> | undefined {
    const pg = Math.floor(off / this.#ps)
    if (pg === this.#pg) return
    const prev = this.#pg
    this.release()
    const at = pg * this.#ps
    const opts = { write: this.#write }
    const r = this.#vma.fault(at, this.#ps, opts)
    if (isPromise(r)) {
      this.#async = true
      this.#readahead(pg, prev)
      return r.then(() => this.#vma.pinAsync(at, this.#ps, opts)).then((pin) => this.#took(pg, pin))
    }
    this.#took(pg, this.#vma.pin(at, this.#ps, opts))
    if (this.#async) this.#readahead(pg, prev)
  }

  /** A typed-array view of `n` elements at byte `off`, which must lie in the entered page. */
  view(ctor: TypedArrayCtor, off: number, n: number): AnyTypedArray {
    return new ctor(this.#vma.fileh.ram.arena, this.#base + (off - this.#pg * this.#ps), n)
  }

  release(): void {
    this.#pin?.release()
    this.#pin = undefined
    const fileh = this.#vma.fileh
    // (drop-behind) the page just left will not be read again by this walk
    if (this.#dropBehind && this.#pg >= 0 && !fileh.closed)
      fileh.advise(this.#vma.pgoffset + this.#pg, 1, 'dontneed')
    this.#pg = -1
  }

  #took(pg: number, pin: Pin): void {
    this.#pin = pin
    this.#pg = pg
    this.#base = pin._base()
  }

  #readahead(pg: number, prev: number): void {
    const step = prev < 0 || prev === pg ? 1 : pg - prev
    for (let k = 1; k <= this.#depth; k++) {
      const next = pg + k * step
      if (next < this.#lo || next >= this.#hi) break
      try {
        const r = this.#vma.fault(next * this.#ps, this.#ps)
        // A failed prefetch is not the caller's error: the real access will fault and report it.
        if (isPromise(r)) r.catch(() => {})
      } catch {
        break
      }
    }
  }
}
