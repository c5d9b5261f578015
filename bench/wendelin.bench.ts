/**
 * The wendelin.core workload: a 1 GiB float64 array in 2 MiB blocks, filled 32 MiB per commit; then,
 * each in a fresh process so that memory figures are clean, a sequential sum, 100,000 random
 * single-element reads and 1,000 random single-element changes committed in one transaction — with a
 * RAM budget bigger than the data (1.5 GiB) and with 256 MiB. With 2 MiB blocks in 256 MiB the
 * scattered changes dirty ~400 blocks (~800 MiB), 3× the budget: they spill, and the commit streams them
 * (wendelin.core itself aborts there with `OOM BUG!`). Then all of it again with 64 KiB blocks. The sequential scan is
 * compared with reading the same bytes from a plain file into a Float64Array and summing it.
 *
 * Overrides for a quick run: BIGFILE_BENCH_DATA (e.g. 256MiB), BIGFILE_BENCH_RAM_BIG (default 1.5 ×
 * data), BIGFILE_BENCH_RAM_SMALL (default min(256MiB, data / 4)), BIGFILE_BENCH_READS,
 * BIGFILE_BENCH_CHANGES. Prints figures; never asserts timings.
 */
import { spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BigArray } from '../src/array/index.ts'
import { printPhases } from '../src/cli/commands/bench.ts'
import { MemorySampler } from '../src/cli/memory.ts'
import { type PhaseResult, readPhases, timePhase } from '../src/cli/phases.ts'
import { makeRam, pagesizeFor } from '../src/cli/session.ts'
import { formatBytes, formatRate, parseSize } from '../src/cli/size.ts'
import { fillChunked, formulaSum, value } from '../src/cli/workload.ts'
import { openDatabase } from '../src/db/sqlite/open.ts'
import { fmtRatio, table, writePlainValues } from './util.ts'

const MiB = 1 << 20
const env = process.env
const DATA = parseSize(env.BIGFILE_BENCH_DATA ?? '1GiB', 'BIGFILE_BENCH_DATA')
const RAM_BIG = parseSize(env.BIGFILE_BENCH_RAM_BIG ?? String(Math.ceil((DATA * 1.5) / MiB) * MiB), 'RAM_BIG')
const RAM_SMALL = parseSize(
  env.BIGFILE_BENCH_RAM_SMALL ?? String(Math.min(256 * MiB, Math.floor(DATA / 4 / MiB) * MiB)),
  'RAM_SMALL',
)
const READS = Number(env.BIGFILE_BENCH_READS ?? 100_000)
const CHANGES = Number(env.BIGFILE_BENCH_CHANGES ?? 1000)
const CHUNK = 32 * MiB
const BLKSIZES = [2 * MiB, 64 << 10]
const SELF = fileURLToPath(import.meta.url)

type Job =
  | { kind: 'fill'; db: string; blksize: number }
  | { kind: 'run'; db: string; blksize: number; ram: number }
  | { kind: 'plain'; file: string }

/** Runs one job in a fresh process; its last stdout line is the JSON result. */
function inChild(job: Job): PhaseResult[] {
  const r = spawnSync(process.execPath, [SELF, '--child', JSON.stringify(job)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * MiB,
  })
  if (r.status !== 0) throw new Error(`child ${job.kind} failed (${r.signal ?? r.status}): ${r.stdout}`)
  const lines = r.stdout.trim().split('\n')
  return JSON.parse(lines[lines.length - 1]) as PhaseResult[]
}

async function child(job: Job): Promise<PhaseResult[]> {
  if (job.kind === 'plain') return [await plainScan(job.file)]
  const ram = makeRam(job.kind === 'fill' ? 256 * MiB : job.ram, pagesizeFor(job.blksize))
  const db = await openDatabase(job.db)
  try {
    const conn = db.connect({ ram })
    if (job.kind === 'fill') {
      const a = await BigArray.create(conn, 'a', {
        dtype: 'float64',
        shape: [DATA / 8],
        blksize: job.blksize,
      })
      await conn.commit()
      return [
        await timePhase(`fill, ${formatBytes(CHUNK)} per commit`, async () => {
          const t = performance.now()
          const commits = await fillChunked(conn, a, CHUNK)
          return `${formatRate(DATA, performance.now() - t)}, ${commits} commits`
        }),
      ]
    }
    const a = await BigArray.open(conn, 'a')
    return await readPhases(conn, a, { reads: READS, changes: CHANGES })
  } finally {
    await db.close()
  }
}

/** Reads the plain file into one Float64Array and sums it: the figure a scan is compared with. */
async function plainScan(file: string): Promise<PhaseResult> {
  return timePhase('plain file: read into Float64Array + sum', async () => {
    const f = new Float64Array(DATA / 8)
    const bytes = new Uint8Array(f.buffer)
    const fd = openSync(file, 'r')
    try {
      for (let at = 0; at < DATA; ) at += readSync(fd, bytes, at, Math.min(64 * MiB, DATA - at), at)
    } finally {
      closeSync(fd)
    }
    let s = 0
    for (let i = 0; i < f.length; i++) s += f[i]
    return `sum ${s}${s === formulaSum(f.length) ? '' : ' (!= formula)'}`
  })
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const mib = (b: number) => `${Math.round(b / MiB)} MiB`

export async function main(): Promise<void> {
  console.log(
    `# wendelin.core workload: ${formatBytes(DATA)} of float64, RAM ${formatBytes(RAM_BIG)} and ${formatBytes(RAM_SMALL)}, ` +
      `${READS.toLocaleString('en-US')} random reads, ${CHANGES.toLocaleString('en-US')} random changes; each part in a fresh process\n`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-wendelin-'))
  try {
    const plainFile = join(dir, 'plain.f64')
    writePlainValues(plainFile, DATA, CHUNK, value, false)
    const [plain] = inChild({ kind: 'plain', file: plainFile })
    printPhases([plain])
    console.log()
    for (const blksize of BLKSIZES) {
      const db = join(dir, `w-${blksize}.bigfile`)
      console.log(`## ${formatBytes(blksize)} blocks`)
      const fill = inChild({ kind: 'fill', db, blksize })
      printPhases(fill)
      const runs = [RAM_BIG, RAM_SMALL].map((ram) => ({
        ram,
        phases: inChild({ kind: 'run', db, blksize, ram }),
      }))
      for (const { ram, phases } of runs) {
        console.log(`-- RAM ${formatBytes(ram)}`)
        printPhases(phases)
      }
      const rows = runs[0].phases.map((p, k) => {
        const q = runs[1].phases[k]
        const cell = (r: PhaseResult) => (r.error ? r.error.split(':')[0] : seconds(r.ms))
        return [p.phase, cell(p), mib(p.maxRss), cell(q), mib(q.maxRss)]
      })
      console.log()
      table(
        ['phase', `RAM ${formatBytes(RAM_BIG)}`, 'maxRSS', `RAM ${formatBytes(RAM_SMALL)}`, 'maxRSS'],
        rows,
      )
      console.log(
        `sequential sum vs plain file read + sum (${seconds(plain.ms)}): ` +
          runs
            .map(({ ram, phases }) => `${fmtRatio(phases[0].ms, plain.ms)} with RAM ${formatBytes(ram)}`)
            .join(', ') +
          '\n',
      )
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) {
  const k = process.argv.indexOf('--child')
  if (k >= 0) {
    using mem = new MemorySampler()
    const out = await child(JSON.parse(process.argv[k + 1]) as Job)
    mem.sample()
    console.log(JSON.stringify(out))
  } else await main()
}
