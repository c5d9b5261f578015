/**
 * Raw-file storage: what the VM and the journal cost over plain file I/O of the same bytes.
 *
 * - reload: a RAM of 64 MiB, a 256 MiB raw file, every page touched once per round (so every touch is a
 *   fault whose loadblk is one fs.readSync), against fs.readSync of the same blocks into a 64 MiB buffer.
 *   The file is in the page cache for both.
 * - commit: 32 MiB of dirty pages (random pages of the file) committed — journal write, fsync, in-place
 *   write, fsync — against writeSync of the same blocks at the same positions plus one fsync, and
 *   against that done twice (the floor for any redo journal: every byte written twice, two fsyncs).
 * - small commit: one dirty page: the latency is the fsyncs.
 * Figures are medians; ratios > 1 mean slower than plain I/O. Nothing is asserted.
 */
import {
  closeSync,
  fsyncSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RAM } from '../src/index.ts'
import { openRawFile } from '../src/rawfile/index.ts'
import { fmtRatio, measure, rng, table } from './util.ts'

const MiB = 1 << 20
const FILE = 256 * MiB
const RAM_BYTES = 64 * MiB
const DIRTY = 32 * MiB

const gbps = (bytes: number, nsPerOp: number, ops: number) => `${(bytes / (nsPerOp * ops)).toFixed(2)} GB/s`

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-rawbench-'))
  try {
    const path = join(dir, 'data.bin')
    const r = rng(1)
    const init = new Uint8Array(FILE)
    for (let i = 0; i < FILE; i += 4096) init[i] = (r() * 256) | 0
    writeFileSync(path, init)
    console.log(
      `# raw file ${FILE / MiB} MiB in ${dir}; RAM ${RAM_BYTES / MiB} MiB; median of 5 rounds after 1 warm-up\n`,
    )
    const rows: string[][] = []
    for (const ps of [64 << 10, 2 * MiB]) rows.push(...reload(path, ps))
    table(['reload (page fault → readSync)', 'VM', 'plain readSync', 'ratio'], rows)
    const crows: string[][] = []
    for (const ps of [64 << 10, 2 * MiB]) crows.push(...commit(path, ps))
    table(['commit', 'VM commit', 'write+fsync', 'ratio', '2×(write+fsync)', 'ratio'], crows)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

function label(ps: number): string {
  return ps >= MiB ? `${ps / MiB} MiB` : `${ps >> 10} KiB`
}

function reload(path: string, ps: number): string[][] {
  const ram = new RAM({ pagesize: ps, capacity: RAM_BYTES + 2 * ps })
  using rf = openRawFile(path, { ram })
  const vma = rf.mmap()
  const pages = FILE / ps
  const viaVM = () => {
    let s = 0
    for (let p = 0; p < pages; p++) s += vma.getUint8(p * ps)
    return s
  }
  const fd = openSync(path, 'r')
  const dst = new Uint8Array(RAM_BYTES)
  const frames = RAM_BYTES / ps
  const plain = () => {
    for (let p = 0; p < pages; p++) readSync(fd, dst, ((p % frames) * ps) as number, ps, p * ps)
    return dst[0]
  }
  const [tv, tp] = measure([viaVM, plain], pages, { warmup: 1, rounds: 5 })
  closeSync(fd)
  vma.unmap()
  const loadsPerTouch = ram.counters.loads / (pages * 6)
  return [
    [
      `pagesize ${label(ps)} (${loadsPerTouch.toFixed(2)} loads/touch)`,
      gbps(FILE, tv, pages),
      gbps(FILE, tp, pages),
      fmtRatio(tv, tp),
    ],
  ]
}

function commit(path: string, ps: number): string[][] {
  const ram = new RAM({ pagesize: ps, capacity: RAM_BYTES + 2 * ps })
  const rows: string[][] = []
  const pages = FILE / ps
  const r = rng(ps)
  for (const dirtyBytes of [DIRTY, ps]) {
    const n = dirtyBytes / ps
    // Distinct random pages, ascending (the order writeout uses).
    const chosen = new Set<number>()
    while (chosen.size < n) chosen.add(Math.floor(r() * pages))
    const list = [...chosen].sort((a, b) => a - b)
    let round = 0
    const rf = openRawFile(path, { ram, mode: 'rw' })
    const vma = rf.mmap()
    const dirty = () => {
      round++
      for (const p of list) vma.setUint8(p * ps + 1, round & 0xff)
    }
    const viaVM = () => rf.commit()
    const fd = openSync(path, 'r+')
    const src = new Uint8Array(ps).fill(7)
    const once = () => {
      for (const p of list) writeSync(fd, src, 0, ps, p * ps)
      fsyncSync(fd)
    }
    const twice = () => {
      once()
      once()
    }
    // Setup dirties the pages before every run; the plain runs ignore them (then the commit is bigger
    // than its own setup's: the dirty set is re-dirtied, same pages, same bytes).
    const [tv, t1, t2] = measure([viaVM, once, twice], 1, { warmup: 1, rounds: 5, setup: dirty })
    rf.abort()
    closeSync(fd)
    vma.unmap()
    rf.close()
    const what =
      dirtyBytes === ps ? `1 page of ${label(ps)}` : `${dirtyBytes / MiB} MiB, pages of ${label(ps)}`
    const fmt = (ns: number) => (dirtyBytes === ps ? `${(ns / 1e6).toFixed(2)} ms` : gbps(dirtyBytes, ns, 1))
    rows.push([what, fmt(tv), fmt(t1), fmtRatio(tv, t1), fmt(t2), fmtRatio(tv, t2)])
  }
  return rows
}

if (import.meta.main) await main()
