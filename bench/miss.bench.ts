/**
 * The miss path (issue 13, part 3): the fixed cost a fault pays beyond its I/O. A synchronous in-memory
 * storage (MemoryBigFile: a Map of blocks) makes the I/O a plain copy, so what is left is allocation,
 * reclaim, notifier and bookkeeping work. Baseline, in the same run: the same copies done by hand — look
 * the block up in a Map and `set` it into a frame of a buffer the size of the RAM.
 *
 * Every touch misses: a RAM of N frames, a file of 4N pages read in a random order (advised 'random', so
 * no read-ahead), each miss paying (amortized) one CLOCK batch. Interleaved rounds, medians with min/max.
 */
import { FileH, MemoryBigFile, RAM } from '../src/index.ts'
import { fmtRatio, fmtUs, median, rng, table } from './util.ts'

const RAM_BYTES = 32 << 20
const ROUNDS = 9

export function main(): void {
  console.log(
    `# miss path: synchronous MemoryBigFile, RAM of ${RAM_BYTES >> 20} MiB, file 4× the RAM, random order`,
  )
  console.log(`# ${ROUNDS} interleaved rounds after 2 warm-up rounds: median (min–max) per miss\n`)
  const rows: string[][] = []
  for (const ps of [4 << 10, 64 << 10]) rows.push(pagesizeCase(ps))
  table(['pagesize', 'misses', 'per miss', 'copy from a Map', 'ratio', 'fixed cost', 'loads/miss'], rows)
}

function pagesizeCase(ps: number): string[] {
  const frames = RAM_BYTES / ps
  const pages = 4 * frames
  const rand = rng(ps + 1)
  const file = new MemoryBigFile(ps)
  for (let p = 0; p < pages; p++) {
    const b = new Uint8Array(ps)
    for (let i = 0; i < ps; i += 512) b[i] = (rand() * 256) | 0
    file.blocks.set(p, b)
  }
  const order = new Int32Array(pages)
  for (let i = 0; i < pages; i++) order[i] = i
  for (let i = pages - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1))
    const t = order[i]
    order[i] = order[j]
    order[j] = t
  }
  const ram = new RAM({ pagesize: ps, capacity: (frames + 2) * ps })
  const fileh = new FileH(file, ram)
  fileh.advise(0, pages, 'random')
  const vma = fileh.mmap(0, pages)
  const misses = () => {
    let s = 0
    for (let k = 0; k < pages; k++) s += vma.getUint8(order[k] * ps)
    return s
  }
  const dst = new Uint8Array(frames * ps)
  const copies = () => {
    let s = 0
    for (let k = 0; k < pages; k++) {
      const p = order[k]
      const at = (k % frames) * ps
      dst.set(file.blocks.get(p) as Uint8Array, at)
      s += dst[at]
    }
    return s
  }
  const tm: number[] = []
  const tc: number[] = []
  const l0 = ram.counters.loads
  let runs = 0
  for (let r = 0; r < ROUNDS + 2; r++) {
    // the RAM starts every round full of the previous round's pages: every touch misses and reclaims
    for (const [fn, out] of [
      [misses, tm],
      [copies, tc],
    ] as const) {
      const t0 = performance.now()
      fn()
      const dt = ((performance.now() - t0) * 1e6) / pages
      if (fn === misses) runs++
      if (r >= 2) out.push(dt)
    }
  }
  const m = median(tm)
  const c = median(tc)
  const span = (xs: number[]) => `${fmtUs(Math.min(...xs))}–${fmtUs(Math.max(...xs))}`
  const label = `${ps >> 10} KiB`
  const row = [
    label,
    String(pages),
    `${fmtUs(m)} (${span(tm)})`,
    `${fmtUs(c)} (${span(tc)})`,
    fmtRatio(m, c),
    fmtUs(m - c),
    ((ram.counters.loads - l0) / (runs * pages)).toFixed(2),
  ]
  vma.unmap()
  fileh.close()
  return row
}

if (import.meta.main) main()
