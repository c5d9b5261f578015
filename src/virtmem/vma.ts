import {
  ClosedError,
  FaultRetryError,
  InvalidArgumentError,
  OutOfMemoryError,
  OutOfRangeError,
} from '../errors.ts'
import { type Awaitable, isPromise } from '../util/awaitable.ts'
import { readonlyFields } from '../util/readonly.ts'
import type { FaultWaitOptions, FileH } from './fileh.ts'
import type { Page } from './page.ts'
import { PageTable } from './pagetable.ts'
import { Pin, type PinOptions } from './pin.ts'

/** How a VMA maps one page (its protection): not at all, read-only, or writable. */
export type PageProtection = 'none' | 'r' | 'rw'

/** Options of `vma.fault()`. */
export interface FaultOptions {
  /** Fault for writing: the pages become dirty. */
  write?: boolean
  /** Stops waiting for a frame (AbortError). */
  signal?: AbortSignal
}

/** Options of `vma.read()` and `vma.write()`. */
export interface ReadOptions {
  /** Stops waiting for a frame (AbortError). */
  signal?: AbortSignal
}

/** Typed-array views of one RAM arena, shared by every VMA over it. */
interface ArenaViews {
  readonly u8: Uint8Array
  readonly i8: Int8Array
  readonly u16: Uint16Array
  readonly i16: Int16Array
  readonly u32: Uint32Array
  readonly i32: Int32Array
  readonly f32: Float32Array
  readonly f64: Float64Array
  readonly i64: BigInt64Array
  readonly u64: BigUint64Array
}

const views = new WeakMap<ArrayBuffer, ArenaViews>()

function viewsOf(arena: ArrayBuffer, bytes: Uint8Array): ArenaViews {
  let v = views.get(arena)
  if (v === undefined) {
    v = {
      u8: bytes,
      i8: new Int8Array(arena),
      u16: new Uint16Array(arena),
      i16: new Int16Array(arena),
      u32: new Uint32Array(arena),
      i32: new Int32Array(arena),
      f32: new Float32Array(arena),
      f64: new Float64Array(arena),
      i64: new BigInt64Array(arena),
      u64: new BigUint64Array(arena),
    }
    views.set(arena, v)
  }
  return v
}

/** Bytes per element of each accessor, by its index in VMA.#miss: Uint8, Int8, Uint16, ... BigUint64. */
const SIZES = [1, 1, 2, 2, 4, 4, 4, 8, 8, 8]
/** The flag of a write in VMA.#miss's op. */
const WRITE = 16

/** The file format is little-endian; typed arrays use the host's order, so only a little-endian host uses them. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

/**
 * A window of pages [pgoffset, pgoffset + pglen) of a FileH, accessed through a software page table
 * (`_pt`, sparse: see pagetable.ts): entry i is `frame * 2 + writable`, or -1 when page i is not mapped.
 * A hit reads or writes the frame in the RAM arena directly, through a typed-array view of the arena; a
 * miss (or a write to a read-only entry) is a page fault handled by the FileH.
 *
 * Multi-byte numbers are little-endian. Byte offsets are integers relative to the start of the VMA.
 * Synchronous accessors fault synchronously; when the storage answers loads with Promises they throw
 * WouldBlockError for a page not yet resident: `await vma.fault(...)`, or use `read`/`write`/`pinAsync`.
 */
export class VMA implements Disposable {
  /** The file handle this VMA maps. */
  readonly fileh: FileH
  /** The first file page mapped (a page number, not bytes). */
  readonly pgoffset: number
  /** How many pages are mapped. */
  readonly pglen: number
  /** Bytes per page (the RAM's page size). */
  readonly pagesize: number
  /** The mapped size in bytes: `pglen * pagesize`. */
  readonly byteLength: number
  /** @internal The page table. */
  readonly _pt: PageTable
  /** The page table's flat near part, for the hit path; empty on a big-endian host (every access misses). */
  readonly #near: Int32Array
  readonly #ps: number
  /** Elements of 2, 4 and 8 bytes per page. */
  readonly #pe2: number
  readonly #pe4: number
  readonly #pe8: number
  readonly #shift: number
  readonly #mask: number
  readonly #bytes: Uint8Array
  readonly #u8: Uint8Array
  readonly #i8: Int8Array
  readonly #u16: Uint16Array
  readonly #i16: Int16Array
  readonly #u32: Uint32Array
  readonly #i32: Int32Array
  readonly #dv: DataView
  readonly #f32: Float32Array
  readonly #f64: Float64Array
  readonly #i64: BigInt64Array
  readonly #u64: BigUint64Array
  /** Staging for a number that straddles two pages: read into it, or written into it then copied out. */
  readonly #straddle = new DataView(new ArrayBuffer(8))
  readonly #straddleBytes = new Uint8Array(this.#straddle.buffer)
  #unmapped = false

