/**
 * A sequential scan 4× the budget (issue 13, part 2): `sum()` of a float64 array over a plain file read
 * with pread (a BigFile with `loadblks`, so a read-ahead window is one `readSync` straight into the
 * frames), with read-ahead and drop-behind (the default) and without (`readahead: false`), against the
 * JS limit in the same run: `readSync` of the same bytes, 2 MiB at a time, into one buffer, and a sum.
 * The same scans again over the file read asynchronously (`fs.read`), where a window is also read ahead
 * in the background when the scan reaches its trigger page. The OS cache is warm (the file was just written). Before every scan, a hot set of pages of another
 * file (an eighth of the frames, at most 16) is made resident; the table says how many the scan left.
 *
 * Then the arena (part 5): RSS right after `new RAM({ capacity: 4 GiB })`, and after the first touch of
 * 64 MiB of it.
 *
 * Overrides: BIGFILE_BENCH_RAM (default 64MiB; the file is 4× it), BIGFILE_BENCH_ROUNDS (default 5).
 * Interleaved rounds, medians with min–max; prints figures, never asserts timings.
 */
import { closeSync, mkdtempSync, openSync, read, readSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BigArray } from '../src/array/index.ts'
import { parseSize } from '../src/cli/size.ts'
import { type BigFile, FileH, MemoryBigFile, RAM } from '../src/index.ts'
import { fmtRatio, median, table, writePlainValues } from './util.ts'

const MiB = 1 << 20
const budget = parseSize(process.env.BIGFILE_BENCH_RAM ?? '64MiB', 'BIGFILE_BENCH_RAM')
const rounds = Number(process.env.BIGFILE_BENCH_ROUNDS ?? 5)
const bytes = 4 * budget
const value = (i: number) => (i % 1000) * 0.5

/** A plain file read with pread: one `readSync` per block, or per run of blocks. */
class PreadFile implements BigFile {
  readonly blksize: number
  readonly #fd: number
  constructor(fd: number, blksize: number) {
    this.#fd = fd
    this.blksize = blksize
  }
  loadblk(blk: number, buf: Uint8Array): void {
    this.loadblks(blk, 1, buf)
  }
  loadblks(blk: number, count: number, buf: Uint8Array): void {
    const len = count * this.blksize
    let at = 0
    while (at < len) {
      const n = readSync(this.#fd, buf, at, len - at, blk * this.blksize + at)
      if (n === 0) break
      at += n
    }
    buf.fill(0, at, len)
  }
  storeblk(): void {
    throw new Error('read-only')
  }
}

/** The same file read asynchronously (`fs.read` on libuv's pool): loads in flight, read-ahead in the background. */
class AsyncPreadFile implements BigFile {
  readonly blksize: number
  readonly #fd: number
  constructor(fd: number, blksize: number) {
    this.#fd = fd
    this.blksize = blksize
  }
  loadblk(blk: number, buf: Uint8Array): Promise<void> {
    return this.loadblks(blk, 1, buf)
  }
  async loadblks(blk: number, count: number, buf: Uint8Array): Promise<void> {
    const len = count * this.blksize
    let at = 0
    while (at < len) {
      const n = await readAsync(this.#fd, buf.subarray(at, len), blk * this.blksize + at)
      if (n === 0) break
      at += n
    }
    buf.fill(0, at, len)
  }
  storeblk(): void {
    throw new Error('read-only')
  }
}

function readAsync(fd: number, buf: Uint8Array, pos: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buf, 0, buf.length, pos, (e, n) => (e ? reject(e) : resolve(n))),
  )
}

