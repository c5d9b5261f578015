/**
 * The cost of the block checksums (issue 11): a sequential scan (`BigArray.sum`) of a database array with
 * the checksum verified on every load, against the same scan with verification skipped (the internal
 * `_skipVerify` option), in interleaved rounds over the same file, RAM smaller than the data so every
 * round loads every block. Then the candidate checksums alone on one block: node:zlib crc32 (the bundled
 * zlib's) against node:crypto hashes and a plain copy. Medians with min/max; never asserts timings.
 *
 * BIGFILE_BENCH_DATA (default 256MiB), BENCH_ROUNDS (default 7).
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { BigArray } from '../src/array/index.ts'
import { parseSize } from '../src/cli/size.ts'
import { fillChunked } from '../src/cli/workload.ts'
import { openDatabase } from '../src/db/index.ts'
import { RAM } from '../src/virtmem/ram.ts'
import { consume, median, table } from './util.ts'

const MiB = 1 << 20
const DATA = parseSize(process.env.BIGFILE_BENCH_DATA ?? '256MiB', 'BIGFILE_BENCH_DATA')
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const BLKSIZES = [64 << 10, 2 * MiB]

const stat = (xs: number[]) => ({ med: median(xs), min: Math.min(...xs), max: Math.max(...xs) })
const gbs = (ms: number) => (DATA / ms / 1e6).toFixed(2)

async function scanBench(dir: string, blksize: number): Promise<string[][]> {
  const path = join(dir, `scan-${blksize}.db`)
  const pagesize = Math.max(blksize, 64 << 10)
  const ram = () => new RAM({ pagesize, capacity: Math.max(32 * MiB, 8 * pagesize), reserve: 2 })
  {
    const db = await openDatabase(path)
    const conn = db.connect({ ram: ram() })
    const a = await BigArray.create(conn, 'a', { dtype: 'float64', shape: [DATA / 8], blksize })
    await conn.commit()
    await fillChunked(conn, a, 16 * MiB)
    await db.close()
  }
  const sides = [
    { name: 'verified', skip: false, times: [] as number[] },
    { name: 'not verified', skip: true, times: [] as number[] },
  ]
  const dbs = await Promise.all(sides.map((s) => openDatabase(path, { readOnly: true, _skipVerify: s.skip })))
  try {
    for (let r = -1; r < ROUNDS; r++) {
      // Alternate who goes first, so drift and the page cache favour neither.
      const order = r % 2 ? [0, 1] : [1, 0]
      for (const i of order) {
        const conn = dbs[i].connect({ ram: ram() })
        const a = await BigArray.open(conn, 'a')
        const t0 = performance.now()
        consume(await a.sum())
        const dt = performance.now() - t0
        if (r >= 0) sides[i].times.push(dt)
        conn[Symbol.dispose]()
      }
    }
  } finally {
    for (const db of dbs) await db.close()
  }
  const base = stat(sides[1].times)
  return sides.map((s) => {
    const x = stat(s.times)
    return [
      `scan ${blksize >> 10} KiB blocks, ${s.name}`,
      `${x.med.toFixed(0)} ms`,
      `${x.min.toFixed(0)}–${x.max.toFixed(0)} ms`,
      `${gbs(x.med)} GB/s`,
      `${(x.med / base.med).toFixed(3)}×`,
    ]
  })
}

function hashBench(size: number): string[][] {
  const buf = new Uint8Array(size)
  for (let i = 0; i < size; i++) buf[i] = (i * 2654435761) >>> 24
  const dst = new Uint8Array(size)
  const fns: [string, () => unknown][] = [
    ['copy (the load itself)', () => dst.set(buf)],
    ['zlib.crc32', () => crc32(buf)],
    ['sha1', () => createHash('sha1').update(buf).digest()],
    ['sha256', () => createHash('sha256').update(buf).digest()],
    ['md5', () => createHash('md5').update(buf).digest()],
  ]
  const reps = Math.max(1, Math.floor((256 * MiB) / size))
  const times: number[][] = fns.map(() => [])
  for (let r = -1; r < ROUNDS; r++) {
    fns.forEach(([, f], i) => {
      const t0 = performance.now()
      for (let k = 0; k < reps; k++) consume(f())
      if (r >= 0) times[i].push((performance.now() - t0) / reps)
    })
  }
  const base = median(times[0])
  return fns.map(([name], i) => {
    const x = stat(times[i])
    return [
      `${name}, ${size >> 10} KiB`,
      `${(x.med * 1000).toFixed(1)} µs`,
      `${(x.min * 1000).toFixed(1)}–${(x.max * 1000).toFixed(1)} µs`,
      `${(size / x.med / 1e6).toFixed(2)} GB/s`,
      `${(x.med / base).toFixed(2)}×`,
    ]
  })
}

const dir = mkdtempSync(join(tmpdir(), 'bigfile-bench-sum-'))
try {
  console.log(`scan of ${DATA / MiB} MiB float64 (BigArray.sum), ${ROUNDS} interleaved rounds, RAM 32 MiB:`)
  const rows: string[][] = []
  for (const bs of BLKSIZES) rows.push(...(await scanBench(dir, bs)))
  table(['', 'median', 'min–max', 'rate', 'vs not verified'], rows)
  console.log('\nchecksums alone on one block (ratio to a copy of the block):')
  table(['', 'median', 'min–max', 'rate', 'vs copy'], [...hashBench(64 << 10), ...hashBench(2 * MiB)])
} finally {
  rmSync(dir, { recursive: true, force: true })
}
