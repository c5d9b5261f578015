// The wendelin.core workload, shared by `bigfile demo`, `bigfile bench` and bench/wendelin.bench.ts:
// fill a float64 array with a known formula chunk by chunk (a commit per chunk), scan it, read and change
// random elements (changes beyond the RAM budget spill until their commit).
import { type BigArray, slice } from '../array/index.ts'
import type { Connection } from '../db/connection.ts'
import { rng } from '../util/rng.ts'
import { checkAborted } from './interrupt.ts'

export interface Steps {
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
  /** Called just before each commit. */
  onCommit?: () => void
}

/** Element i's value: multiples of 0.5 below 500, so every partial sum is exact in float64. */
export function value(i: number): number {
  return (i % 1000) * 0.5
}

/** The sum of value(i) for i < n, in closed form. */
export function formulaSum(n: number): number {
  const full = Math.floor(n / 1000)
  const rest = n % 1000
  // sum over one period: 0.5 * (0 + ... + 999); the partial period: 0.5 * (0 + ... + rest-1)
  return full * 0.5 * ((999 * 1000) / 2) + 0.5 * (((rest - 1) * rest) / 2)
}

/** The fill chunk for a RAM: at most half its frames, since a chunk stays dirty until its commit. */
export function fitChunk(chunkBytes: number, ram: { frames: number; pagesize: number }): number {
  const half = Math.max(1, Math.floor(ram.frames / 2)) * ram.pagesize
  return Math.max(ram.pagesize, Math.min(chunkBytes, half))
}

/**
 * Writes value(i) into every element of the 1-d float64 array `a`, `chunkBytes` at a time, committing
 * after each chunk. Returns the number of commits.
 */
export async function fillChunked(
  conn: Connection,
  a: BigArray,
  chunkBytes: number,
  steps: Steps = {},
): Promise<number> {
  const n = a.size
  const per = Math.max(1, Math.floor(chunkBytes / a.itemsize))
  let commits = 0
  for (let i0 = 0; i0 < n; i0 += per) {
    checkAborted(steps.signal)
    const i1 = Math.min(n, i0 + per)
    await a.at(slice(i0, i1)).forEachChunk(
      (data, start) => {
        const f = data as Float64Array
        const base = i0 + start
        for (let j = 0; j < f.length; j++) f[j] = ((base + j) % 1000) * 0.5
      },
      { write: true, signal: steps.signal, onProgress: (d) => steps.onProgress?.(i0 + d, n) },
    )
    steps.onCommit?.()
    await conn.commit()
    commits++
    steps.onProgress?.(i1 * a.itemsize, n * a.itemsize)
  }
  return commits
}

/**
 * Lets the event loop run: with a synchronous storage (SQLite) array operations complete in microtasks
 * only, and a signal (Ctrl-C) is delivered in the event loop — without this it would wait for the end.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The sum of all elements of a 1-d array, as a number; the array layer yields to the event loop when
 * given a signal, so Ctrl-C lands mid-scan. */
export async function scanSum(a: BigArray, steps: Steps = {}): Promise<number> {
  return Number(await a.sum({ signal: steps.signal, onProgress: steps.onProgress }))
}

export { rng }

/**
 * `count` random single-element reads of a 1-d array; returns how many differ from value(i) (pass
 * `check: false` when the data was changed since the fill).
 */
export async function randomReads(
  a: BigArray,
  count: number,
  rand: () => number,
  options: { check?: boolean; signal?: AbortSignal } = {},
): Promise<number> {
  const n = a.size
  let bad = 0
  let sink = 0
  for (let k = 0; k < count; k++) {
    if ((k & 16383) === 0) {
      await yieldToEventLoop()
      checkAborted(options.signal)
    }
    const i = Math.floor(rand() * n)
    const v = a.get(i) as number
    sink += v
    if (options.check !== false && v !== value(i)) bad++
  }
  if (Number.isNaN(sink)) bad++
  return bad
}

/**
 * `count` random single-element changes, committed in one transaction — or, with `perTxn`, in a
 * commit every `perTxn` changes (each change dirties at most one page, and dirty pages cannot leave
 * RAM before commit). Returns the new value of every changed element (the last write wins) and the
 * number of commits.
 */
export async function randomChanges(
  conn: Connection,
  a: BigArray,
  count: number,
  rand: () => number,
  options: { signal?: AbortSignal; perTxn?: number } = {},
): Promise<{ changed: Map<number, number>; commits: number }> {
  const n = a.size
  const { signal, perTxn = count } = options
  const changed = new Map<number, number>()
  let commits = 0
  for (let k = 0; k < count; k++) {
    if ((k & 255) === 0) {
      await yieldToEventLoop()
      checkAborted(signal)
    }
    const i = Math.floor(rand() * n)
    const v = -1 - (k % 1000) * 0.5 // negative: never equal to value(i)
    await a.setAsync(i, v)
    changed.set(i, v)
    if ((k + 1) % perTxn === 0 && k + 1 < count) {
      await conn.commit()
      commits++
    }
  }
  checkAborted(signal)
  await conn.commit()
  return { changed, commits: commits + 1 }
}

/** What the sum becomes after `changed` was applied to the formula's data. */
export function sumAfter(n: number, changed: ReadonlyMap<number, number>): number {
  let s = formulaSum(n)
  for (const [i, v] of changed) s += v - value(i)
  return s
}

/** The changed elements that do not read back as written. */
export async function checkChanges(a: BigArray, changed: ReadonlyMap<number, number>): Promise<number> {
  let bad = 0
  for (const [i, v] of changed) if ((await a.getAsync(i)) !== v) bad++
  return bad
}