  /** Use `fileh.mmap()`. */
  constructor(fileh: FileH, pgoffset: number, pglen: number) {
    this.fileh = fileh
    this.pgoffset = pgoffset
    this.pglen = pglen
    this.pagesize = fileh.pagesize
    this.byteLength = pglen * fileh.pagesize
    this._pt = new PageTable(pglen)
    this.#near = LITTLE_ENDIAN ? this._pt.near : new Int32Array(0)
    this.#ps = fileh.pagesize
    this.#pe2 = fileh.pagesize / 2
    this.#pe4 = fileh.pagesize / 4
    this.#pe8 = fileh.pagesize / 8
    this.#shift = 31 - Math.clz32(fileh.pagesize)
    this.#mask = fileh.pagesize - 1
    this.#bytes = fileh.ram.bytes
    this.#dv = fileh.ram.dataview
    const v = viewsOf(fileh.ram.arena, fileh.ram.bytes)
    this.#u8 = v.u8
    this.#i8 = v.i8
    this.#u16 = v.u16
    this.#i16 = v.i16
    this.#u32 = v.u32
    this.#i32 = v.i32
    this.#f32 = v.f32
    this.#f64 = v.f64
    this.#i64 = v.i64
    this.#u64 = v.u64
    readonlyFields(this, ['fileh', 'pgoffset', 'pglen', 'pagesize', 'byteLength', '_pt'])
  }

  /** Whether the mapping is gone (`unmap()`, or its FileH disposed with `using`); every access then throws ClosedError. */
  get unmapped(): boolean {
    return this.#unmapped
  }

  /** Removes the mapping. Dirty pages stay in the FileH with their data. Idempotent. */
  unmap(): void {
    if (this.#unmapped) return
    this.fileh._unmap(this)
    this.#unmapped = true
  }

  /** `unmap()`, for `using`. */
  [Symbol.dispose](): void {
    this.unmap()
  }

  /** How file page `pgoffset` is mapped in this VMA. */
  mappedAs(pgoffset: number): PageProtection {
    const e = this._pt.get(pgoffset - this.pgoffset)
    if (!(e >= 0)) return 'none'
    return (e & 1) === 1 ? 'rw' : 'r'
  }

  // ---------------------------------------------------------------- hit path
  //
  // Every accessor is its own method with one typed-array view, so a call site sees one shape and one
  // load. The hit (an aligned element of a mapped page in the first 2^20 pages of the VMA) is two integer
  // tests, one page-table load and the element load. Everything else (a miss, an unaligned element, one
  // straddling two pages, an offset past the near page table, a bad offset, a big-endian host) calls
  // #miss, the whole access out of line.

  /** Arena address of `size` bytes at `off` for reading, faulting if needed; -1: they are in #straddle. */
  #r(off: number, size: number): number {
    // (1) of the fault walk (fileh.ts has the rest): validate, VMA page index i -> file page pgoffset + i
    this.#checkAccess(off, size)
    const ps = this.#ps
    const i = Math.floor(off / ps)
    const inpage = off - i * ps
    if (inpage + size <= ps) {
      if (!(this._pt.get(i) >= 0)) this.fileh._faultSync(this, this.pgoffset + i, false)
      return (this._pt.get(i) >> 1) * ps + inpage
    }
    // Straddling two pages: through a fresh buffer, which a callback run by a fault cannot overwrite.
    this.#straddleBytes.set(this.readBytes(off, new Uint8Array(size)))
    return -1
  }

