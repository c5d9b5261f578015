// Full-scan reductions on the chunk walk: sum, min/max, mean.
import { InvalidArgumentError } from '../errors.ts'
import type { BigArray } from './bigarray.ts'
import type { AnyTypedArray } from './dtype.ts'
import type { Progress } from './progress.ts'

type NumArray = Exclude<AnyTypedArray, BigInt64Array | BigUint64Array>
type BigArrayView = BigInt64Array | BigUint64Array

/** The sum of the elements: exact bigint for 64-bit integer dtypes, else a number. */
export async function sum(a: BigArray, progress?: Progress): Promise<number | bigint> {
  if (a._info.bigint) {
    let s = 0n
    await a.forEachChunk((d) => {
      const b = d as BigArrayView
      for (let i = 0; i < b.length; i++) s += b[i]
    }, progress)
    return s
  }
  let s = 0
  await a.forEachChunk((d) => {
    const f = d as NumArray
    let t = 0
    for (let i = 0; i < f.length; i++) t += f[i]
    s += t
  }, progress)
  return s
}

/** min (sign -1) or max (sign 1); NaN wins, as in NumPy. InvalidArgumentError on an empty array. */
export async function extreme(a: BigArray, sign: 1 | -1, progress?: Progress): Promise<number | bigint> {
  if (a.size === 0) throw new InvalidArgumentError(`${sign > 0 ? 'max' : 'min'} of an empty array`)
  if (a._info.bigint) {
    let m: bigint | undefined
    await a.forEachChunk((d) => {
      const b = d as BigArrayView
      for (let i = 0; i < b.length; i++) {
        const x = b[i]
        if (m === undefined || (sign > 0 ? x > m : x < m)) m = x
      }
    }, progress)
    return m as bigint
  }
  let m = sign > 0 ? -Infinity : Infinity
  await a.forEachChunk((d) => {
    const f = d as NumArray
    let t = m
    if (sign > 0) for (let i = 0; i < f.length; i++) t = f[i] > t || Number.isNaN(f[i]) ? f[i] : t
    else for (let i = 0; i < f.length; i++) t = f[i] < t || Number.isNaN(f[i]) ? f[i] : t
    // Once NaN, stay NaN (a NaN comparison is always false).
    m = Number.isNaN(m) ? m : t
  }, progress)
  return m
}

/** The mean as a number; NaN for an empty array, as NumPy. */
export async function mean(a: BigArray, progress?: Progress): Promise<number> {
  const s = await sum(a, progress)
  return a.size === 0 ? Number.NaN : Number(s) / a.size
}
