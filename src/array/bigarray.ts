// BigArray: an n-dimensional array of one dtype over a FileH, read and written through a VMA. Views
// (at) share that VMA; database arrays resize and append transactionally through their DbFile.
import type { Connection } from '../db/connection.ts'
import type { DbFile } from '../db/file.ts'
import {
  CorruptError,
  ExistsError,
  FaultRetryError,
  InvalidArgumentError,
  NotFoundError,
  WouldBlockError,
} from '../errors.ts'
import { isPromise } from '../util/awaitable.ts'
import type { FileH } from '../virtmem/fileh.ts'
import { walk } from './chunks.ts'
import * as copy from './copy.ts'
import {
  type DType,
  type DTypeInfo,
  dtypeInfo,
  type Element,
  type ElementOf,
  type ReadElement,
  type TypedArrayOf,
  type WriteElement,
} from './dtype.ts'
import {
  bytesOf,
  checkOrder,
  checkShape,
  contiguousStrides,
  growAxis,
  type Layout,
  normIndex,
  type Order,
  select,
  sizeOf,
} from './layout.ts'
import { type ArrayMeta, readArrayMeta } from './meta.ts'
import { flattenNested, isNested } from './nested.ts'
import { checkAbort, type Progress } from './progress.ts'
import * as reduce from './reduce.ts'
import { type Region, type RegionSource, readRegion, writeRegion } from './region.ts'
import { type MappedFile, SharedVMA } from './sharedvma.ts'
import type { Index } from './slice.ts'

/** How `BigArray.create` lays out a new database array. */
export interface CreateArrayOptions<D extends DType = DType> {
  /** The element type. */
  dtype: D
  /** Length of each axis; `[]` is a 0-d array of one element. */
  shape: readonly number[]
  /** Memory order of the elements: 'C' (row-major, the default) or 'F' (column-major). */
  order?: Order
  /** Block size of the file in bytes. Default: the connection RAM's pagesize. */
  blksize?: number
  /**
   * Replace an existing file of that name in this transaction (its old content reads as zeros, then is
   * dropped by the commit) instead of failing with ExistsError. Default false.
   */
  overwrite?: boolean
}

/** How `BigArray.open` opens a database array. */
export interface OpenArrayOptions<D extends DType = DType> {
  /** Expect this dtype: InvalidArgumentError if the array holds another, and a `BigArray<D>` type. */
  dtype?: D
  /** Gives up with AbortError (code EABORT) once aborted. */
  signal?: AbortSignal
}

/** Where `BigArray.over` finds its elements in a FileH. */
export interface OverOptions<D extends DType = DType> {
  /** The element type. */
  dtype: D
  /** Length of each axis. */
  shape: readonly number[]
  /** Memory order: 'C' (default) or 'F'. */
  order?: Order
  /** Byte offset of element 0 in the file; a multiple of the itemsize. Default 0. */
  offset?: number
}

/** Options of `chunks()` and `forEachChunk()`: progress, abort, and whether the chunks are written. */
export interface ChunkOptions extends Progress {
  /** Dirty the pages: writes through `data` are kept. */
  write?: boolean
}

/** One chunk of `chunks()`: a zero-copy typed array and the flat C-order index of its first element. */
export interface ArrayChunk<D extends DType = DType> {
  /** The elements, valid (their page pinned) only until the next step of the iteration. */
  data: TypedArrayOf<D>
  /** Flat C-order index (within the array or view) of `data[0]`. */
  start: number
}

/**
 * An n-dimensional array of one dtype, mapped through the VM: elements are read and written in place
 * in the pages of a FileH, within the RAM budget. Made by `BigArray.create`/`open` (database arrays,
 * transactional, resizable), `BigArray.over` (any FileH), `memmap`/`openNpy` (a raw or .npy file in
 * place); `at(...)` gives views that alias the same pages.
 *
 * `D` is the dtype: `BigArray<'float32'>` hands out `Float32Array` chunks and `number` elements, 64-bit
 * integer dtypes `bigint` elements. `BigArray` alone (any dtype) narrows with `a.is('float32')`.
 */