interface Row {
  ms: number[]
  hot: number[]
  loads: number
  multi: number
  drop: number
  /** Windows read ahead in the background (asynchronous storages only). */
  ahead: number
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-scan-'))
  const path = join(dir, 'data.f64')
  try {
    writePlainValues(path, bytes, 4 * MiB, value, false)
    const fd = openSync(path, 'r')
    console.log(
      `# sequential sum of ${bytes / MiB} MiB of float64 through a ${budget / MiB} MiB RAM (pread storage, warm OS cache)`,
    )
    console.log(`# ${rounds} interleaved rounds after 1 warm-up: median (min–max)\n`)
    let want = 0
    for (let i = 0; i < bytes / 8; i++) want += value(i)
    const rows: string[][] = []
    for (const ps of [64 << 10, 2 << 20]) rows.push(...(await pagesizeCase(fd, ps, want)))
    table(
      [
        'pagesize / scan',
        'time',
        'GB/s',
        '÷ readSync',
        'loads',
        'in loadblks',
        'drop-behind',
        'hot set left',
      ],
      rows,
    )
    closeSync(fd)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  arena()
}

async function pagesizeCase(fd: number, ps: number, want: number): Promise<string[][]> {
  const n = bytes / 8
  const buf = new Float64Array((2 * MiB) / 8)
  const u8 = new Uint8Array(buf.buffer)
  const plain = (): number => {
    let s = 0
    for (let off = 0; off < bytes; off += u8.length) {
      readSync(fd, u8, 0, u8.length, off)
      let t = 0
      for (let i = 0; i < buf.length; i++) t += buf[i]
      s += t
    }
    return s
  }
  const ram = new RAM({ pagesize: ps, capacity: budget + 2 * ps })
  const hotFile = new MemoryBigFile(ps)
  const hotFh = new FileH(hotFile, ram)
  const nhot = Math.min(16, ram.frames >> 3)
  const hotVma = hotFh.mmap(0, nhot)
  const scan = (readahead: boolean, async: boolean) => {
    const file = async ? new AsyncPreadFile(fd, ps) : new PreadFile(fd, ps)
    const fh = new FileH(file, ram, { readahead })
    const a = BigArray.over(fh, { dtype: 'float64', shape: [n] })
    return { fh, a }
  }
  const kinds = [
    { name: 'readSync 2 MiB + sum', row: newRow(), run: async () => plain() },
    ...[
      [true, false],
      [false, false],
      [true, true],
      [false, true],
    ].map(([ra, async]) => {
      const row = newRow()
      return {
        name: `bigfile${async ? ' async pread' : ''}, ${ra ? 'read-ahead + drop-behind' : 'one page per fault'}`,
        row,
        run: async () => {
          for (let pg = 0; pg < nhot; pg++) hotVma.getUint8(((pg * 7) % nhot) * ps)
          const { fh, a } = scan(ra, async)
          const s = await a.sum()
          row.hot.push(hotFh.residentPages().length)
          row.loads = fh.counters.loads
          row.multi = fh.counters.multiLoads
          row.drop = fh.counters.dropBehind
          row.ahead = fh.counters.readaheadAsync
          a.close()
          fh.close()
          return s
        },
      }
    }),
  ]
  for (let r = 0; r < rounds + 1; r++) {
    for (const k of kinds) {
      const t0 = performance.now()
      const s = await k.run()
      const dt = performance.now() - t0
      if (Math.abs(s - want) > 1e-6 * Math.abs(want)) throw new Error(`${k.name}: sum ${s}, want ${want}`)
      if (r > 0) k.row.ms.push(dt)
    }
  }
  const base = median(kinds[0].row.ms)
  const label = ps >= MiB ? `${ps / MiB} MiB` : `${ps >> 10} KiB`
  return kinds.map((k, i) => {
    const m = median(k.row.ms)
    return [
      `${label}  ${k.name}`,
      `${m.toFixed(0)} ms (${Math.min(...k.row.ms).toFixed(0)}–${Math.max(...k.row.ms).toFixed(0)})`,
      (bytes / m / 1e6).toFixed(2),
      fmtRatio(m, base),
      i === 0 ? '' : String(k.row.loads),
      i === 0
        ? ''
        : `${k.row.loads && k.row.multi ? 'yes' : 'no'} (${k.row.multi} calls, ${k.row.ahead} in background)`,
      i === 0 ? '' : String(k.row.drop),
      i === 0 ? '' : `${median(k.row.hot)} / ${nhot}`,
    ]
  })
}

function newRow(): Row {
  return { ms: [], hot: [], loads: 0, multi: 0, drop: 0, ahead: 0 }
}

/** RSS of a fresh 4 GiB arena, and after the first touch of 64 MiB of it (in 1024 frames of 64 KiB). */
function arena(): void {
  const rss = () => process.memoryUsage().rss / MiB
  const r0 = rss()
  let t0 = performance.now()
  const ram = new RAM({ capacity: 4 * 1024 * MiB, pagesize: 64 << 10 })
  const tNew = performance.now() - t0
  const r1 = rss()
  t0 = performance.now()
  for (let f = 0; f < 1024; f++) ram.frameBytes(f).fill(1)
  const tTouch = performance.now() - t0
  const r2 = rss()
  t0 = performance.now()
  for (let f = 0; f < 1024; f++) ram.frameBytes(f).fill(2)
  const tHot = performance.now() - t0
  console.log('# the arena: committed by the OS page by page, on first touch')
  table(
    ['step', 'RSS change', 'time'],
    [
      ['new RAM({ capacity: 4 GiB })', `${(r1 - r0).toFixed(1)} MiB`, `${tNew.toFixed(1)} ms`],
      ['first touch of 64 MiB (1024 frames)', `${(r2 - r1).toFixed(1)} MiB`, `${tTouch.toFixed(1)} ms`],
      ['the same 64 MiB again (hot)', '', `${tHot.toFixed(1)} ms`],
    ],
  )
}

if (import.meta.main) await main()
