// Whole regions in and out of memory, zarrita-style: read() copies a view into one typed array with its
// shape and element strides; write() takes the same shape back (or a nested list, a flat list, a BigArray,
// one value).
import { InvalidArgumentError, OutOfRangeError } from '../errors.ts'
import { BigArray } from './bigarray.ts'
import * as copy from './copy.ts'
import type { DType, Element, TypedArrayOf } from './dtype.ts'
import { contiguousStrides, sizeOf } from './layout.ts'
import { flattenNested, isNested } from './nested.ts'
import type { Progress } from './progress.ts'

/** A region of an array in memory, as zarrita's `get` returns it: C order unless `stride` says otherwise. */
export interface Region<D extends DType = DType> {
  /** The elements. */
  data: TypedArrayOf<D>
  /** Length of each axis. */
  shape: number[]
  /** Step in `data`, in elements, of one index along each axis (C order: the last is 1). */
  stride: number[]
}

/** A region to write: like Region, any ArrayLike of elements, `stride` optional (default C order). */
export interface RegionLike {
  /** The elements. */
  data: ArrayLike<Element>
  /** Length of each axis; must equal the target's shape. */
  shape: readonly number[]
  /** Step in `data`, in elements, along each axis. Default: C order. */
  stride?: readonly number[]
}

/** What `write()` accepts: a region, a nested list, a flat C-order ArrayLike, a BigArray, or one value. */
export type RegionSource = RegionLike | ArrayLike<Element> | readonly unknown[] | BigArray | Element

/** Element strides of a C-order region of `shape`. */
function cStride(shape: readonly number[]): number[] {
  return contiguousStrides(shape, 1, 'C')
}

/** `a.read()`: the elements of `a` in a new typed array, with shape and C-order element strides. */
export async function readRegion(a: BigArray, progress?: Progress): Promise<Region> {
  const shape = [...a.shape]
  const n = a.size
  let data: TypedArrayOf<DType>
  try {
    data = new a._info.ctor(n)
  } catch (e) {
    throw new OutOfRangeError(
      `read: ${n} ${a.dtype} elements (${n * a.itemsize} bytes) do not fit in one typed array (${(e as Error).message}); read a smaller view`,
    )
  }
  await copy.copyTo(a, data, progress)
  return { data, shape, stride: cStride(shape) }
}

/** `a.write(src)`: see BigArray.write for what `src` may be. */
export async function writeRegion(a: BigArray, src: RegionSource, progress?: Progress): Promise<void> {
  if (src instanceof BigArray) return copy.copyFromArray(a, src, progress)
  if (typeof src === 'number' || typeof src === 'bigint') return copy.fill(a, src, progress)
  const shape = a.shape
  if (isNested(src)) {
    const n = flattenNested(src)
    checkShape(n.shape, shape)
    return copy.copyFromArrayLike(a, n.data, progress)
  }
  if (src !== null && typeof src === 'object' && 'shape' in src && 'data' in src) {
    const r = src as RegionLike
    checkShape(r.shape, shape)
    return copy.copyFromArrayLike(a, gather(r, shape), progress)
  }
  if (src === null || typeof src !== 'object' || typeof (src as ArrayLike<Element>).length !== 'number')
    throw new InvalidArgumentError(
      'write needs a region { data, shape, stride? }, a nested list, an array-like, a BigArray or a value',
    )
  return copy.copyFromArrayLike(a, src as ArrayLike<Element>, progress)
}

function checkShape(got: readonly unknown[], want: readonly number[]): void {
  if (!Array.isArray(got) || got.length !== want.length || got.some((d, k) => d !== want[k]))
    throw new InvalidArgumentError(
      `write: shape ${JSON.stringify(got)} does not match the target's ${JSON.stringify(want)}`,
    )
}

/** The region's elements in C order: its data itself when it is C-contiguous, else gathered by stride. */
function gather(r: RegionLike, shape: readonly number[]): ArrayLike<Element> {
  const data = r.data
  if (data === null || typeof data !== 'object' || typeof data.length !== 'number')
    throw new InvalidArgumentError('write: region.data must be an array-like of elements')
  const n = sizeOf(shape)
  const c = cStride(shape)
  const stride = r.stride ?? c
  if (!Array.isArray(stride) || stride.length !== shape.length || !stride.every(Number.isSafeInteger))
    throw new InvalidArgumentError(`write: stride ${JSON.stringify(r.stride)} is not one integer per axis`)
  if (n === 0) return []
  // The lowest and highest index the strides reach must lie in data.
  let lo = 0
  let hi = 0
  for (let k = 0; k < shape.length; k++) {
    const d = (shape[k] - 1) * stride[k]
    if (d < 0) lo += d
    else hi += d
  }
  const base = -lo
  if (hi + base >= data.length)
    throw new InvalidArgumentError(
      `write: shape ${JSON.stringify(shape)} with stride ${JSON.stringify(stride)} reaches ${hi + base + 1} elements; data has ${data.length}`,
    )
  const contiguous = base === 0 && stride.every((s, k) => s === c[k] || shape[k] === 1)
  if (contiguous) return data.length === n ? data : slice(data, n)
  const out = new Array<Element>(n)
  const idx = new Array<number>(shape.length).fill(0)
  let at = base
  for (let j = 0; j < n; j++) {
    out[j] = data[at]
    for (let k = shape.length - 1; k >= 0; k--) {
      idx[k]++
      at += stride[k]
      if (idx[k] < shape[k]) break
      at -= idx[k] * stride[k]
      idx[k] = 0
    }
  }
  return out
}

function slice(data: ArrayLike<Element>, n: number): ArrayLike<Element> {
  const sub = (data as { subarray?: (b: number, e: number) => ArrayLike<Element> }).subarray
  return sub ? sub.call(data, 0, n) : Array.prototype.slice.call(data, 0, n)
}
