import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs'

/** Tiny benchmark helpers: timing with warm-up, medians, formatting. Benchmarks print; they never assert. */

let sink: unknown
/** Keeps a result alive so the JIT cannot drop the work that produced it. */
export function consume(v: unknown): void {
  sink = v
}

export interface MeasureOptions {
  /** Untimed runs of each function first. Default 2. */
  warmup?: number
  /** Timed runs of each function; the median is reported. Default 7. */
  rounds?: number
  /** Called (untimed) before every run of every function. */
  setup?: () => void
}

/**
 * Times each of `fns` (each performs `ops` operations per call) round-robin, so that drift on a busy
 * machine hits them alike, and returns the median ns per operation of each, in order.
 */
export function measure(
  fns: readonly (() => unknown)[],
  ops: number,
  options: MeasureOptions = {},
): number[] {
  const { warmup = 2, rounds = 7, setup } = options
  const times: number[][] = fns.map(() => [])
  for (let r = 0; r < warmup + rounds; r++) {
    fns.forEach((fn, i) => {
      setup?.()
      const t0 = performance.now()
      consume(fn())
      const dt = performance.now() - t0
      if (r >= warmup) times[i].push((dt * 1e6) / ops)
    })
  }
  return times.map(median)
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/** Median, least and greatest of a set of timings. */
export interface Spread {
  median: number
  min: number
  max: number
}

/**
 * `measure`, keeping the spread: for each of `fns` (round-robin, `ops` operations per call) the median,
 * least and greatest ns per operation over the timed rounds, timed in CPU time of this process (user +
 * system), so that time spent descheduled on a loaded machine does not count.
 */
export function measureSpread(
  fns: readonly (() => unknown)[],
  ops: number,
  options: MeasureOptions = {},
): Spread[] {
  const { warmup = 2, rounds = 7, setup } = options
  const times: number[][] = fns.map(() => [])
  for (let r = 0; r < warmup + rounds; r++) {
    fns.forEach((fn, i) => {
      setup?.()
      const t0 = process.cpuUsage()
      consume(fn())
      const dt = process.cpuUsage(t0)
      if (r >= warmup) times[i].push(((dt.user + dt.system) * 1e3) / ops)
    })
  }
  return times.map((t) => ({ median: median(t), min: Math.min(...t), max: Math.max(...t) }))
}

/** `median ns (min–max)`. */
export function fmtSpread(s: Spread): string {
  return `${fmtNs(s.median)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`
}

export function fmtNs(ns: number): string {
  return ns < 10 ? `${ns.toFixed(2)} ns` : ns < 1e4 ? `${ns.toFixed(1)} ns` : `${(ns / 1e3).toFixed(1)} µs`
}

export function fmtUs(ns: number): string {
  return `${(ns / 1e3).toFixed(2)} µs`
}

export function fmtRatio(x: number, base: number): string {
  return `${(x / base).toFixed(2)}×`
}

/** Prints rows as an aligned table (first column left-aligned, the others right-aligned). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const all = [header, ...rows]
  const w = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)))
  const line = (r: readonly string[]) =>
    r.map((s, c) => (c === 0 ? s.padEnd(w[c]) : s.padStart(w[c]))).join('  ')
  console.log(line(header))
  console.log(w.map((n) => '-'.repeat(n)).join('  '))
  for (const r of rows) console.log(line(r))
  console.log()
}

export { rng } from '../src/util/rng.ts'

/**
 * Writes `bytes` bytes of the workload's float64 values (element i = `value(i)`) to a new plain file,
 * `chunk` bytes per write, and fsyncs it once when `fsync` is set: the baseline array benches compare with.
 */
export function writePlainValues(
  file: string,
  bytes: number,
  chunk: number,
  value: (i: number) => number,
  fsync: boolean,
): void {
  const fd = openSync(file, 'w')
  const buf = new Float64Array(chunk / 8)
  try {
    for (let i0 = 0; i0 < bytes / 8; i0 += buf.length) {
      const n = Math.min(buf.length, bytes / 8 - i0)
      for (let j = 0; j < n; j++) buf[j] = value(i0 + j)
      const b = new Uint8Array(buf.buffer, 0, n * 8)
      for (let at = 0; at < b.length; ) at += writeSync(fd, b, at)
    }
    if (fsync) fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Used by `consume`; exported so that nothing can prove the sink dead. */
export function sunk(): unknown {
  return sink
}
