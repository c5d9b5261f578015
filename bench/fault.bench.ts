/**
 * Fault path: the cost of a page fault served by a synchronous MemoryBigFile, against the floor of
 * copying the same bytes (`Uint8Array.prototype.set` of one page from a source block into a frame).
 *
 * - major + reclaim: a RAM of N frames, a file of 4N pages touched in a cycle, so every touch faults,
 *   loads, and (amortized) runs CLOCK reclaim;
 * - major, no reclaim: the RAM holds all 4N pages; the pages are invalidated (untimed) between rounds;
 * - minor: every page resident, only the mapping is missing (a fresh VMA each round): no load at all.
 *
 * The touches go in page order, so the file is advised 'random': this measures one fault per page, not
 * read-ahead (bench/scan.bench.ts measures that; bench/miss.bench.ts the fixed cost of a miss).
 */
import { FileH, MemoryBigFile, RAM, type VMA } from '../src/index.ts'
import { fmtRatio, fmtUs, measure, rng, table } from './util.ts'

const RAM_BYTES = 64 << 20

export function main(): Promise<void> {
  console.log(`# fault path: synchronous MemoryBigFile; RAM of ${RAM_BYTES >> 20} MiB; file 4× the RAM`)
  console.log('# median of 7 rounds after 2 warm-up rounds; each round touches every page of the file once\n')
  const rows: string[][] = []
  for (const ps of [4 << 10, 64 << 10, 2 << 20]) rows.push(...pagesizeCase(ps))
  table(
    ['pagesize / case', 'touches', 'per fault', 'copy', 'ratio', 'target', 'loads/touch', 'reclaims/touch'],
    rows,
  )
  console.log(
    '(copy = dst.set(block, frame * pagesize) for the same blocks into a buffer the size of the RAM)',
  )
  console.log('(the 4 KiB rows are extra: there the fixed cost per fault dominates the copy)\n')
  return Promise.resolve()
}

function pagesizeCase(ps: number): string[][] {
  const frames = RAM_BYTES / ps
  const pages = 4 * frames
  const rand = rng(ps)
  const blocks: Uint8Array[] = []
  for (let p = 0; p < pages; p++) {
    const b = new Uint8Array(ps)
    for (let i = 0; i < ps; i += 4096) b[i] = (rand() * 256) | 0
    blocks.push(b)
  }
  const file = new MemoryBigFile(ps)
  for (let p = 0; p < pages; p++) file.blocks.set(p, blocks[p])
  const label = ps >= 1 << 20 ? `${ps >> 20} MiB` : `${ps >> 10} KiB`
  const rows: string[][] = []

  // Baseline: the bytes a fault must move, into a destination the size of the RAM in question.
  const copyInto = (dstFrames: number) => {
    const dst = new Uint8Array(dstFrames * ps)
    return () => {
      for (let p = 0; p < pages; p++) dst.set(blocks[p], (p % dstFrames) * ps)
      return dst[ps - 1]
    }
  }

  // major + reclaim: N frames, 4N pages, cyclic sweep: every touch is a fault with a load.
  {
    const ram = new RAM({ pagesize: ps, capacity: (frames + 2) * ps })
    const fileh = new FileH(file, ram)
    fileh.advise(0, pages, 'random')
    const vma = fileh.mmap(0, pages)
    const c = ram.counters
    const sweep = () => touchAll(vma, pages, ps)
    const l0 = c.loads
    const r0 = c.reclaims
    const [tf, tc] = measure([sweep, copyInto(frames)], pages)
    const runs = 9 // warm-up + timed rounds of the sweep
    rows.push([
      `${label}  major + reclaim`,
      String(pages),
      fmtUs(tf),
      fmtUs(tc),
      fmtRatio(tf, tc),
      '≤ 2×',
      ((c.loads - l0) / (runs * pages)).toFixed(2),
      ((c.reclaims - r0) / (runs * pages)).toFixed(2),
    ])
    close(vma, fileh)
  }

  // major, no reclaim: the RAM holds every page; invalidate them between rounds (untimed).
  // minor: every page resident, a fresh VMA per round, so each touch only installs a mapping.
  {
    const ram = new RAM({ pagesize: ps, capacity: (pages + 2) * ps })
    const fileh = new FileH(file, ram)
    fileh.advise(0, pages, 'random')
    let vma = fileh.mmap(0, pages)
    const c = ram.counters
    const sweep = () => touchAll(vma, pages, ps)
    const l0 = c.loads
    const r0 = c.reclaims
    const [tf, tc] = measure([sweep, copyInto(pages)], pages, {
      setup: () => fileh.invalidateRange(0, pages),
    })
    rows.push([
      `${label}  major, no reclaim`,
      String(pages),
      fmtUs(tf),
      fmtUs(tc),
      fmtRatio(tf, tc),
      '≤ 2×',
      ((c.loads - l0) / (9 * pages)).toFixed(2),
      ((c.reclaims - r0) / (9 * pages)).toFixed(2),
    ])
    touchAll(vma, pages, ps) // all resident again
    const l1 = c.loads
    const f1 = c.faults
    const [tm] = measure([sweep], pages, {
      setup: () => {
        vma.unmap()
        vma = fileh.mmap(0, pages)
      },
    })
    rows.push([
      `${label}  minor (map only)`,
      String(pages),
      fmtUs(tm),
      fmtUs(tc),
      fmtRatio(tm, tc),
      '',
      ((c.loads - l1) / (9 * pages)).toFixed(2),
      `${((c.faults - f1) / (9 * pages)).toFixed(2)} flt`,
    ])
    close(vma, fileh)
  }
  return rows
}

/** One read per page: each is a fault when the page is not mapped. */
function touchAll(vma: VMA, pages: number, ps: number): number {
  let s = 0
  for (let p = 0; p < pages; p++) s += vma.getUint8(p * ps)
  return s
}

function close(vma: VMA, fileh: FileH): void {
  vma.unmap()
  fileh.close()
}

if (import.meta.main) await main()