export class BigArray<D extends DType = DType> {
  readonly #info: DTypeInfo
  readonly #shared: SharedVMA
  readonly #order: Order
  /** The DbFile when this is a database array itself (not a view): it may resize. */
  readonly #db: DbFile | undefined
  /** The file's record epoch (a constant box for arrays over plain FileHs) and the value our shape is of. */
  readonly #epochBox: { readonly v: number }
  #epoch = 0
  /** The dtype's element accessors on the VMA, kept here so the hit path makes no lookup. */
  readonly #readElement: ReadElement
  readonly #writeElement: WriteElement
  #l: Layout
  #nd = 0
  /** shape[0] when 1-d, else -1: get1's one bound test also tests the dimension count. */
  #len1 = -1
  /** shape[0] when 2-d, else -1. */
  #len2 = -1
  #d0 = 0
  #s0 = 0
  #d1 = 0
  #s1 = 0
  #off = 0
  #size = 0
  #bytes = 0

  private constructor(shared: SharedVMA, info: DTypeInfo, l: Layout, order: Order, db: DbFile | undefined) {
    this.#shared = shared
    this.#info = info
    this.#order = order
    this.#db = db
    this.#epochBox = db?._epoch ?? NO_EPOCH
    this.#epoch = this.#epochBox.v
    this.#readElement = info.get
    this.#writeElement = info.set
    this.#l = l
    this.#setLayout(l)
  }

  // ---------------------------------------------------------------- construction

  /**
   * Creates file `name` in the connection's transaction with meta { bigarray: 1, dtype, shape, order }
   * (commit to persist); its elements read as zeros. ExistsError if it exists, unless `overwrite`.
   */
  static async create<D extends DType>(
    conn: Connection,
    name: string,
    options: CreateArrayOptions<D>,
  ): Promise<BigArray<D>> {
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('create needs { dtype, shape, order?, blksize?, overwrite? }')
    const info = dtypeInfo(options.dtype)
    const shape = checkShape(options.shape)
    const order = checkOrder(options.order)
    const overwrite = options.overwrite ?? false
    if (typeof overwrite !== 'boolean')
      throw new InvalidArgumentError(`overwrite must be a boolean, got ${String(overwrite)}`)
    const meta: ArrayMeta = { bigarray: 1, dtype: info.name, shape, order }
    const bytes = bytesOf(shape, info.itemsize)
    const blksize = options.blksize ?? conn.ram.pagesize
    const old = await openIfExists(conn, name)
    if (old && !overwrite) throw new ExistsError(`file ${JSON.stringify(name)} already exists`)
    if (old) {
      // Replaced in this transaction: shrinking to 0 drops every old block, growing reads zeros.
      if (old.blksize !== blksize)
        throw new InvalidArgumentError(
          `overwrite: ${JSON.stringify(name)} has blksize ${old.blksize}, not ${blksize}; delete it first`,
        )
      await old.resize(0)
      await old.resize(bytes)
      old.setMeta({ ...meta })
      return BigArray.#ofDb<D>(old, meta)
    }
    const fh = await conn.open(name, { create: { blksize, size: bytes, meta: { ...meta } } })
    return BigArray.#ofDb<D>(fh, meta)
  }

  /**
   * Opens an existing array file; NotFoundError if absent, CorruptError if its meta is not an array's,
   * InvalidArgumentError if `options.dtype` is given and differs.
   */
  static async open<D extends DType = DType>(
    conn: Connection,
    name: string,
    options: OpenArrayOptions<D> = {},
  ): Promise<BigArray<D>> {
    const signal = options?.signal
    checkAbort({ signal })
    const fh = await conn.open(name, signal ? { signal } : {})
    const meta = parseMeta(fh)
    if (options?.dtype !== undefined && meta.dtype !== options.dtype)
      throw new InvalidArgumentError(
        `array ${JSON.stringify(name)} holds ${meta.dtype}, not ${String(options.dtype)}`,
      )
    return BigArray.#ofDb<D>(fh, meta)
  }

  /** An array over any FileH from byte `offset`. Not persisted by itself; resize/append need a database array. */
  static over<D extends DType>(fileh: FileH, options: OverOptions<D>): BigArray<D> {
    if (options === null || typeof options !== 'object')
      throw new InvalidArgumentError('over needs { dtype, shape, order?, offset? }')
    const info = dtypeInfo(options.dtype)
    const shape = checkShape(options.shape)
    const order = checkOrder(options.order)
    const offset = options.offset ?? 0
    if (!Number.isSafeInteger(offset) || offset < 0 || offset % info.itemsize !== 0)
      throw new InvalidArgumentError(
        `offset must be a non-negative multiple of ${info.itemsize}, got ${offset}`,
      )
    return BigArray.#over<D>(fileh, info, shape, order, offset, undefined)
  }

