/**
 * Hit path: every page resident and mapped, so each access is one page-table load plus one typed-array
 * load in the RAM arena. Compared against a plain Float64Array holding the same data, driven by the
 * same index stream in the same process. Then measures what the loops allocate.
 *
 * Pages are faulted in through the accessors themselves (one access per page), as a program would, so
 * the slow-path call sites carry type feedback when the loops get optimized.
 */
import { GCProfiler, getHeapStatistics } from 'node:v8'
import { FileH, MemoryBigFile, RAM } from '../src/index.ts'
import { consume, fmtRatio, fmtSpread, measureSpread, rng, type Spread, table } from './util.ts'

const PS = 64 << 10
const N = 8 << 20 // float64 elements: 64 MiB
const BYTES = N * 8
const PAGES = BYTES / PS
const M = 4 << 20 // random indices
const CHUNK = 4096 // elements per call in the chunked variants

export function main(): Promise<void> {
  console.log(
    `# hit path: ${N} float64 (${BYTES >> 20} MiB) in ${PAGES} pages of ${PS >> 10} KiB, all resident`,
  )
  console.log(
    `# random streams: ${M} indices; CPU time, median (min–max) of 7 interleaved rounds after 2 warm-up rounds\n`,
  )

  const rand = rng(1)
  const plain = new Float64Array(N)
  for (let i = 0; i < N; i++) plain[i] = rand()
  const file = new MemoryBigFile(PS)
  for (let p = 0; p < PAGES; p++) file.blocks.set(p, new Uint8Array(plain.buffer.slice(p * PS, (p + 1) * PS)))
  const idx = new Int32Array(M)
  for (let k = 0; k < M; k++) idx[k] = Math.floor(rand() * N)

  const ram = new RAM({ pagesize: PS, capacity: (PAGES + 2) * PS })
  const fileh = new FileH(file, ram)
  const vma = fileh.mmap(0, PAGES)
  for (let p = 0; p < PAGES; p++) vma.getFloat64(p * PS) // read faults: all pages resident, read-only

  // Long loops: one call does the whole stream, so V8 optimizes the loop on-stack (OSR), as it would a
  // user's loop. Each returns a value that needs no type feedback after the loop (which would deopt).
  const randVma = () => {
    let s = 0
    for (let k = 0; k < M; k++) s += vma.getFloat64(idx[k] * 8)
    return s
  }
  const randPlain = () => {
    let s = 0
    for (let k = 0; k < M; k++) s += plain[idx[k]]
    return s
  }
  // Control: the plain loop plus a call that is never taken. V8 keeps the loop-carried sum of an OSR'd
  // loop boxed (a heap number per iteration) once the loop body contains a call, taken or not.
  const side = (i: number) => i & 1
  const randPlainCall = () => {
    let s = 0
    for (let k = 0; k < M; k++) {
      let i = idx[k]
      if (i < 0) i = side(i)
      s += plain[i]
    }
    return s
  }
  const seqVma = () => {
    let s = 0
    for (let off = 0; off < BYTES; off += 8) s += vma.getFloat64(off)
    return s
  }
  const seqPlain = () => {
    let s = 0
    for (let i = 0; i < N; i++) s += plain[i]
    return s
  }
  const seqPin = () => {
    let s = 0
    for (let p = 0; p < PAGES; p++) {
      using pin = vma.pin(p * PS, PS)
      const v = pin.view(Float64Array)
      for (let j = 0; j < v.length; j++) s += v[j]
    }
    return s
  }
  const wrVma = () => {
    for (let k = 0; k < M; k++) vma.setFloat64(idx[k] * 8, k)
    return 0
  }
  const wrPlain = () => {
    for (let k = 0; k < M; k++) plain[idx[k]] = k
    return 0
  }
  // Chunked: the same loops over CHUNK elements per call, called many times, so the loop function is
  // optimized as a whole on entry (no OSR).
  function randVmaC(a: number, b: number) {
    let s = 0
    for (let k = a; k < b; k++) s += vma.getFloat64(idx[k] * 8)
    return s
  }
  function randPlainC(a: number, b: number) {
    let s = 0
    for (let k = a; k < b; k++) s += plain[idx[k]]
    return s
  }
  function seqVmaC(a: number, b: number) {
    let s = 0
    for (let off = a * 8; off < b * 8; off += 8) s += vma.getFloat64(off)
    return s
  }
  function seqPlainC(a: number, b: number) {
    let s = 0
    for (let i = a; i < b; i++) s += plain[i]
    return s
  }
  function wrVmaC(a: number, b: number) {
    for (let k = a; k < b; k++) vma.setFloat64(idx[k] * 8, k)
    return 0
  }
  function wrPlainC(a: number, b: number) {
    for (let k = a; k < b; k++) plain[idx[k]] = k
    return 0
  }
  const chunked = (fn: (a: number, b: number) => number, n: number) => () => {
    let s = 0
    for (let c = 0; c < n; c += CHUNK) s += fn(c, c + CHUNK)
    return s
  }
  const randVmaCh = chunked(randVmaC, M)
  const randPlainCh = chunked(randPlainC, M)
  const seqVmaCh = chunked(seqVmaC, N)
  const seqPlainCh = chunked(seqPlainC, N)
  const wrVmaCh = chunked(wrVmaC, M)
  const wrPlainCh = chunked(wrPlainC, M)

  // Same answers before timing anything (sums of the same values in the same order).
  const faultsBefore = ram.counters.faults
  const same =
    randVma() === randPlain() &&
    randVmaCh() === randPlainCh() &&
    seqVma() === seqPlain() &&
    seqVmaCh() === seqPlainCh() &&
    seqPin() === seqPlain()
  console.log(`checksums equal: ${same}`)

  const [rv, rp, rpx] = measureSpread([randVma, randPlain, randPlainCall], M)
  const [sv, sp, pv] = measureSpread([seqVma, seqPlain, seqPin], N)
  const [rvc, rpc] = measureSpread([randVmaCh, randPlainCh], M)
  const [svc, spc] = measureSpread([seqVmaCh, seqPlainCh], N)
  // Write faults (same values written back): every mapping becomes writable, so the writes below hit.
  for (let p = 0; p < PAGES; p++) vma.setFloat64(p * PS, plain[(p * PS) / 8])
  const faultsAfterWriteFault = ram.counters.faults
  const [wv, wp] = measureSpread([wrVma, wrPlain], M)
  const [wvc, wpc] = measureSpread([wrVmaCh, wrPlainCh], M)
  const faultsInTimedLoops = ram.counters.faults - faultsAfterWriteFault
  console.log(
    `faults during the timed write loops: ${faultsInTimedLoops}; during read loops: ${
      faultsAfterWriteFault - faultsBefore - PAGES
    } (expected 0 and 0)\n`,
  )

  const r = (x: Spread, y: Spread) => fmtRatio(x.median, y.median)
  table(
    ['case', 'vma', 'plain', 'ratio', 'target'],
    [
      ['(a) random read  getFloat64', fmtSpread(rv), fmtSpread(rp), r(rv, rp), '≤ 1.5×'],
      ['(a) control: plain + cold call', fmtSpread(rpx), fmtSpread(rp), r(rpx, rp), ''],
      ['(b) sequential   getFloat64', fmtSpread(sv), fmtSpread(sp), r(sv, sp), '≤ 1.2×'],
      ['(c) sequential   pin+view', fmtSpread(pv), fmtSpread(sp), r(pv, sp), '≤ 1.2×'],
      ['(d) random write setFloat64', fmtSpread(wv), fmtSpread(wp), r(wv, wp), '≤ 1.5×'],
      [`(a) random read, chunked ${CHUNK}`, fmtSpread(rvc), fmtSpread(rpc), r(rvc, rpc), '≤ 1.5×'],
      [`(b) sequential,  chunked ${CHUNK}`, fmtSpread(svc), fmtSpread(spc), r(svc, spc), '≤ 1.2×'],
      [`(d) random write, chunked ${CHUNK}`, fmtSpread(wvc), fmtSpread(wpc), r(wvc, wpc), '≤ 1.5×'],
    ],
  )
  console.log('(ns per element; ratio = vma / plain medians, measured in the same run, round-robin)')
  console.log('(long loops are optimized on-stack (OSR); chunked loops run as whole optimized functions)\n')

  // Allocation: V8's GC profiler reports the heap before and after each collection, so the bytes
  // allocated during a loop are (heap at end - heap at start) + everything the collections freed.
  const REPEAT = 3 // 12M hits
  const loops: [string, () => unknown, number][] = [
    ['random read getFloat64', randVma, M],
    ['random read plain', randPlain, M],
    ['random read plain + cold call', randPlainCall, M],
    ['sequential getFloat64', seqVma, N],
    ['sequential plain', seqPlain, N],
    ['sequential pin+view', seqPin, N],
    ['random write setFloat64', wrVma, M],
    ['random read getFloat64, chunked', randVmaCh, M],
    ['sequential getFloat64, chunked', seqVmaCh, N],
    ['random write setFloat64, chunked', wrVmaCh, M],
  ]
  const box: unknown[] = new Array(1024)
  const control = () => {
    let s = 0
    for (let k = 0; k < M; k++) {
      const o = { v: plain[idx[k]] }
      box[k & 1023] = o // escapes: allocated for real
      s += o.v
    }
    return s
  }
  loops.push(['control: allocates {v} per hit', control, M])
  control()
  const rows: string[][] = []
  for (const [name, fn, n] of loops) {
    const hits = REPEAT * n
    const { bytes, gcs } = allocated(() => {
      for (let r = 0; r < REPEAT; r++) consume(fn())
    })
    rows.push([name, String(hits), String(gcs), String(bytes), (bytes / hits).toFixed(3)])
  }
  table(['loop (warm)', 'hits', 'GCs', 'bytes allocated', 'bytes/hit'], rows)
  console.log(
    '(16 bytes/hit = one heap number per iteration: in a loop optimized on-stack (OSR), V8 keeps the',
  )
  console.log(
    ' loop-carried sum boxed once the loop body holds a call, taken or not - the accessor slow path here,',
  )
  console.log(
    ' see "plain + cold call". Chunked loops do not box; chunked figures include one boxed return per call.)',
  )
  console.log('(pin+view allocates per page, not per element: a Pin, its page list and the typed array)\n')

  vma.unmap()
  fileh.close()
  return Promise.resolve()
}

function allocated(fn: () => void): { bytes: number; gcs: number } {
  const prof = new GCProfiler()
  prof.start()
  const h0 = getHeapStatistics().used_heap_size
  fn()
  const h1 = getHeapStatistics().used_heap_size
  const stats = prof.stop()?.statistics ?? []
  let freed = 0
  for (const s of stats)
    freed += s.beforeGC.heapStatistics.usedHeapSize - s.afterGC.heapStatistics.usedHeapSize
  return { bytes: Math.max(0, h1 - h0 + freed), gcs: stats.length }
}

if (import.meta.main) await main()
