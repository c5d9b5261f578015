// The hit path allocates nothing: vma.getFloat64/setFloat64, get1/set1, get2 and the generic get/set on
// resident pages, once the loops are optimized. Measured as bench/hit.bench.ts does (the heap after minus
// before, plus what collections freed meanwhile), after a full collection so that no older garbage counts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { BigArray } from '../../src/array/index.ts'
import { FileH, MemoryBigFile, RAM } from '../../src/index.ts'

setFlagsFromString('--expose-gc')
setFlagsFromString('--allow-natives-syntax')
const gc = runInNewContext('gc') as () => void
/**
 * Optimizes `fn` now, synchronously, with the feedback it has: what the optimizing compiler makes of a
 * warm loop, without depending on when a background compile would finish on a loaded machine.
 */
const optimize = new Function('fn', '%OptimizeFunctionOnNextCall(fn)') as (fn: unknown) => void

const PS = 4096
const N = 1 << 15 // float64 elements: 256 KiB in 64 pages
const HITS = 1 << 20
const CHUNK = 1024

/** Bytes allocated while `fn` runs. */
function allocated(fn: () => void): number {
  gc()
  const prof = new GCProfiler()
  prof.start()
  const h0 = getHeapStatistics().used_heap_size
  fn()
  const h1 = getHeapStatistics().used_heap_size
  let freed = 0
  for (const s of prof.stop()?.statistics ?? [])
    freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize
  return Math.max(0, h1 - h0 + freed)
}

/**
 * Bytes per hit of `loop(a, b)` over [0, HITS) in chunks (whole optimized functions, as a user's loop
 * would be; one boxed number returned per chunk is the only allocation allowed): warmed up, optimized,
 * measured. The least of up to three such rounds: on a loaded machine a round may run partly in code
 * being replaced (a background compile, a re-optimization), which is not what this measures; code that
 * allocates per hit allocates in every round.
 */
function bytesPerHit(loop: (a: number, b: number) => number): number {
  let sink = 0
  const all = () => {
    for (let c = 0; c < HITS; c += CHUNK) sink += loop(c, c + CHUNK)
  }
  let bytes = Number.POSITIVE_INFINITY
  for (let round = 0; round < 3 && bytes > 0.1 * HITS; round++) {
    for (let r = 0; r < 3; r++) all()
    optimize(loop)
    all()
    bytes = Math.min(bytes, allocated(all), allocated(all))
  }
  assert.ok(Number.isFinite(sink))
  return bytes / HITS
}

function setup() {
  const ram = new RAM({ pagesize: PS, capacity: 2 * N * 8 + 4 * PS })
  const f1 = new FileH(new MemoryBigFile(PS), ram)
  const f2 = new FileH(new MemoryBigFile(PS), ram)
  const a = BigArray.over(f1, { dtype: 'float64', shape: [N] })
  const m = BigArray.over(f2, { dtype: 'float64', shape: [N / 128, 128] })
  // Values that are not small integers: an optimized path that boxed its result would allocate.
  for (let i = 0; i < N; i++) {
    a.set1(i, i + 0.5) // write faults: every page resident and writable
    m.set2(i >> 7, i & 127, i + 0.5)
  }
  const idx = new Int32Array(HITS)
  let x = 1
  for (let k = 0; k < HITS; k++) {
    x = (x * 1103515245 + 12345) >>> 0
    idx[k] = x % N
  }
  return { ram, a, m, vma: a._shared.vma, idx }
}

test('the hit path allocates nothing: vma accessors, get1/set1, get2/set2 and the generic get/set', () => {
  const { ram, a, m, vma, idx } = setup()
  const faults = ram.counters.faults
  const loops: Record<string, (x: number, y: number) => number> = {
    'vma.getFloat64': (x, y) => {
      let s = 0
      for (let k = x; k < y; k++) s += vma.getFloat64(idx[k] * 8)
      return s
    },
    'vma.setFloat64': (x, y) => {
      for (let k = x; k < y; k++) vma.setFloat64(idx[k] * 8, k + 0.5)
      return 0
    },
    get1: (x, y) => {
      let s = 0
      for (let k = x; k < y; k++) s += a.get1(idx[k]) as number
      return s
    },
    set1: (x, y) => {
      for (let k = x; k < y; k++) a.set1(idx[k], k + 0.5)
      return 0
    },
    'get(i)': (x, y) => {
      let s = 0
      for (let k = x; k < y; k++) s += a.get(idx[k]) as number
      return s
    },
    'set(i, v)': (x, y) => {
      for (let k = x; k < y; k++) a.set(idx[k], k + 0.5)
      return 0
    },
    get2: (x, y) => {
      let s = 0
      for (let k = x; k < y; k++) s += m.get2(idx[k] >> 7, idx[k] & 127) as number
      return s
    },
    'get(i, j)': (x, y) => {
      let s = 0
      for (let k = x; k < y; k++) s += m.get(idx[k] >> 7, idx[k] & 127) as number
      return s
    },
    'set(i, j, v)': (x, y) => {
      for (let k = x; k < y; k++) m.set(idx[k] >> 7, idx[k] & 127, k + 0.5)
      return 0
    },
  }
  // A control that does allocate, so that the measure is known to see allocations.
  const keep: unknown[] = new Array(64)
  const control = (x: number, y: number) => {
    let s = 0
    for (let k = x; k < y; k++) {
      const o = { v: idx[k] }
      keep[k & 63] = o
      s += o.v
    }
    return s
  }
  assert.ok(bytesPerHit(control) >= 8, 'the measure sees an allocation per iteration')
  const per: Record<string, number> = {}
  for (const [name, loop] of Object.entries(loops)) per[name] = bytesPerHit(loop)
  // One boxed number per chunk of 1024 hits is 0.016 bytes per hit; a per-hit allocation is >= 8.
  if (process.env.SHOW_ALLOC) console.log(per)
  for (const [name, b] of Object.entries(per)) assert.ok(b < 0.5, `${name}: ${b.toFixed(3)} bytes per hit`)
  assert.equal(ram.counters.faults, faults, 'every access was a hit')
})
