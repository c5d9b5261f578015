// Shapes, byte strides and view composition. A layout places element (i0, i1, ...) at byte
// offset + Σ ik·strides[k] of the array's mapping.
import { InvalidArgumentError, OutOfRangeError } from '../errors.ts'
import { adjust, all, type Index, isSlice, newaxis } from './slice.ts'

/** Memory order of an array's elements: 'C' (row-major: the last index varies fastest) or 'F' (column-major). */
export type Order = 'C' | 'F'

export interface Layout {
  readonly shape: readonly number[]
  readonly strides: readonly number[]
  readonly offset: number
}

/** A copy of `shape` after checking it: non-negative safe integers with a safe product. */
export function checkShape(shape: unknown): number[] {
  if (!Array.isArray(shape)) throw new InvalidArgumentError('shape must be an array of integers')
  let size = 1
  for (const n of shape) {
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      throw new InvalidArgumentError(`shape must hold non-negative integers, got ${JSON.stringify(shape)}`)
    size *= n
  }
  if (!Number.isSafeInteger(size))
    throw new InvalidArgumentError(`shape ${JSON.stringify(shape)} is too large`)
  return [...shape]
}

export function checkOrder(order: unknown): Order {
  if (order === undefined) return 'C'
  if (order !== 'C' && order !== 'F')
    throw new InvalidArgumentError(`order must be 'C' or 'F', got ${String(order)}`)
  return order
}

/**
 * The bytes an array of `shape` and `itemsize` spans from byte `offset` of its file. InvalidArgumentError
 * past 2^53 bytes, where byte offsets (JavaScript numbers) are no longer exact.
 */
export function bytesOf(shape: readonly number[], itemsize: number, offset = 0): number {
  const bytes = sizeOf(shape) * itemsize
  if (!Number.isSafeInteger(offset + bytes))
    throw new InvalidArgumentError(
      `shape ${JSON.stringify(shape)} of ${itemsize}-byte elements${offset ? ` from byte ${offset}` : ''} ends past 2^53 bytes: byte offsets that large are not representable`,
    )
  return bytes
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1
  for (const d of shape) n *= d
  return n
}

/** Strides of a contiguous array of `shape` in `order`. */
export function contiguousStrides(shape: readonly number[], itemsize: number, order: Order): number[] {
  const st = new Array<number>(shape.length)
  let s = itemsize
  if (order === 'C') {
    for (let k = shape.length - 1; k >= 0; k--) {
      st[k] = s
      s *= Math.max(shape[k], 1)
    }
  } else {
    for (let k = 0; k < shape.length; k++) {
      st[k] = s
      s *= Math.max(shape[k], 1)
    }
  }
  return st
}

/** The axis that resize/append change: the first for C order, the last for F order. */
export function growAxis(ndim: number, order: Order): number {
  return order === 'C' ? 0 : ndim - 1
}

/** NumPy basic indexing: integers drop an axis, slices keep it, newaxis adds one; missing ones are `all`. */
export function select(l: Layout, sel: readonly Index[]): Layout {
  const shape: number[] = []
  const strides: number[] = []
  let offset = l.offset
  let axis = 0
  for (const s of sel) {
    if (s === newaxis) {
      shape.push(1)
      strides.push(0)
      continue
    }
    if (axis >= l.shape.length)
      throw new InvalidArgumentError(`too many indices for an array of ${l.shape.length} dimension(s)`)
    const len = l.shape[axis]
    const st = l.strides[axis]
    if (typeof s === 'number') {
      offset += normIndex(s, len, axis) * st
    } else if (s === null || isSlice(s)) {
      const a = adjust(s ?? all, len)
      if (a.length > 0) offset += a.start * st
      shape.push(a.length)
      strides.push(st * a.step)
    } else throw new InvalidArgumentError(`bad index ${String(s)}: use a number, slice(...), null or newaxis`)
    axis++
  }
  for (; axis < l.shape.length; axis++) {
    shape.push(l.shape[axis])
    strides.push(l.strides[axis])
  }
  return { shape, strides, offset }
}

/** A Python-style integer index (negative counts from the end) checked against `len`. */
export function normIndex(i: number, len: number, axis: number): number {
  if (!Number.isInteger(i)) throw new InvalidArgumentError(`index ${i} on axis ${axis} is not an integer`)
  const j = i < 0 ? i + len : i
  if (!(j >= 0 && j < len))
    throw new OutOfRangeError(`index ${i} is out of bounds for axis ${axis} with size ${len}`)
  return j
}

/** Lowest and one-past-highest byte touched by a non-empty layout. */
export function extent(l: Layout, itemsize: number): { lo: number; hi: number } {
  let lo = l.offset
  let hi = l.offset
  for (let k = 0; k < l.shape.length; k++) {
    const d = (l.shape[k] - 1) * l.strides[k]
    if (d < 0) lo += d
    else hi += d
  }
  return { lo, hi: hi + itemsize }
}

/**
 * How many trailing axes form one contiguous forward run (byte stride = itemsize, each axis exactly
 * spanning the next): iteration in C order then walks the leading axes and copies runs of `runLen`.
 */
export function innerRun(l: Layout, itemsize: number): { axes: number; runLen: number } {
  const n = l.shape.length
  let axes = 0
  let runLen = 1
  let expect = itemsize
  for (let k = n - 1; k >= 0; k--) {
    if (l.shape[k] !== 1 && l.strides[k] !== expect) break
    runLen *= l.shape[k]
    expect = itemsize * runLen
    axes++
  }
  return { axes, runLen }
}
