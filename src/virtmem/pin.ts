import { ClosedError, InvalidArgumentError } from '../errors.ts'
import type { Page } from './page.ts'
import type { VMA } from './vma.ts'

/** Options of `vma.pin()`, `vma.pinAsync()` and `vma.withPinned()`. */
export interface PinOptions {
  /** Pin for writing: the pages are made dirty now, so writes through the views are kept. */
  write?: boolean
  /** `pinAsync`/`withPinned`: stops waiting for a frame (AbortError). */
  signal?: AbortSignal
}

/** A typed array constructor (`Uint8Array`, `Float64Array`, ...) that `pin.view()` instantiates over the arena. */
export type TypedArrayCtor<T> = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T
  /** Bytes per element: a view's range must be aligned to it. */
  readonly BYTES_PER_ELEMENT: number
}

/**
 * Pinned pages of a VMA range, with zero-copy views onto their frames. While the pin lives the frames are
 * never reused: reclaim skips them and an invalidation or discard only detaches them (the views then show
 * the dropped contents, and writes to them are lost). Views must not be used after `release()`; JavaScript
 * cannot revoke them, so that is the caller's discipline. Writes through the views of a read pin are not
 * tracked (the page is not made dirty) and may be lost: pin with `{ write: true }` to write.
 */
export class Pin implements Disposable {
  // Read-only through getters rather than readonlyFields: a pin is made per page of a scan, and making
  // fields non-writable one by one costs more than the rest of the pin (bench/scan.bench.ts).
  readonly #vma: VMA
  readonly #offset: number
  readonly #length: number
  readonly #write: boolean
  readonly #pages: Page[]
  #released = false

  private constructor(vma: VMA, offset: number, length: number, write: boolean, pages: Page[]) {
    this.#vma = vma
    this.#offset = offset
    this.#length = length
    this.#write = write
    this.#pages = pages
    for (const p of pages) p.userPins++
  }

  /** The VMA whose pages are pinned. */
  get vma(): VMA {
    return this.#vma
  }

  /** Byte offset of the pinned range in the VMA. */
  get offset(): number {
    return this.#offset
  }

  /** Length of the pinned range in bytes. */
  get length(): number {
    return this.#length
  }

  /** Whether the pin is for writing (its pages were made dirty). */
  get write(): boolean {
    return this.#write
  }

  /** @internal Pins page by page, `ensure` mapping each first. */
  static _make(
    vma: VMA,
    off: number,
    length: number,
    write: boolean,
    ensure: (i: number, write: boolean, held: readonly Page[]) => void,
  ): Pin {
    const pages: Page[] = []
    try {
      const ps = vma.pagesize
      const last = Math.floor((off + length - 1) / ps) // first - 1 when length is 0: nothing to pin
      for (let i = Math.floor(off / ps); i <= last; i++) {
        ensure(i, write, pages)
        pages.push(pinPage(vma, i, write))
      }
    } catch (e) {
      for (const p of pages) vma.fileh._unpin(p, write)
      throw e
    }
    return new Pin(vma, off, length, write, pages)
  }

  /** @internal Pins with waits (VMA._pinRange: each page pinned in the step that maps it). */
  static async _makeAsync(
    vma: VMA,
    off: number,
    length: number,
    write: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Pin> {
    const ps = vma.pagesize
    const first = Math.floor(off / ps)
    const last = Math.floor((off + length - 1) / ps) // first - 1 when length is 0: nothing to pin
    const pages = last < first ? [] : await vma._pinRange(first, last, write, signal)
    return new Pin(vma, off, length, write, pages)
  }

  /** @internal Every pinned page is still the resident page of its offset (none was dropped meanwhile). */
  _intact(): boolean {
    for (const p of this.#pages) if (p.detached || this.#vma.fileh._page(p.pgoffset) !== p) return false
    return true
  }

  /** @internal Where the first pinned byte lies in the RAM's arena (the array walk's views start there). */
  _base(): number {
    this.#check()
    if (this.#pages.length === 0) return 0
    return this.#pages[0].frame * this.#vma.pagesize + (this.#offset % this.#vma.pagesize)
  }

  /** Whether `release()` was called; the views must not be used then, and `forEach`/`view` throw ClosedError. */
  get released(): boolean {
    return this.#released
  }

  /** Calls fn(bytes, offset) for each contiguous piece of the range (one per page), in order. */
  forEach(fn: (bytes: Uint8Array, offset: number) => void): void {
    this.#check()
    const vma = this.#vma
    const ps = vma.pagesize
    const arena = vma.fileh.ram.arena
    for (let at = 0, k = 0; at < this.#length; k++) {
      const pos = this.#offset + at
      const inpage = pos % ps
      const n = Math.min(ps - inpage, this.#length - at)
      fn(new Uint8Array(arena, this.#pages[k].frame * ps + inpage, n), at)
      at += n
    }
  }

  /** One typed-array view of the whole range, which must lie in one page and be aligned for the type. */
  view<T>(Ctor: TypedArrayCtor<T>): T {
    this.#check()
    if (this.#length === 0) return new Ctor(this.#vma.fileh.ram.arena, 0, 0)
    if (this.#pages.length !== 1) {
      throw new InvalidArgumentError(
        `view() needs a range inside one page; this pin spans ${this.#pages.length} pages (use forEach)`,
      )
    }
    const size = Ctor.BYTES_PER_ELEMENT
    const inpage = this.#offset % this.#vma.pagesize
    if (inpage % size !== 0 || this.#length % size !== 0) {
      throw new InvalidArgumentError(
        `range at ${this.#offset} of ${this.#length} bytes is not aligned to ${size}`,
      )
    }
    const base = this.#pages[0].frame * this.#vma.pagesize + inpage
    return new Ctor(this.#vma.fileh.ram.arena, base, this.#length / size)
  }

  /** Unpins. Idempotent. */
  release(): void {
    if (this.#released) return
    this.#released = true
    for (const p of this.#pages) {
      p.userPins--
      p.fileh._unpin(p, this.#write)
    }
  }

  /** `release()`, for `using`. */
  [Symbol.dispose](): void {
    this.release()
  }

  #check(): void {
    if (this.#released) throw new ClosedError('pin was released')
  }
}

function pinPage(vma: VMA, i: number, write: boolean): Page {
  const page = vma.fileh._page(vma.pgoffset + i)
  // ensure() has just mapped it, in this same synchronous step.
  if (!page) throw new ClosedError(`page ${vma.pgoffset + i} vanished while pinning`)
  vma.fileh._pin(page, write)
  return page
}
