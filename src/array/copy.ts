// Element copies between typed arrays and array-likes, converting between number and bigint elements.
import type { Element } from './dtype.ts'

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
  else if (isTyped(dst)) for (let i = 0; i < n; i++) dst[dstAt + i] = Number(src[srcAt + i])
  else for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i]
}

function toBig(v: Element): bigint {
  return typeof v === 'bigint' ? v : BigInt(v)
}
