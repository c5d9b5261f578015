// Python/NumPy slices and their normalisation against an axis length (PySlice_AdjustIndices).
import { InvalidArgumentError } from '../errors.ts'

/** slice(start, stop, step) like Python/NumPy: null = default; negative indexes count from the end. */
export interface Slice {
  /** First index (null: the start, or the end for a negative step). */
  readonly start: number | null
  /** One past the last index (null: the end, or before the start for a negative step). */
  readonly stop: number | null
  /** Stride, never 0 (null: 1). */
  readonly step: number | null
}

/** Inserts a new axis of length 1 (NumPy's `np.newaxis`): `a.at(newaxis)` of shape [n] has shape [1, n]. */
export const newaxis: unique symbol = Symbol('newaxis')
/**
 * One entry of a selection: an integer (drops the axis), a Slice (keeps it), `null` (the whole axis, as
 * zarrita's `null` and NumPy's `:`), or `newaxis`.
 */
export type Index = number | Slice | null | typeof newaxis

/** Builds a Slice; InvalidArgumentError for a non-integer bound or a zero step. */
export function slice(start?: number | null, stop?: number | null, step?: number | null): Slice {
  for (const [what, v] of [
    ['start', start],
    ['stop', stop],
    ['step', step],
  ] as const) {
    if (v != null && !Number.isInteger(v))
      throw new InvalidArgumentError(`slice ${what} must be an integer or null, got ${v}`)
  }
  if (step === 0) throw new InvalidArgumentError('slice step cannot be zero')
  return Object.freeze({ start: start ?? null, stop: stop ?? null, step: step ?? null })
}

/** The whole axis: slice(). */
export const all: Slice = slice()

/** Whether `x` has the shape of a Slice (start, stop, step). */
export function isSlice(x: unknown): x is Slice {
  return typeof x === 'object' && x !== null && 'start' in x && 'stop' in x && 'step' in x
}

/** A slice resolved against an axis of `len`: the first index, the step and the number of elements. */
export interface Adjusted {
  start: number
  step: number
  length: number
}

/** Resolves slice `s` against an axis of length `len` (Python's PySlice_AdjustIndices). */
export function adjust(s: Slice, len: number): Adjusted {
  const step = s.step ?? 1
  if (step === 0 || !Number.isInteger(step))
    throw new InvalidArgumentError('slice step must be a non-zero integer')
  // Slice is an interface: plain objects get here without the slice() factory's checks.
  for (const [what, v] of [
    ['start', s.start],
    ['stop', s.stop],
  ] as const) {
    if (v != null && !Number.isInteger(v))
      throw new InvalidArgumentError(`slice ${what} must be an integer or null, got ${v}`)
  }
  const start = clamp(s.start, len, step, step < 0 ? len - 1 : 0)
  const stop = clamp(s.stop, len, step, step < 0 ? -1 : len)
  let length = 0
  if (step < 0) {
    if (stop < start) length = Math.floor((start - stop - 1) / -step) + 1
  } else if (start < stop) length = Math.floor((stop - start - 1) / step) + 1
  return { start, step, length }
}

function clamp(v: number | null, len: number, step: number, dflt: number): number {
  if (v === null) return dflt
  if (v < 0) {
    v += len
    if (v < 0) v = step < 0 ? -1 : 0
  } else if (v >= len) v = step < 0 ? len - 1 : len
  return v
}
