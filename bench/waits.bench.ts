/**
 * Concurrent reads that wait for frames: 10,000 `vma.read()`s started at once over an async MemoryBigFile
 * (each load answers on a later macrotask), with a RAM of 8 frames against one of 1,024 frames. With 8
 * frames nearly every read waits in the FIFO for a frame; with 1,024 most pages stay resident. Rounds are
 * interleaved (8, 1024, 8, 1024, ...); medians with min/max; the ratio is printed, never asserted.
 */
import { FileH, MemoryBigFile, RAM } from '../src/index.ts'
import { median, rng, table } from './util.ts'

const PS = 4 << 10
const PAGES = 2048
const READS = 10_000
const ROUNDS = 7
const WARMUP = 1

async function round(frames: number): Promise<{ ms: number; waits: number; loads: number }> {
  const ram = new RAM({ pagesize: PS, capacity: frames * PS, reserve: 0 })
  const file = new MemoryBigFile(PS, { async: true })
  for (let pg = 0; pg < PAGES; pg++) file.blocks.set(pg, new Uint8Array(PS).fill(pg & 0xff))
  const fh = new FileH(file, ram)
  const vma = fh.mmap(0, PAGES)
  const rand = rng(42)
  const offs = Array.from({ length: READS }, () => Math.floor(rand() * PAGES) * PS + 16)
  const t0 = performance.now()
  const got = await Promise.all(offs.map((off) => vma.read(off, 8)))
  const ms = performance.now() - t0
  got.forEach((b, k) => {
    if (b[0] !== ((offs[k] / PS) | 0) % 256) throw new Error(`read ${k} returned the wrong page`)
  })
  const { waits, loads } = ram.counters
  vma.unmap()
  fh.close()
  return { ms, waits, loads }
}

export async function main(): Promise<void> {
  console.log(
    `# ${READS} concurrent vma.read()s of random pages of ${PAGES} × ${PS >> 10} KiB, async MemoryBigFile`,
  )
  console.log(`# median of ${ROUNDS} interleaved rounds after ${WARMUP} warm-up round(s)\n`)
  const sizes = [8, 1024]
  const res = new Map<number, { ms: number[]; waits: number; loads: number }>()
  for (const f of sizes) res.set(f, { ms: [], waits: 0, loads: 0 })
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    for (const f of sizes) {
      const x = await round(f)
      if (r < WARMUP) continue
      const e = res.get(f) as { ms: number[]; waits: number; loads: number }
      e.ms.push(x.ms)
      e.waits = x.waits
      e.loads = x.loads
    }
  }
  const base = median(res.get(1024)?.ms ?? [])
  const rows = sizes.map((f) => {
    const e = res.get(f) as { ms: number[]; waits: number; loads: number }
    const m = median(e.ms)
    return [
      `${f} frames`,
      `${m.toFixed(1)} ms`,
      `${Math.min(...e.ms).toFixed(1)}–${Math.max(...e.ms).toFixed(1)} ms`,
      `${((READS / m) * 1000).toFixed(0)} reads/s`,
      `${(m / base).toFixed(2)}×`,
      `${(e.waits / READS).toFixed(2)}`,
      `${(e.loads / READS).toFixed(2)}`,
    ]
  })
  table(['RAM', 'median', 'min–max', 'throughput', 'vs 1024', 'waits/read', 'loads/read'], rows)
}

if (import.meta.main) await main()