  /** @internal An array over `fileh` whose window also owns `owner` (memmap: the raw file it commits and closes). */
  static _mapped<D extends DType>(
    fileh: FileH,
    options: { dtype: D; shape: readonly number[]; order?: Order },
    owner: MappedFile,
  ): BigArray<D> {
    const info = dtypeInfo(options.dtype)
    return BigArray.#over<D>(fileh, info, checkShape(options.shape), checkOrder(options.order), 0, owner)
  }

  static #over<D extends DType>(
    fileh: FileH,
    info: DTypeInfo,
    shape: number[],
    order: Order,
    offset: number,
    owner: MappedFile | undefined,
  ): BigArray<D> {
    const ps = fileh.pagesize
    const pg = Math.floor(offset / ps)
    const inpage = offset - pg * ps
    bytesOf(shape, info.itemsize, offset)
    const shared = new SharedVMA(fileh, pg, inpage + sizeOf(shape) * info.itemsize, owner)
    const l = { shape, strides: contiguousStrides(shape, info.itemsize, order), offset: inpage }
    return new BigArray<D>(shared, info, l, order, undefined)
  }

  static #ofDb<D extends DType>(fh: DbFile, meta: ArrayMeta): BigArray<D> {
    const info = dtypeInfo(meta.dtype)
    const bytes = sizeOf(meta.shape) * info.itemsize
    const shared = new SharedVMA(fh.fileh, 0, bytes)
    const l = {
      shape: meta.shape,
      strides: contiguousStrides(meta.shape, info.itemsize, meta.order),
      offset: 0,
    }
    return new BigArray<D>(shared, info, l, meta.order, fh)
  }

  // ---------------------------------------------------------------- properties

  /** The element type. */
  get dtype(): D {
    return this.#info.name as D
  }
  /** Bytes per element. */
  get itemsize(): number {
    return this.#info.itemsize
  }
  /** Length of each axis (a database array follows commits, aborts and syncs that resize it). */
  get shape(): readonly number[] {
    this.#refresh()
    return this.#l.shape
  }
  /** In bytes; negative for reversed views. */
  get strides(): readonly number[] {
    this.#refresh()
    return this.#l.strides
  }
  /** The order of the base array. */
  get order(): Order {
    return this.#order
  }
  /** Number of axes. */
  get ndim(): number {
    return this.#nd
  }
  /** Number of elements: the product of the shape. */
  get size(): number {
    this.#refresh()
    return this.#size
  }
  /** shape[0], 0 for a 0-d array. */
  get length(): number {
    this.#refresh()
    return this.#nd === 0 ? 0 : this.#d0
  }
  /** The FileH whose pages hold the elements. */
  get fileh(): FileH {
    return this.#shared.fileh
  }

  /** Type guard: whether the dtype is `dtype`, narrowing `BigArray` to `BigArray<typeof dtype>`. */
  is<E extends DType>(dtype: E): this is BigArray<E> {
    return this.#info.name === dtype
  }
  /** Whether this is a database array itself (resizable), not a view or an array over a plain FileH. */
  get resizable(): boolean {
    return this.#db !== undefined
  }

  /** @internal */
  get _layout(): Layout {
    this.#refresh()
    return this.#l
  }
  /** @internal */
  get _info(): DTypeInfo {
    return this.#info
  }
  /** @internal */
  get _shared(): SharedVMA {
    return this.#shared
  }

  // ---------------------------------------------------------------- elements

  /**
   * Element at `index` (negative indexes count from the end). Synchronous and allocation-free on a
   * resident page; WouldBlockError when the storage loads asynchronously and the page is not resident
   * (use getAsync), OutOfRangeError (ERANGE) for an index out of bounds.
   */
  get(...index: number[]): ElementOf<D> {
    const n = index.length
    const off = n === 1 ? this.#at1(index[0]) : n === 2 ? this.#at2(index[0], index[1]) : this.#at(index, n)
    return this.#readElement(this.#shared.vma, off) as ElementOf<D>
  }

  /**
   * set(i, j, ..., value): like get, for writing (the page becomes dirty). A number is stored in a 64-bit
   * integer array when it is an integer, a bigint in any array; anything else is InvalidArgumentError.
   */
  set(...indexThenValue: [...number[], Element]): void {
    const a = indexThenValue as number[]
    const n = a.length - 1
    const off = n === 1 ? this.#at1(a[0]) : n === 2 ? this.#at2(a[0], a[1]) : this.#at(a, n)
    this.#writeElement(this.#shared.vma, off, n === 1 ? a[1] : n === 2 ? a[2] : a[n])
  }

  // The element hit path: the index tests of #at1/#at2 (an in-bounds integer index of an array of that
  // many dimensions, whose shape is current), then one element accessor of the dtype, chosen when the
  // array is made. get/set read one or two indexes out of their rest array by constant position, so that
  // once inlined the array itself is never made; more indexes, and anything the tests refuse, take #at.

  /** get for a 1-d array, without the rest-argument array. */
  get1(i: number): ElementOf<D> {
    return this.#readElement(this.#shared.vma, this.#at1(i)) as ElementOf<D>
  }

  /** set for a 1-d array, without the rest-argument array. */
  set1(i: number, v: Element): void {
    this.#writeElement(this.#shared.vma, this.#at1(i), v)
  }

  /** get for a 2-d array, without the rest-argument array. */
  get2(i: number, j: number): ElementOf<D> {
    return this.#readElement(this.#shared.vma, this.#at2(i, j)) as ElementOf<D>
  }

  /** set for a 2-d array, without the rest-argument array. */
  set2(i: number, j: number, v: Element): void {
    this.#writeElement(this.#shared.vma, this.#at2(i, j), v)
  }

  /** get for storages that load asynchronously: awaits the page's load. */
  async getAsync(...index: number[]): Promise<ElementOf<D>> {
    const off = this.#at(index)
    return this.#retry(off, false, () => this.#readElement(this.#shared.vma, off) as ElementOf<D>)
  }

  /** set for storages that load asynchronously: awaits the page's load. */
  async setAsync(...indexThenValue: [...number[], Element]): Promise<void> {
    const n = indexThenValue.length - 1
    const off = this.#at(indexThenValue as number[], n)
    const v = indexThenValue[n]
    await this.#retry(off, true, () => this.#writeElement(this.#shared.vma, off, v))
  }

  async #retry<T>(off: number, write: boolean, fn: () => T): Promise<T> {
    for (let tries = 0; ; tries++) {
      try {
        return fn()
      } catch (e) {
        if (!(e instanceof WouldBlockError)) throw e
        if (tries >= this.fileh.maxRetries) throw new FaultRetryError(e.pgoffset, tries)
      }
      const r = this.#shared.vma.fault(off, this.#info.itemsize, { write })
      if (isPromise(r)) await r
    }
  }

  /** Byte offset of element i of a 1-d array. #len1 is -1 unless 1-d, so one test covers the dimensions. */
  #at1(i: number): number {
    if (i >>> 0 === i && i < this.#len1 && this.#epochBox.v === this.#epoch) return this.#off + i * this.#s0
    return this.#at([i], 1)
  }

  /** Byte offset of element (i, j) of a 2-d array. */
  #at2(i: number, j: number): number {
    if (i >>> 0 === i && i < this.#len2 && j >>> 0 === j && j < this.#d1 && this.#epochBox.v === this.#epoch)
      return this.#off + i * this.#s0 + j * this.#s1
    return this.#at([i, j], 2)
  }

  /**
   * Byte offset of the element at the first `n` of `index`, checked: the shape brought up to date,
   * InvalidArgumentError for a wrong count or a fractional index, OutOfRangeError out of bounds.
   */
  #at(index: readonly number[], n: number = index.length): number {
    this.#refresh()
    const l = this.#l
    if (n !== l.shape.length)
      throw new InvalidArgumentError(`${n} index(es) for an array of ${l.shape.length} dimension(s)`)
    let off = l.offset
    for (let k = 0; k < n; k++) off += normIndex(index[k], l.shape[k], k) * l.strides[k]
    return off
  }

  // ---------------------------------------------------------------- views

  /**
   * Basic indexing → a view of the same storage: an integer drops an axis, a Slice keeps it, newaxis
   * adds a length-1 axis; missing trailing indexes are `all`. OutOfRangeError for an integer out of
   * bounds; a slice out of bounds is empty.
   */
  at(...sel: Index[]): BigArray<D> {
    return new BigArray<D>(this.#shared, this.#info, select(this._layout, sel), this.#order, undefined)
  }

  /**
   * The elements of this array (or view) copied into a new typed array in C order, zarrita-style:
   * `{ data, shape, stride }` with `stride` in elements. OutOfRangeError when they cannot fit in one
   * typed array. Progress counts bytes.
   */
  read(progress?: Progress): Promise<Region<D>> {
    return readRegion(this, progress) as Promise<Region<D>>
  }

  /**
   * Writes `src` over the elements of this array (or view): a region `{ data, shape, stride? }` (what
   * `read()` returns; `stride` in elements, default C order) whose shape equals this shape, a nested
   * list of this shape, a flat C-order ArrayLike of `size` elements, a BigArray of this shape, or one
   * value for every element. InvalidArgumentError on a shape mismatch. Progress counts bytes.
   */
  write(src: RegionSource, progress?: Progress): Promise<void> {
    return writeRegion(this, src, progress)
  }

  // ---------------------------------------------------------------- shape changes

  /**
   * O(1): the new shape may differ only on the growable axis (the first for C order, the last for F).
   * Growth reads zeros, shrinking drops data; views keep their shape. Committed with the transaction;
   * a concurrent change of the array's metadata makes one of the commits fail with ConflictError.
   */
  async resize(shape: readonly number[]): Promise<void> {
    const db = this.#resizable()
    const next = checkShape(shape)
    const cur = this.#l.shape
    const ax = growAxis(cur.length, this.#order)
    if (next.length !== cur.length || next.some((d, k) => k !== ax && d !== cur[k]))
      throw new InvalidArgumentError(
        `resize ${JSON.stringify(cur)} → ${JSON.stringify(next)}: only axis ${ax} may change (${this.#order} order)`,
      )
    await this.#resizeTo(db, next)
  }

  async #resizeTo(db: DbFile, shape: number[]): Promise<void> {
    const old = this.#l.shape
    const bytes = bytesOf(shape, this.#info.itemsize)
    await db.resize(bytes)
    try {
      db.setMeta({ ...db.meta, shape })
    } catch (e) {
      await db.resize(sizeOf(old) * this.#info.itemsize)
      throw e
    }
    this.#shared.ensure(bytes)
    this.#setLayout({ shape, strides: this.#l.strides, offset: 0 })
  }

  /**
   * Appends along the growable axis in O(δ). `values` is a BigArray whose shape equals this one's except
   * on that axis; a nested list as NumPy reads one (`[[1, 2], [3, 4]]`: rows of this shape, or one row
   * without the growable axis); or a flat ArrayLike in C order holding whole rows. A ragged list or a
   * value that is not a number (an integral one or a bigint for 64-bit dtypes) is InvalidArgumentError.
   * On any error (a bad value, an abort, ENOMEM) the array goes back to its old shape. Progress counts bytes.
   */
  async append(
    values: ArrayLike<Element> | readonly unknown[] | BigArray,
    progress?: Progress,
  ): Promise<void> {
    const db = this.#resizable()
    // Appending an array to itself copies what it held before the append.
    if (values === this) values = this.at()
    const cur = [...this.#l.shape]
    const ax = growAxis(cur.length, this.#order)
    if (cur.length === 0) throw new InvalidArgumentError('cannot append to a 0-d array')
    let k: number
    if (isNested(values)) {
      const n = flattenNested(values)
      const shape = n.shape.length === cur.length - 1 ? n.shape.toSpliced(ax, 0, 1) : n.shape
      if (shape.length !== cur.length || shape.some((d, i) => i !== ax && d !== cur[i]))
        throw new InvalidArgumentError(
          `append: a nested list of shape ${JSON.stringify(n.shape)} is neither rows of ${JSON.stringify(cur)} off axis ${ax} nor one such row`,
        )
      k = shape[ax]
      values = n.data
    } else if (values instanceof BigArray) {
      const vs = values.shape
      if (vs.length !== cur.length || vs.some((d, i) => i !== ax && d !== cur[i]))
        throw new InvalidArgumentError(
          `append: shape ${JSON.stringify(vs)} does not match ${JSON.stringify(cur)} off axis ${ax}`,
        )
      k = vs[ax]
    } else {
      if (values === null || typeof values !== 'object' || typeof values.length !== 'number')
        throw new InvalidArgumentError('append needs an array-like or a BigArray')
      const row = sizeOf(cur) / (cur[ax] || 1) || sizeOf(cur.filter((_, i) => i !== ax))
      if (row === 0 ? values.length !== 0 : values.length % row !== 0)
        throw new InvalidArgumentError(
          `append: ${values.length} values are not whole rows of ${row} element(s) (shape ${JSON.stringify(cur)})`,
        )
      k = row === 0 ? 0 : values.length / row
    }
    if (k === 0) return
    const next = [...cur]
    next[ax] += k
    // The rollback (a shrink) zeroes the tail of the old last page: hold that page pinned from the start,
    // so that the rollback needs no frame even when the append failed for want of one.
    const oldEnd = sizeOf(cur) * this.#info.itemsize
    const tail =
      oldEnd % this.#shared.vma.pagesize !== 0 ? await this.#shared.vma.pinAsync(oldEnd - 1, 1) : undefined
    try {
      await this.#resizeTo(db, next)
      try {
        const sel: Index[] = cur.map(() => ({ start: null, stop: null, step: null }))
        sel[ax] = { start: cur[ax], stop: null, step: null }
        await this.at(...sel).copyFrom(values as ArrayLike<Element> | BigArray, progress)
      } catch (e) {
        await this.#resizeTo(db, cur)
        throw e
      }
    } finally {
      tail?.release()
    }
  }

  #resizable(): DbFile {
    if (!this.#db)
      throw new InvalidArgumentError('only a database array (not a view, not over a FileH) can resize')
    this.#refresh()
    return this.#db
  }

  // ---------------------------------------------------------------- chunks

  /**
   * Zero-copy typed-array views of the contiguous runs of this array, in C element order: `data` is
   * valid (pinned) only until the next step; `start` is the flat C-order index of data[0]. Each run lies
   * in one page; non-contiguous views give runs of their longest contiguous inner extent (maybe 1).
   * With an async storage the next pages load while the caller works. Progress counts bytes.
   */
  async *chunks(options: ChunkOptions = {}): AsyncGenerator<ArrayChunk<D>, void, undefined> {
    const size = this.size
    if (size === 0) return
    for (const step of this.#walk(0, size, options.write ?? false, options)) {
      if (isPromise(step)) await step
      else yield { data: step.data as TypedArrayOf<D>, start: step.start }
    }
  }

  /** chunks() with a callback; awaits only when a page has to load asynchronously. */
  async forEachChunk(
    fn: (data: TypedArrayOf<D>, start: number) => void,
    options: ChunkOptions = {},
  ): Promise<void> {
    await this._walk(0, this.size, options.write ?? false, fn, options)
  }

  /** @internal Calls fn on the chunks of flat range [from, to). */
  async _walk(
    from: number,
    to: number,
    write: boolean,
    fn: (data: TypedArrayOf<D>, start: number) => void,
    progress?: Progress,
  ): Promise<void> {
    for (const step of this.#walk(from, to, write, progress)) {
      if (isPromise(step)) await step
      else fn(step.data as TypedArrayOf<D>, step.start)
    }
  }

  #walk(from: number, to: number, write: boolean, progress: Progress | undefined) {
    const { itemsize, ctor } = this.#info
    return walk(this.#shared.vma, this._layout, itemsize, ctor, write, from, to, progress)
  }

  // ---------------------------------------------------------------- bulk

  /** Sets every element to `value`, chunk by chunk. Progress counts bytes. */
  fill(value: Element, progress?: Progress): Promise<void> {
    return copy.fill(this, value, progress)
  }
  /**
   * From a BigArray of the same shape, a nested list of the same shape, or a flat C-order ArrayLike of
   * `size` elements. Progress counts bytes.
   */
  copyFrom(src: ArrayLike<Element> | readonly unknown[] | BigArray, progress?: Progress): Promise<void> {
    if (src instanceof BigArray) return copy.copyFromArray(this, src, progress)
    if (isNested(src)) return writeRegion(this, src, progress)
    return copy.copyFromArrayLike(this, src as ArrayLike<Element>, progress)
  }
  /** Into a typed array (or any indexable) of at least `size` elements, in C order. Progress counts bytes. */
  copyTo(dst: { length: number; [i: number]: Element }, progress?: Progress): Promise<void> {
    return copy.copyTo(this, dst, progress)
  }
  /** The sum of the elements: a bigint for 64-bit integer dtypes (exact), else a number. */
  sum(progress?: Progress): Promise<ElementOf<D>> {
    return reduce.sum(this, progress) as Promise<ElementOf<D>>
  }
  /** The smallest element (NaN if any is NaN, as NumPy); InvalidArgumentError on an empty array. */
  min(progress?: Progress): Promise<ElementOf<D>> {
    return reduce.extreme(this, -1, progress) as Promise<ElementOf<D>>
  }
  /** The largest element (NaN if any is NaN, as NumPy); InvalidArgumentError on an empty array. */
  max(progress?: Progress): Promise<ElementOf<D>> {
    return reduce.extreme(this, 1, progress) as Promise<ElementOf<D>>
  }
  /** The mean as a number; NaN for an empty array, as NumPy. */
  mean(progress?: Progress): Promise<number> {
    return reduce.mean(this, progress)
  }

  // ---------------------------------------------------------------- mapped files

  /**
   * For an array of `memmap`/`openNpy` (and its views): makes every change durable in the file, all or
   * nothing, through the raw file's journal. ReadOnlyError (EROFS) for a file opened in mode 'r'.
   * InvalidArgumentError for other arrays: a database array commits with its connection (`conn.commit()`).
   */
  commit(): void {
    this.#owner('commit').commit()
  }

  /** For an array of `memmap`/`openNpy`: drops every uncommitted change (the file's content reads again). */
  abort(): void {
    this.#owner('abort').abort()
  }

  #owner(what: string): MappedFile {
    const o = this.#shared.owner
    if (!o)
      throw new InvalidArgumentError(
        `${what}() is for arrays of memmap/openNpy; a database array ${what}s with its connection (conn.${what}())`,
      )
    return o
  }

  /**
   * Unmaps the array's window (shared with its views). For an array of `memmap`/`openNpy` this also
   * closes the file, dropping uncommitted changes (commit first).
   */
  close(): void {
    this.#shared.unmap()
  }
  /** close(). */
  [Symbol.dispose](): void {
    this.close()
  }

  // ---------------------------------------------------------------- internals

  #setLayout(l: Layout): void {
    this.#l = l
    this.#nd = l.shape.length
    this.#len1 = this.#nd === 1 ? l.shape[0] : -1
    this.#len2 = this.#nd === 2 ? l.shape[0] : -1
    this.#d0 = l.shape[0] ?? 0
    this.#s0 = l.strides[0] ?? 0
    this.#d1 = l.shape[1] ?? 0
    this.#s1 = l.strides[1] ?? 0
    this.#off = l.offset
    this.#size = sizeOf(l.shape)
    this.#bytes = this.#size * this.#info.itemsize
  }

  /** A database array follows the file's shape when another commit, an abort or a sync changed it. */
  #refresh(): void {
    const db = this.#db
    if (db === undefined || this.#epochBox.v === this.#epoch) return
    const epoch = this.#epochBox.v
    if (!db.gone && !db.closed) {
      const meta = parseMeta(db)
      // create({ overwrite }) may have given the file another dtype or order: this object no longer fits
      // it. Left stale (epoch not taken), so every use says so until an abort restores the old array.
      if (meta.dtype !== this.#info.name || meta.order !== this.#order)
        throw new InvalidArgumentError(
          `array ${JSON.stringify(db.name)} was replaced by a ${meta.dtype} ${meta.order}-order array: open it again`,
        )
      if (db.size !== this.#bytes) {
        this.#shared.ensure(sizeOf(meta.shape) * this.#info.itemsize)
        this.#setLayout({ shape: meta.shape, strides: this.#l.strides, offset: 0 })
      }
    }
    this.#epoch = epoch
  }
}

/** Arrays over plain FileHs never see their record change. */
const NO_EPOCH = { v: 0 } as const

async function openIfExists(conn: Connection, name: string): Promise<DbFile | undefined> {
  try {
    return await conn.open(name)
  } catch (e) {
    if (e instanceof NotFoundError) return undefined
    throw e
  }
}

function parseMeta(fh: DbFile): ArrayMeta {
  const bad = (why: string) => new CorruptError(`file ${JSON.stringify(fh.name)} is not a BigArray: ${why}`)
  let meta: ArrayMeta
  let info: DTypeInfo
  try {
    meta = readArrayMeta(fh.meta as Record<string, unknown>)
    info = dtypeInfo(meta.dtype)
  } catch (e) {
    throw bad((e as Error).message)
  }
  if (fh.size !== sizeOf(meta.shape) * info.itemsize)
    throw bad(`size ${fh.size} does not hold shape ${JSON.stringify(meta.shape)} of ${info.name}`)
  return meta
}
