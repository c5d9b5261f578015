/**
 * Reclaim: how many loads CLOCK (as the RAM implements it: the reference bit is set by each fault, and
 * the hand clears it and unmaps the page, so an access after that faults again) needs for an access
 * stream, compared with exact LRU over the same stream and the same number of frames. LRU is simulated
 * here with a Map kept in recency order. The RAM is also run with reclaimBatch 1 (one page dropped per
 * reclaim), to show what dropping the default batch of 64 at a time costs in hit ratio.
 */
import { FileH, MemoryBigFile, RAM } from '../src/index.ts'
import { fmtNs, rng, table } from './util.ts'

const PS = 4 << 10
const FRAMES = 1024
const PAGES = 4 * FRAMES
const ACCESSES = 1 << 20

export function main(): Promise<void> {
  console.log(
    `# reclaim: ${FRAMES} frames of ${PS >> 10} KiB, ${PAGES} pages, ${ACCESSES} accesses per workload (one byte read each)`,
  )
  console.log('# loads/access counts every load, cold misses included; hit ratio = 1 - loads/access\n')
  const file = new MemoryBigFile(PS)
  for (let p = 0; p < PAGES; p++) file.blocks.set(p, new Uint8Array(PS).fill(p & 255))

  const workloads: [string, Int32Array][] = [
    ['80/20 hot set', hotCold(ACCESSES, 0.2, 0.8, rng(1))],
    ['zipf s=1.0', zipf(ACCESSES, 1.0, rng(2))],
    ['zipf s=0.8', zipf(ACCESSES, 0.8, rng(3))],
    ['scan (cyclic, 4× RAM)', scan(ACCESSES)],
    ['zipf 1.0 + scan, 1:1', mix(zipf(ACCESSES, 1.0, rng(4)), scan(ACCESSES))],
  ]

  const rows: string[][] = []
  const costs: string[][] = []
  for (const [name, stream] of workloads) {
    const lru = lruLoads(stream, FRAMES)
    const c64 = runClock(file, stream, 64)
    const c1 = runClock(file, stream, 1)
    const n = stream.length
    rows.push([
      name,
      pct(1 - lru / n),
      pct(1 - c64.loads / n),
      pct(1 - c1.loads / n),
      (lru / n).toFixed(4),
      (c64.loads / n).toFixed(4),
      (c1.loads / n).toFixed(4),
      (c64.loads / lru).toFixed(3),
      (c1.loads / lru).toFixed(3),
    ])
    costs.push([
      name,
      fmtNs(c64.ns / n),
      (c64.faults / n).toFixed(3),
      ((c64.faults - c64.loads) / n).toFixed(3),
      c64.loads ? fmtNs(c64.ns / c64.loads) : '-',
      fmtNs(c1.ns / n),
    ])
  }
  table(
    [
      'workload',
      'hit LRU',
      'hit CLOCK/64',
      'hit CLOCK/1',
      'loads/acc LRU',
      'CLOCK/64',
      'CLOCK/1',
      'CLOCK/64 ÷ LRU',
      'CLOCK/1 ÷ LRU',
    ],
    rows,
  )
  console.log('(CLOCK/64: the RAM default, reclaimBatch 64; CLOCK/1: reclaimBatch 1)\n')
  table(
    [
      'workload (CLOCK/64 cost)',
      'ns/access',
      'faults/access',
      'minor faults/access',
      'ns per load',
      'ns/access CLOCK/1',
    ],
    costs,
  )
  console.log(
    '(minor fault: the page was resident but unmapped by the hand; ns per load = total time / loads)\n',
  )
  return Promise.resolve()
}

function runClock(
  file: MemoryBigFile,
  stream: Int32Array,
  reclaimBatch: number,
): { loads: number; faults: number; ns: number } {
  const ram = new RAM({ pagesize: PS, capacity: (FRAMES + 2) * PS, reclaimBatch })
  const fileh = new FileH(file, ram)
  const vma = fileh.mmap(0, PAGES)
  let s = 0
  const t0 = performance.now()
  for (let k = 0; k < stream.length; k++) s += vma.getUint8(stream[k] * PS)
  const ns = (performance.now() - t0) * 1e6
  if (s < 0) console.log(s)
  const { loads, faults } = ram.counters
  vma.unmap()
  fileh.close()
  return { loads, faults, ns }
}

/** Loads exact LRU needs for `stream` with `frames` frames: a Map iterates in insertion order. */
function lruLoads(stream: Int32Array, frames: number): number {
  const resident = new Map<number, true>()
  let loads = 0
  for (let k = 0; k < stream.length; k++) {
    const p = stream[k]
    if (resident.delete(p)) {
      resident.set(p, true)
      continue
    }
    loads++
    if (resident.size >= frames) resident.delete(resident.keys().next().value as number)
    resident.set(p, true)
  }
  return loads
}

/** `hotAccesses` of the accesses go uniformly to a random `hotFraction` of the pages, the rest uniformly to the others. */
function hotCold(n: number, hotFraction: number, hotAccesses: number, rand: () => number): Int32Array {
  const perm = shuffled(PAGES, rand)
  const hot = Math.round(PAGES * hotFraction)
  const out = new Int32Array(n)
  for (let k = 0; k < n; k++) {
    out[k] = rand() < hotAccesses ? perm[(rand() * hot) | 0] : perm[hot + ((rand() * (PAGES - hot)) | 0)]
  }
  return out
}

/** Zipf over the pages (rank r has weight 1/r^s), ranks assigned to random pages. */
function zipf(n: number, s: number, rand: () => number): Int32Array {
  const perm = shuffled(PAGES, rand)
  const cdf = new Float64Array(PAGES)
  let sum = 0
  for (let r = 0; r < PAGES; r++) cdf[r] = sum += 1 / (r + 1) ** s
  const out = new Int32Array(n)
  for (let k = 0; k < n; k++) {
    const u = rand() * sum
    let lo = 0
    let hi = PAGES - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid] < u) lo = mid + 1
      else hi = mid
    }
    out[k] = perm[lo]
  }
  return out
}

function scan(n: number): Int32Array {
  const out = new Int32Array(n)
  for (let k = 0; k < n; k++) out[k] = k % PAGES
  return out
}

/** Interleaves two streams access by access (first n of the result: half of each). */
function mix(a: Int32Array, b: Int32Array): Int32Array {
  const out = new Int32Array(a.length)
  for (let k = 0; k < out.length; k++) out[k] = k & 1 ? b[k >> 1] : a[k >> 1]
  return out
}

function shuffled(n: number, rand: () => number): Int32Array {
  const a = new Int32Array(n)
  for (let i = 0; i < n; i++) a[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = (rand() * (i + 1)) | 0
    const t = a[i]
    a[i] = a[j]
    a[j] = t
  }
  return a
}

function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`
}

if (import.meta.main) await main()