  /** Arena address for writing; -1: write into #straddle, then call #wstraddle. */
  #w(off: number, size: number): number {
    // (1) of the fault walk, for a write
    this.#checkAccess(off, size)
    const ps = this.#ps
    const i = Math.floor(off / ps)
    const inpage = off - i * ps
    if (inpage + size <= ps) {
      if ((this._pt.get(i) & 0x80000001) !== 1) this.fileh._faultSync(this, this.pgoffset + i, true)
      return (this._pt.get(i) >> 1) * ps + inpage
    }
    return -1
  }

  #wstraddle(off: number, size: number): void {
    this.writeBytes(off, this.#straddleBytes.slice(0, size))
  }

  #checkAccess(off: number, size: number): void {
    if (this.#unmapped) throw new ClosedError('VMA is unmapped')
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new OutOfRangeError(`length must be a non-negative integer, got ${size}`)
    }
    if (!Number.isSafeInteger(off) || off < 0 || off + size > this.byteLength) {
      throw new OutOfRangeError(
        `access of ${size} byte(s) at ${off} is outside the VMA's ${this.byteLength} bytes`,
      )
    }
  }

  /** Reads the byte at byte offset `off` as Uint8, faulting synchronously (OutOfRangeError outside the VMA, WouldBlockError when its load would be asynchronous). */
  getUint8(off: number): number {
    if (off >>> 0 === off) {
      const s = this.#near[off >>> this.#shift]
      if (s < 0) return this.#u8[(~s >> 1) * this.#ps + (off & this.#mask)]
    }
    return +(this.#miss(0, off, undefined) as number)
  }
  /** Writes `v` as Uint8 at byte offset `off`, faulting synchronously for write (the page becomes dirty; errors as for the reads, and ReadOnlyError on a read-only FileH). */
  setUint8(off: number, v: number): void {
    if (off >>> 0 === off) {
      const s = this.#near[off >>> this.#shift]
      if ((s & 0x80000001) === -0x80000000) {
        this.#u8[(~s >> 1) * this.#ps + (off & this.#mask)] = v
        return
      }
    }
    this.#miss(WRITE | 0, off, v)
  }

  /** Reads the byte at byte offset `off` as Int8, faulting synchronously (OutOfRangeError outside the VMA, WouldBlockError when its load would be asynchronous). */
  getInt8(off: number): number {
    if (off >>> 0 === off) {
      const s = this.#near[off >>> this.#shift]
      if (s < 0) return this.#i8[(~s >> 1) * this.#ps + (off & this.#mask)]
    }
    return +(this.#miss(1, off, undefined) as number)
  }
  /** Writes `v` as Int8 at byte offset `off`, faulting synchronously for write (the page becomes dirty; errors as for the reads, and ReadOnlyError on a read-only FileH). */
  setInt8(off: number, v: number): void {
    if (off >>> 0 === off) {
      const s = this.#near[off >>> this.#shift]
      if ((s & 0x80000001) === -0x80000000) {
        this.#i8[(~s >> 1) * this.#ps + (off & this.#mask)] = v
        return
      }
    }
    this.#miss(WRITE | 1, off, v)
  }

  /** Reads the little-endian 2-byte value at byte offset `off` as Uint16, faulting synchronously (OutOfRangeError outside the VMA, WouldBlockError when its load would be asynchronous). */
  getUint16(off: number): number {
    if (off >>> 0 === off && (off & 1) === 0) {
      const s = this.#near[off >>> this.#shift]
      if (s < 0) return this.#u16[(~s >> 1) * this.#pe2 + ((off & this.#mask) >>> 1)]
    }
    return +(this.#miss(2, off, undefined) as number)
  }
  /** Writes `v` as Uint16 at byte offset `off` (little-endian), faulting synchronously for write (the page becomes dirty; errors as for the reads, and ReadOnlyError on a read-only FileH). */
  setUint16(off: number, v: number): void {
    if (off >>> 0 === off && (off & 1) === 0) {
      const s = this.#near[off >>> this.#shift]
      if ((s & 0x80000001) === -0x80000000) {
        this.#u16[(~s >> 1) * this.#pe2 + ((off & this.#mask) >>> 1)] = v
        return
      }
    }
    this.#miss(WRITE | 2, off, v)
  }

  /** Reads the little-endian 2-byte value at byte offset `off` as Int16, faulting synchronously (OutOfRangeError outside the VMA, WouldBlockError when its load would be asynchronous). */
  getInt16(off: number): number {
    if (off >>> 0 === off && (off & 1) === 0) {
      const s = this.#near[off >>> this.#shift]
      if (s < 0) return this.#i16[(~s >> 1) * this.#pe2 + ((off & this.#mask) >>> 1)]
    }
    return +(this.#miss(3, off, undefined) as number)
  }
  /** Writes `v` as Int16 at byte offset `off` (little-endian), faulting synchronously for write (the page becomes dirty; errors as for the reads, and ReadOnlyError on a read-only FileH). */
  setInt16(off: number, v: number): void {
    if (off >>> 0 === off && (off & 1) === 0) {
      const s = this.#near[off >>> this.#shift]
      if ((s & 0x80000001) === -0x80000000) {
        this.#i16[(~s >> 1) * this.#pe2 + ((off & this.#mask) >>> 1)] = v
        return
      }
    }
    this.#miss(WRITE | 3, off, v)
  }

  /** Reads the little-endian 4-byte value at byte offset `off` as Uint32, faulting synchronously (OutOfRangeError outside the VMA, WouldBlockError when its load would be asynchronous). */
  getUint32(off: number): number {
    if (off >>> 0 === off && (off & 3) === 0) {
      const s = this.#near[off >>> this.#shift]
      if (s < 0) return this.#u32[(~s >> 1) * this.#pe4 + ((off & this.#mask) >>> 2)]
    }
    return +(this.#miss(4, off, undefined) as number)
  }
  /** Writes `v` as Uint32 at byte offset `off` (little-endian), faulting synchronously for write (the page becomes dirty; errors as for the reads, and ReadOnlyError on a read-only FileH). */
  setUint32(off: number, v: number): void {
    if (off >>> 0 === off && (off & 3) === 0) {
      const s = this.#near[off >>> this.#shift]
      if ((s & 0x80000001) === -0x80000000) {
        this.#u32[(~s >> 1) * this.#pe4 + ((off & this.#mask) >>> 2)] = v
        return
      }
    }
    this.#miss(WRITE | 4, off, v)
  }

  /** Reads the little-endian 4-byte value at byte offset `off` as Int32, faulting synchronously (OutOfRangeError outside the VMA, WouldBlockError when its load would be asynchronous). */
  getInt32(off: number): number {
    if (off >>> 0 === off && (off & 3) === 0) {
      const s = this.#near[off >>> this.#shift]
      if (s < 0) return this.#i32[(~s >> 1) * this.#pe4 + ((off & this.#mask) >>> 2)]
    }
    return +(this.#miss(5, off, undefined) as number)
  }
  /** Writes `v` as Int32 at byte offset `off` (little-endian), faulting synchronously for write (the page becomes dirty; errors as for the reads, and ReadOnlyError on a read-only FileH). */
  setInt32(off: number, v: number): void {
    if (off >>> 0 === off && (off & 3) === 0) {
      const s = this.#near[off >>> this.#shift]
      if ((s & 0x80000001) === -0x80000000) {
        this.#i32[(~s >> 1) * this.#pe4 + ((off & this.#mask) >>> 2)] = v
        return
      }
    }
    this.#miss(WRITE | 5, off, v)
  }

  /** Reads the little-endian 4-byte value at byte offset `off` as Float32, faulting synchronously (OutOfRangeError outside the VMA, WouldBlockError when its load would be asynchronous). */
  getFloat32(off: number): number {
    if (off >>> 0 === off && (off & 3) === 0) {
      const s = this.#near[off >>> this.#shift]
      if (s < 0) return this.#f32[(~s >> 1) * this.#pe4 + ((off & this.#mask) >>> 2)]
    }
    return +(this.#miss(6, off, undefined) as number)
  }
  /** Writes `v` as Float32 at byte offset `off` (little-endian), faulting synchronously for write (the page becomes dirty; errors as for the reads, and ReadOnlyError on a read-only FileH). */
  setFloat32(off: number, v: number): void {
    if (off >>> 0 === off && (off & 3) === 0) {
      const s = this.#near[off >>> this.#shift]
      if ((s & 0x80000001) === -0x80000000) {
        this.#f32[(~s >> 1) * this.#pe4 + ((off & this.#mask) >>> 2)] = v
        return
      }
    }
    this.#miss(WRITE | 6, off, v)
  }

  /** Reads the little-endian 8-byte value at byte offset `off` as Float64, faulting synchronously (OutOfRangeError outside the VMA, WouldBlockError when its load would be asynchronous). */
  getFloat64(off: number): number {
    if (off >>> 0 === off && (off & 7) === 0) {
      const s = this.#near[off >>> this.#shift]
      if (s < 0) return this.#f64[(~s >> 1) * this.#pe8 + ((off & this.#mask) >>> 3)]
    }
    return +(this.#miss(7, off, undefined) as number)
  }
  /** Writes `v` as Float64 at byte offset `off` (little-endian), faulting synchronously for write (the page becomes dirty; errors as for the reads, and ReadOnlyError on a read-only FileH). */
  setFloat64(off: number, v: number): void {
    if (off >>> 0 === off && (off & 7) === 0) {
      const s = this.#near[off >>> this.#shift]
      if ((s & 0x80000001) === -0x80000000) {
        this.#f64[(~s >> 1) * this.#pe8 + ((off & this.#mask) >>> 3)] = v
        return
      }
    }
    this.#miss(WRITE | 7, off, v)
  }

  /** Reads the little-endian 8-byte value at byte offset `off` as BigInt64, faulting synchronously (OutOfRangeError outside the VMA, WouldBlockError when its load would be asynchronous). */
  getBigInt64(off: number): bigint {
    if (off >>> 0 === off && (off & 7) === 0) {
      const s = this.#near[off >>> this.#shift]
      if (s < 0) return this.#i64[(~s >> 1) * this.#pe8 + ((off & this.#mask) >>> 3)]
    }
    return this.#miss(8, off, undefined) as bigint
  }
  /** Writes `v` as BigInt64 at byte offset `off` (little-endian), faulting synchronously for write (the page becomes dirty; errors as for the reads, and ReadOnlyError on a read-only FileH). */
  setBigInt64(off: number, v: bigint): void {
    if (off >>> 0 === off && (off & 7) === 0) {
      const s = this.#near[off >>> this.#shift]
      if ((s & 0x80000001) === -0x80000000) {
        this.#i64[(~s >> 1) * this.#pe8 + ((off & this.#mask) >>> 3)] = v
        return
      }
    }
    this.#miss(WRITE | 8, off, v)
  }

  /** Reads the little-endian 8-byte value at byte offset `off` as BigUint64, faulting synchronously (OutOfRangeError outside the VMA, WouldBlockError when its load would be asynchronous). */
  getBigUint64(off: number): bigint {
    if (off >>> 0 === off && (off & 7) === 0) {
      const s = this.#near[off >>> this.#shift]
      if (s < 0) return this.#u64[(~s >> 1) * this.#pe8 + ((off & this.#mask) >>> 3)]
    }
    return this.#miss(9, off, undefined) as bigint
  }
  /** Writes `v` as BigUint64 at byte offset `off` (little-endian), faulting synchronously for write (the page becomes dirty; errors as for the reads, and ReadOnlyError on a read-only FileH). */
  setBigUint64(off: number, v: bigint): void {
    if (off >>> 0 === off && (off & 7) === 0) {
      const s = this.#near[off >>> this.#shift]
      if ((s & 0x80000001) === -0x80000000) {
        this.#u64[(~s >> 1) * this.#pe8 + ((off & this.#mask) >>> 3)] = v
        return
      }
    }
    this.#miss(WRITE | 9, off, v)
  }

  /**
   * The rest of every accessor, out of line: a fault, an unaligned element, one straddling two pages, an
   * offset past the near page table, a bad offset, a big-endian host. `op` is the accessor's index in
   * SIZES, with WRITE set for a write of `v`. One function for all of them keeps each hit
   * path small, and is too big for V8 to inline into them (its bytecode is over the inlining limit: keep
   * it so, or a loop that faults often gets the whole miss path inlined and its hit path slowed). The
   * number accessors take its result with a unary +, so that the optimized hit path keeps the value
   * unboxed (a float64) instead of merging it with a tagged one and allocating a heap number.
   */
  #miss(op: number, off: number, v: unknown): number | bigint | undefined {
    const kind = op & ~WRITE
    const size = SIZES[kind]
    if (op === kind) {
      const a = this.#r(off, size)
      const dv = a >= 0 ? this.#dv : this.#straddle
      const at = Math.max(a, 0)
      switch (kind) {
        case 0:
          return dv.getUint8(at)
        case 1:
          return dv.getInt8(at)
        case 2:
          return dv.getUint16(at, true)
        case 3:
          return dv.getInt16(at, true)
        case 4:
          return dv.getUint32(at, true)
        case 5:
          return dv.getInt32(at, true)
        case 6:
          return dv.getFloat32(at, true)
        case 7:
          return dv.getFloat64(at, true)
        case 8:
          return dv.getBigInt64(at, true)
        case 9:
          return dv.getBigUint64(at, true)
      }
      throw new InvalidArgumentError(`no accessor ${kind}`)
    }
    const a = this.#w(off, size)
    const dv = a >= 0 ? this.#dv : this.#straddle
    const at = Math.max(a, 0)
    switch (kind) {
      case 0:
        dv.setUint8(at, v as number)
        break
      case 1:
        dv.setInt8(at, v as number)
        break
      case 2:
        dv.setUint16(at, v as number, true)
        break
      case 3:
        dv.setInt16(at, v as number, true)
        break
      case 4:
        dv.setUint32(at, v as number, true)
        break
      case 5:
        dv.setInt32(at, v as number, true)
        break
      case 6:
        dv.setFloat32(at, v as number, true)
        break
      case 7:
        dv.setFloat64(at, v as number, true)
        break
      case 8:
        dv.setBigInt64(at, v as bigint, true)
        break
      case 9:
        dv.setBigUint64(at, v as bigint, true)
        break
    }
    if (a < 0) this.#wstraddle(off, size)
    return undefined
  }

  // ---------------------------------------------------------------- bulk, synchronous

  /** Copies `dst.length` bytes at `off` into `dst` (faulting synchronously) and returns it. */
  readBytes(off: number, dst: Uint8Array): Uint8Array {
    checkBytes(dst)
    this.#checkAccess(off, dst.length)
    this.#eachPiece(off, dst.length, (i, src, at, n) => {
      if (!(this._pt.get(i) >= 0)) this.fileh._faultSync(this, this.pgoffset + i, false)
      const base = (this._pt.get(i) >> 1) * this.#ps
      dst.set(this.#bytes.subarray(base + src, base + src + n), at)
    })
    return dst
  }

  /**
   * Copies `src` to `off` (faulting synchronously for write: the pages become dirty). All or nothing:
   * every page of the range is made resident and pinned before the first byte is written, so a failure
   * (OutOfMemoryError, WouldBlockError, LoadError) leaves memory and the dirty set unchanged. The range
   * must therefore fit in the RAM at once; split larger copies.
   */
  writeBytes(off: number, src: Uint8Array): void {
    checkBytes(src)
    this.#checkAccess(off, src.length)
    if (src.length === 0) return
    for (let tries = 0; ; tries++) {
      using pin = this.pin(off, src.length)
      // A synchronous loadblk may have invalidated a page pinned earlier: pin again, within a bound.
      if (pin._intact()) {
        this.#copyIn(off, src)
        return
      }
      if (tries >= this.fileh.maxRetries)
        throw new FaultRetryError(this.pgoffset + Math.floor(off / this.#ps), tries)
    }
  }

  /**
   * Copies into pages that are resident and pinned by the caller. Every page is write-faulted before the
   * first byte moves (a resident page's write fault never allocates, but a strict volatile page refuses).
   */
  #copyIn(off: number, src: Uint8Array): void {
    this.#eachPiece(off, src.length, (i) => {
      if ((this._pt.get(i) & 0x80000001) !== 1) this.fileh._faultSync(this, this.pgoffset + i, true)
    })
    this.#eachPiece(off, src.length, (i, dst, at, n) => {
      this.#bytes.set(src.subarray(at, at + n), (this._pt.get(i) >> 1) * this.#ps + dst)
    })
  }

  /** Splits [off, off+len) into per-page pieces: (page index in VMA, offset in page, offset in range, length). */
  #eachPiece(off: number, len: number, fn: (i: number, inpage: number, at: number, n: number) => void): void {
    const ps = this.#ps
    for (let at = 0; at < len; ) {
      const pos = off + at
      const i = Math.floor(pos / ps)
      const inpage = pos - i * ps
      const n = Math.min(ps - inpage, len - at)
      fn(i, inpage, at, n)
      at += n
    }
  }

  // ---------------------------------------------------------------- awaitable
  //
  // The rule of every awaitable path: no frame address survives an await. An address is computed from the
  // page table in the same synchronous step that uses it, or from a page the caller holds pinned (the fault
  // hands pages back pinned: FileH._faultPin); after an await, the page table is read anew.

  /**
   * Faults in every page of [off, off+length), loads running in parallel, waiting for frames when none is
   * free. Settles synchronously (returns undefined) when nothing had to be awaited. With less RAM than the
   * range, earlier pages may already be reclaimed when it resolves: it is a prefetch, `read`/`write`/
   * `pinAsync` are the safe forms.
   */
  fault(off: number, length: number, options: FaultOptions = {}): Awaitable<void> {
    this.#checkAccess(off, length)
    const write = options.write ?? false
    const waits: Promise<unknown>[] = []
    const ps = this.#ps
    const first = Math.floor(off / ps)
    const last = length === 0 ? first - 1 : Math.floor((off + length - 1) / ps)
    try {
      for (let i = first; i <= last; i++) {
        if (this.#has(i, write)) continue
        const r = this.fileh._fault(this, this.pgoffset + i, write, options.signal)
        if (isPromise(r)) waits.push(r)
      }
    } catch (e) {
      // The caller gets this error; loads already started must not end as unhandled rejections.
      for (const w of waits) w.catch(() => {})
      throw e
    }
    if (waits.length > 0) return Promise.all(waits).then(() => {})
  }

  /** Reads `length` bytes at `off`, awaiting loads and frames as needed. */
  async read(off: number, length: number, options: ReadOptions = {}): Promise<Uint8Array> {
    this.#checkAccess(off, length)
    const out = new Uint8Array(length)
    const ps = this.#ps
    for (let at = 0; at < length; ) {
      const pos = off + at
      const i = Math.floor(pos / ps)
      const inpage = pos - i * ps
      const n = Math.min(ps - inpage, length - at)
      if (this._pt.get(i) >= 0) {
        // Mapped now: copy in this same step.
        const base = (this._pt.get(i) >> 1) * ps + inpage
        out.set(this.#bytes.subarray(base, base + n), at)
      } else {
        await this.#readPinned(i, inpage, out.subarray(at, at + n), options.signal)
      }
      at += n
    }
    return out
  }

  /** Copies from VMA page `i` through a pin the fault hands back: the frame cannot be reused meanwhile. */
  async #readPinned(
    i: number,
    inpage: number,
    dst: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const fileh = this.fileh
    for (let tries = 0; ; tries++) {
      const r = fileh._faultPin(this, this.pgoffset + i, false, { signal })
      const page = isPromise(r) ? await r : r
      try {
        // Invalidated (detached) after its load: the bytes may predate the change; fault again.
        if (!page.detached) {
          const base = page.frame * this.#ps + inpage
          dst.set(this.#bytes.subarray(base, base + dst.length))
          return
        }
      } finally {
        fileh._unpin(page)
      }
      if (tries >= fileh.maxRetries) throw new FaultRetryError(this.pgoffset + i, tries + 1)
    }
  }

  /** Writes `data` at `off`, awaiting loads and frames as needed; the pages become dirty. All or nothing, as writeBytes. */
  async write(off: number, data: Uint8Array, options: ReadOptions = {}): Promise<void> {
    checkBytes(data)
    this.#checkAccess(off, data.length)
    if (data.length === 0) return
    for (let tries = 0; ; tries++) {
      // A read pin: the pages become dirty only in #copyIn, all at once, so a failure dirties nothing.
      using pin = await this.pinAsync(off, data.length, { signal: options.signal })
      // A page may have been invalidated between the pin and this continuation: pin again, within a bound.
      if (pin._intact()) {
        this.#copyIn(off, data)
        return
      }
      if (tries >= this.fileh.maxRetries)
        throw new FaultRetryError(this.pgoffset + Math.floor(off / this.#ps), tries)
    }
  }

  /**
   * @internal Pins VMA pages [first, last] for `pinAsync`: a page mapped now is pinned in the same step
   * that checks it; any other is faulted and handed back pinned. The pages pinned so far stay pinned while
   * a later one waits for a frame; once the walk has waited it keeps its place at the head of the queue,
   * and pinners that would wait on one another for ever end in ENOMEM (RAM._noFrame). A page invalidated
   * during the walk makes it start over, within maxRetries.
   */
  async _pinRange(first: number, last: number, write: boolean, signal?: AbortSignal): Promise<Page[]> {
    const fileh = this.fileh
    const count = last - first + 1
    if (count > fileh.ram.frames) {
      throw new OutOfMemoryError(
        `pinning ${count} pages needs more frames than the RAM has (${fileh.ram.frames}); pin a smaller range`,
      )
    }
    const opts: FaultWaitOptions = { signal, held: [] }
    for (let tries = 0; ; ) {
      const pages: Page[] = []
      opts.held = pages
      try {
        for (let i = first; i <= last; i++) {
          if (this.#has(i, write)) {
            const page = fileh._page(this.pgoffset + i) as Page
            fileh._pin(page, write)
            pages.push(page)
            continue
          }
          opts.priority = opts.waited ?? false
          const r = fileh._faultPin(this, this.pgoffset + i, write, opts)
          pages.push(isPromise(r) ? await r : r)
        }
      } catch (e) {
        for (const p of pages) fileh._unpin(p, write)
        throw e
      }
      if (pages.every((p) => !p.detached && fileh._page(p.pgoffset) === p)) return pages
      for (const p of pages) fileh._unpin(p, write)
      if (++tries > fileh.maxRetries) throw new FaultRetryError(this.pgoffset + first, tries - 1)
    }
  }

  #has(i: number, write: boolean): boolean {
    const e = this._pt.get(i)
    return write ? (e & 0x80000001) === 1 : e >= 0
  }

  // ---------------------------------------------------------------- pinned views

  /**
   * Pins the pages of [off, off+length) and returns a handle giving zero-copy views of them. Faults
   * synchronously. A pinned page is never reclaimed; release the pin (or `using` it) promptly.
   */
  pin(off: number, length: number, options: PinOptions = {}): Pin {
    this.#checkAccess(off, length)
    return Pin._make(this, off, length, options.write ?? false, (i, write, held) => {
      if (!this.#has(i, write)) this.fileh._faultSync(this, this.pgoffset + i, write, held)
    })
  }

  /**
   * `pin` for storages that load asynchronously, and for waiting for frames: resolves once every page of
   * the range is resident and pinned at the same time (OutOfMemoryError when the range alone needs more
   * frames than the RAM has, or waiting can never free one).
   */
  pinAsync(off: number, length: number, options: PinOptions = {}): Promise<Pin> {
    this.#checkAccess(off, length)
    return Pin._makeAsync(this, off, length, options.write ?? false, options.signal)
  }

  /** Pins, calls `fn` with the pin, releases it (also when `fn` throws or rejects), and returns fn's result. */
  async withPinned<T>(
    off: number,
    length: number,
    fn: (pin: Pin) => T | Promise<T>,
    options: PinOptions = {},
  ): Promise<T> {
    const pin = await this.pinAsync(off, length, options)
    try {
      return await fn(pin)
    } finally {
      pin.release()
    }
  }
}

function checkBytes(b: unknown): void {
  if (!(b instanceof Uint8Array))
    throw new InvalidArgumentError(`expected a Uint8Array, got ${b === null ? 'null' : typeof b}`)
}
