// The copies in and out of an array — copyFrom, copyTo, fill — on the chunk walk, and the element copy
// under them that converts between number and bigint elements.
import { InvalidArgumentError } from '../errors.ts'
import type { BigArray } from './bigarray.ts'
import type { Element } from './dtype.ts'
import { checkAbort, type Progress, report } from './progress.ts'

type Indexable = { length: number; [i: number]: Element }

function isBigTyped(a: unknown): boolean {
  return a instanceof BigInt64Array || a instanceof BigUint64Array
}

function isTyped(a: unknown): a is ArrayBufferView & { subarray(b: number, e: number): unknown } {
  return ArrayBuffer.isView(a) && !(a instanceof DataView)
}

/** dst[dstAt + i] = src[srcAt + i] for i < n, with a bulk set() when both are typed arrays of one kind. */
export function copyElements(
  dst: Indexable,
  dstAt: number,
  src: ArrayLike<Element>,
  srcAt: number,
  n: number,
): void {
  const big = isBigTyped(dst)
  if (isTyped(dst) && isTyped(src) && isBigTyped(src) === big) {
    ;(dst as unknown as { set(a: unknown, o: number): void }).set(src.subarray(srcAt, srcAt + n), dstAt)
    return
  }
  if (big) for (let i = 0; i < n; i++) dst[dstAt + i] = toBig(src[srcAt + i])
  else if (isTyped(dst)) for (let i = 0; i < n; i++) dst[dstAt + i] = toNumber(src[srcAt + i])
  else for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i]
}

/** A value for a 64-bit integer element: a bigint, or an integral number; anything else is EINVAL. */
export function toBig(v: unknown): bigint {
  if (typeof v === 'bigint') return v
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  throw new InvalidArgumentError(
    `${describe(v)} is not an integer: a 64-bit element takes a bigint or an integral number`,
  )
}

/** A value for a number element: a number or a bigint; anything else (a string, a nested array) is EINVAL. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  throw new InvalidArgumentError(`${describe(v)} is not a number: an element takes a number or a bigint`)
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array ([${v.length} item(s)])`
  if (typeof v === 'string') return JSON.stringify(v)
  return String(v)
}

/** Sets every element of `a` to `value` (converted as set() converts). */
export async function fill(a: BigArray, value: Element, progress?: Progress): Promise<void> {
  const v = a._info.bigint ? toBig(value) : toNumber(value)
  await a._walk(0, a.size, true, (d) => (d as unknown as { fill(x: Element): void }).fill(v), progress)
}

/** Copies `a` in C order into `dst`, which must have room for `a.size` elements. */
export async function copyTo(a: BigArray, dst: Indexable, progress?: Progress): Promise<void> {
  if (dst === null || typeof dst !== 'object' || !(dst.length >= a.size))
    throw new InvalidArgumentError(`copyTo needs room for ${a.size} elements, got ${dst?.length}`)
  await a._walk(0, a.size, false, (d, start) => copyElements(dst, start, d, 0, d.length), progress)
}

/** From a flat C-order ArrayLike of `a.size` elements. */
export async function copyFromArrayLike(
  a: BigArray,
  src: ArrayLike<Element>,
  progress?: Progress,
): Promise<void> {
  if (src === null || typeof src !== 'object' || src.length !== a.size)
    throw new InvalidArgumentError(`copyFrom needs ${a.size} elements, got ${src?.length}`)
  await a._walk(0, a.size, true, (dst, start) => copyElements(dst, 0, src, start, dst.length), progress)
}

/** From BigArray `src` of the same shape, chunk by chunk of `src`. */
export async function copyFromArray(a: BigArray, src: BigArray, progress?: Progress): Promise<void> {
  const from = src.shape
  const to = a.shape
  if (from.length !== to.length || from.some((d, k) => d !== to[k]))
    throw new InvalidArgumentError(
      `copyFrom: shape ${JSON.stringify(from)} does not match ${JSON.stringify(to)}`,
    )
  const total = a.size * a.itemsize
  for await (const { data, start } of src.chunks()) {
    checkAbort(progress)
    await copyRange(a, start, data)
    report(progress, (start + data.length) * a.itemsize, total)
  }
}

/** Writes `data` over the elements of `a` from flat C-order index `start` on. */
export async function copyRange(a: BigArray, start: number, data: ArrayLike<Element>): Promise<void> {
  let at = 0
  await a._walk(start, start + data.length, true, (dst) => {
    copyElements(dst, 0, data, at, dst.length)
    at += dst.length
  })
}
