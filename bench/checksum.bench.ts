/**
 * The cost of the block checksums (issues 11, 13): a sequential scan (`BigArray.sum`) of a database array
 * with the checksum verified on every load, against the same scan with verification skipped (the internal
 * `_skipVerify` option), in interleaved rounds over the same file, RAM smaller than the data so every
 * round loads every block. Then the candidate checksums alone on one block, as speed relative to node:zlib
 * crc32 (the bundled zlib's, the block checksum before issue 13): a plain copy, md5, xxh32-style lanes in
 * JS (4 and 8 lanes in locals; blockHash's 32-lane fallback), the WebAssembly SIMD module with 16 and 64
 * lanes (stripes only), and blockHash copied into WebAssembly memory and in place (the block in a RAM
 * arena that is a WebAssembly memory). Medians with min/max; never asserts timings.
 *
 * BIGFILE_BENCH_DATA (default 256MiB), BENCH_ROUNDS (default 7).
 */
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { blockhashWasm } from '../scripts/blockhash-wasm.ts'
import { BigArray } from '../src/array/index.ts'
import { parseSize } from '../src/cli/size.ts'
import { fillChunked } from '../src/cli/workload.ts'
import { openDatabase } from '../src/db/index.ts'
import { blockHash, wasmArena } from '../src/util/blockhash.ts'
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

const P1 = 0x9e3779b1
const P2 = 0x85ebca77

/** (b) xxh32-style lanes in plain JS over an Int32Array view: 4 lanes in locals. */
function js4(w: Int32Array): number {
  let a = 1
  let b = 2
  let c = 3
  let d = 4
  for (let i = 0; i < w.length; i += 4) {
    a = (a + Math.imul(w[i], P2)) | 0
    a = Math.imul((a << 13) | (a >>> 19), P1)
    b = (b + Math.imul(w[i + 1], P2)) | 0
    b = Math.imul((b << 13) | (b >>> 19), P1)
    c = (c + Math.imul(w[i + 2], P2)) | 0
    c = Math.imul((c << 13) | (c >>> 19), P1)
    d = (d + Math.imul(w[i + 3], P2)) | 0
    d = Math.imul((d << 13) | (d >>> 19), P1)
  }
  return (a ^ b ^ c ^ d) >>> 0
}

/** (b) The same with 8 lanes in locals. */
function js8(w: Int32Array): number {
  let a = 1
  let b = 2
  let c = 3
  let d = 4
  let e = 5
  let f = 6
  let g = 7
  let h = 8
  for (let i = 0; i < w.length; i += 8) {
    a = (a + Math.imul(w[i], P2)) | 0
    a = Math.imul((a << 13) | (a >>> 19), P1)
    b = (b + Math.imul(w[i + 1], P2)) | 0
    b = Math.imul((b << 13) | (b >>> 19), P1)
    c = (c + Math.imul(w[i + 2], P2)) | 0
    c = Math.imul((c << 13) | (c >>> 19), P1)
    d = (d + Math.imul(w[i + 3], P2)) | 0
    d = Math.imul((d << 13) | (d >>> 19), P1)
    e = (e + Math.imul(w[i + 4], P2)) | 0
    e = Math.imul((e << 13) | (e >>> 19), P1)
    f = (f + Math.imul(w[i + 5], P2)) | 0
    f = Math.imul((f << 13) | (f >>> 19), P1)
    g = (g + Math.imul(w[i + 6], P2)) | 0
    g = Math.imul((g << 13) | (g >>> 19), P1)
    h = (h + Math.imul(w[i + 7], P2)) | 0
    h = Math.imul((h << 13) | (h >>> 19), P1)
  }
  return (a ^ b ^ c ^ d ^ e ^ f ^ g ^ h) >>> 0
}

interface Wasm {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { exports: { hash(ptr: number, n: number): number } }
  Memory: new (limits: { initial: number; maximum: number }) => { buffer: ArrayBuffer }
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly

/** (c2) The module with `lanes` lanes hashing a copy of `buf` in its own memory: the stripes only. */
function wasmLanes(lanes: number, buf: Uint8Array): () => number {
  const pages = Math.ceil(buf.length / 65536)
  const mem = new wasm.Memory({ initial: pages, maximum: pages })
  new Uint8Array(mem.buffer).set(buf)
  const { hash } = new wasm.Instance(new wasm.Module(blockhashWasm(lanes)), { env: { mem } }).exports
  const n = buf.length / (4 * lanes)
  return () => hash(0, n)
}

function hashBench(size: number): string[][] {
  const buf = new Uint8Array(size)
  for (let i = 0; i < size; i++) buf[i] = (i * 2654435761) >>> 24
  const dst = new Uint8Array(size)
  const words = new Int32Array(buf.buffer)
  const arena = new Uint8Array(wasmArena(size)!)
  arena.set(buf)
  const fns: [string, () => unknown][] = [
    ['zlib.crc32 (CRC-32 checksums before)', () => crc32(buf)],
    ['copy (the load itself)', () => dst.set(buf)],
    ['md5', () => createHash('md5').update(buf).digest()],
    ['JS, 4 lanes in locals', () => js4(words)],
    ['JS, 8 lanes in locals', () => js8(words)],
    ['blockHash in JS (32 lanes, the fallback)', () => blockHash(buf, 1, 2, 3, 'js')],
    ['WebAssembly SIMD, 16 lanes, in place', wasmLanes(16, buf)],
    ['WebAssembly SIMD, 64 lanes, in place', wasmLanes(64, buf)],
    ['blockHash copied into WebAssembly (c1)', () => blockHash(buf, 1, 2, 3, 'copied')],
    ['blockHash in place (c2, a RAM arena)', () => blockHash(arena, 1, 2, 3, 'inPlace')],
  ]
  const reps = Math.max(1, Math.floor((256 * MiB) / size))
  const times: number[][] = fns.map(() => [])
  for (let r = -1; r < ROUNDS; r++) {
    // Rotate who goes first, so drift favours none.
    for (let j = 0; j < fns.length; j++) {
      const i = (j + Math.max(r, 0)) % fns.length
      const f = fns[i][1]
      const t0 = performance.now()
      for (let k = 0; k < reps; k++) consume(f())
      if (r >= 0) times[i].push((performance.now() - t0) / reps)
    }
  }
  const base = median(times[0])
  return fns.map(([name], i) => {
    const x = stat(times[i])
    return [
      `${name}, ${size >> 10} KiB`,
      `${(x.med * 1000).toFixed(1)} µs`,
      `${(x.min * 1000).toFixed(1)}–${(x.max * 1000).toFixed(1)} µs`,
      `${(size / x.med / 1e6).toFixed(2)} GB/s`,
      `${(base / x.med).toFixed(2)}×`,
    ]
  })
}

const dir = mkdtempSync(join(tmpdir(), 'bigfile-bench-sum-'))
try {
  console.log(`scan of ${DATA / MiB} MiB float64 (BigArray.sum), ${ROUNDS} interleaved rounds, RAM 32 MiB:`)
  const rows: string[][] = []
  for (const bs of BLKSIZES) rows.push(...(await scanBench(dir, bs)))
  table(['', 'median', 'min–max', 'rate', 'vs not verified'], rows)
  console.log(
    `\nchecksums alone on one block (speed relative to zlib.crc32), load ${loadavg()[0].toFixed(1)}:`,
  )
  table(['', 'median', 'min–max', 'rate', 'speed vs crc32'], [...hashBench(64 << 10), ...hashBench(2 * MiB)])
} finally {
  rmSync(dir, { recursive: true, force: true })
}
