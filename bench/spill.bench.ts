/**
 * Dirty spill: a 1 GiB float64 fill under a 64 MiB RAM budget as ONE transaction (the dirty pages beyond
 * the budget spill to the private spill file; the commit streams them to SQLite), against the same fill
 * committed every 32 MiB (nothing spills), against writing the same bytes to a plain file with one fsync.
 * Each run is a fresh process (clean peak RSS); the three kinds run interleaved, round after round, and
 * the medians (min–max) and ratios are printed. Never asserts timings.
 *
 * Overrides: BIGFILE_BENCH_DATA (default 1GiB), BIGFILE_BENCH_RAM (default 64MiB), BIGFILE_BENCH_ROUNDS
 * (default 3).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BigArray } from '../src/array/index.ts'
import { formatBytes, parseSize } from '../src/cli/size.ts'
import { fillChunked, value } from '../src/cli/workload.ts'
import { openDatabase } from '../src/db/sqlite/open.ts'
import { RAM } from '../src/virtmem/ram.ts'
import { fmtRatio, median, table, writePlainValues } from './util.ts'

const MiB = 1 << 20
const env = process.env
const DATA = parseSize(env.BIGFILE_BENCH_DATA ?? '1GiB', 'BIGFILE_BENCH_DATA')
const BUDGET = parseSize(env.BIGFILE_BENCH_RAM ?? '64MiB', 'BIGFILE_BENCH_RAM')
const ROUNDS = Number(env.BIGFILE_BENCH_ROUNDS ?? 3)
const CHUNK = 32 * MiB
const PS = 64 << 10
const SELF = fileURLToPath(import.meta.url)

type Kind = 'one transaction' | 'commit every 32 MiB' | 'plain file + fsync'
const KINDS: Kind[] = ['one transaction', 'commit every 32 MiB', 'plain file + fsync']

interface Result {
  ms: number
  maxRss: number
  spilled: number
  spillRead: number
  commits: number
}

function inChild(kind: Kind, dir: string): Result {
  const r = spawnSync(process.execPath, [SELF, '--child', kind, dir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  if (r.status !== 0) throw new Error(`child ${kind} failed (${r.signal ?? r.status}): ${r.stdout}`)
  const lines = r.stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]) as Result
}

async function child(kind: Kind, dir: string): Promise<Result> {
  if (kind === 'plain file + fsync') {
    const t = performance.now()
    writePlainValues(join(dir, 'plain.f64'), DATA, CHUNK, value, true)
    return { ms: performance.now() - t, maxRss: maxRss(), spilled: 0, spillRead: 0, commits: 0 }
  }
  const ram = new RAM({ pagesize: PS, capacity: BUDGET, spillDir: dir })
  const db = await openDatabase(join(dir, 'fill.bigfile'))
  try {
    const conn = db.connect({ ram })
    const a = await BigArray.create(conn, 'a', { dtype: 'float64', shape: [DATA / 8], blksize: PS })
    await conn.commit()
    const t = performance.now()
    const commits = await fillChunked(conn, a, kind === 'one transaction' ? DATA : CHUNK)
    const ms = performance.now() - t
    const c = ram.counters
    return { ms, maxRss: maxRss(), spilled: c.bytesSpilled, spillRead: c.bytesSpillRead, commits }
  } finally {
    await db.close()
  }
}

const maxRss = () => process.resourceUsage().maxRSS * 1024
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const mib = (b: number) => `${Math.round(b / MiB)} MiB`

async function main(): Promise<void> {
  console.log(
    `# dirty spill: fill ${formatBytes(DATA)} of float64 under a ${formatBytes(BUDGET)} RAM budget, ` +
      `${ROUNDS} interleaved rounds, each run in a fresh process\n`,
  )
  const results = new Map<Kind, Result[]>(KINDS.map((k) => [k, []]))
  for (let r = 0; r < ROUNDS; r++) {
    for (const kind of KINDS) {
      const dir = mkdtempSync(join(tmpdir(), 'bigfile-spill-bench-'))
      try {
        results.get(kind)?.push(inChild(kind, dir))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    }
  }
  const med = (k: Kind) => median((results.get(k) ?? []).map((x) => x.ms))
  const rows = KINDS.map((k) => {
    const xs = results.get(k) ?? []
    const ms = xs.map((x) => x.ms)
    const last = xs[xs.length - 1]
    return [
      k,
      seconds(med(k)),
      `${seconds(Math.min(...ms))}–${seconds(Math.max(...ms))}`,
      `${((DATA / MiB / med(k)) * 1000).toFixed(0)} MiB/s`,
      mib(Math.max(...xs.map((x) => x.maxRss))),
      String(last.commits),
      mib(last.spilled),
      mib(last.spillRead),
    ]
  })
  table(['fill + commit', 'median', 'min–max', 'rate', 'peak RSS', 'commits', 'spilled', 'spill read'], rows)
  const one = med('one transaction')
  console.log(
    `one transaction vs commit every 32 MiB: ${fmtRatio(one, med('commit every 32 MiB'))} (target ≤ 1.50×); ` +
      `vs plain file + fsync: ${fmtRatio(one, med('plain file + fsync'))}; ` +
      `commit every 32 MiB vs plain file: ${fmtRatio(med('commit every 32 MiB'), med('plain file + fsync'))}`,
  )
}

if (import.meta.main) {
  const k = process.argv.indexOf('--child')
  if (k >= 0) {
    const out = await child(process.argv[k + 1] as Kind, process.argv[k + 2])
    console.log(JSON.stringify(out))
  } else await main()
}
