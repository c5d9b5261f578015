/**
 * The wendelin.core workload: a 1 GiB float64 array in 2 MiB blocks, filled 32 MiB per commit; then,
 * each in a fresh process so that memory figures are clean, a sequential sum, 100,000 random
 * single-element reads and 1,000 random single-element changes committed in one transaction — with a
 * RAM budget bigger than the data (1.5 GiB) and with 256 MiB. With 2 MiB blocks in 256 MiB the
 * scattered changes dirty ~400 blocks (~800 MiB), 3× the budget: they spill, and the commit streams them
 * (wendelin.core itself aborts there with `OOM BUG!`). Then all of it again with 64 KiB blocks. The sequential scan is
 * compared with reading the same bytes from a plain file into a Float64Array and summing it.
 *
 * BIGFILE_BENCH_STORAGE=postgres runs the same workload on PostgreSQL (an embedded server started here,
 * as the tests do; BIGFILE_TEST_POSTGRES_URL to use yours), =both runs SQLite and PostgreSQL and prints
 * them side by side (default: sqlite). PostgreSQL answers asynchronously, so its random reads use
 * `getAsync` (a resident element answers without waiting; SQLite's use the synchronous `get`); the other
 * phases are the same code. Its maxRSS is this process's only: the server's memory is not in it.
 *
 * Overrides for a quick run: BIGFILE_BENCH_DATA (e.g. 256MiB), BIGFILE_BENCH_RAM_BIG (default 1.5 ×
 * data), BIGFILE_BENCH_RAM_SMALL (default min(256MiB, data / 4)), BIGFILE_BENCH_READS,
 * BIGFILE_BENCH_CHANGES, BIGFILE_BENCH_BLKSIZES (e.g. 2MiB). Prints figures; never asserts timings.
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
import {
  fillChunked,
  formulaSum,
  randomChanges,
  rng,
  scanSum,
  value,
  yieldToEventLoop,
} from '../src/cli/workload.ts'
import type { Connection } from '../src/db/connection.ts'
import { openDatabase } from '../src/db/open.ts'
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
const BLKSIZES = env.BIGFILE_BENCH_BLKSIZES
  ? env.BIGFILE_BENCH_BLKSIZES.split(',').map((x) => parseSize(x, 'BIGFILE_BENCH_BLKSIZES'))
  : [2 * MiB, 64 << 10]
type StorageName = 'sqlite' | 'postgres'
const STORAGES: StorageName[] = (() => {
  const v = env.BIGFILE_BENCH_STORAGE ?? 'sqlite'
  if (v === 'both') return ['sqlite', 'postgres']
  if (v === 'sqlite' || v === 'postgres') return [v]
  throw new Error(`BIGFILE_BENCH_STORAGE must be sqlite, postgres or both, got ${v}`)
})()
const SELF = fileURLToPath(import.meta.url)

/** `db` is an SQLite file path or a postgres:// URL (openDatabase takes both). */
type Job =
  | { kind: 'fill'; db: string; blksize: number }
  | { kind: 'run'; db: string; blksize: number; ram: number; storage: StorageName }
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
    if (job.storage === 'postgres') return await asyncReadPhases(conn, a)
    return await readPhases(conn, a, { reads: READS, changes: CHANGES })
  } finally {
    await db.close()
  }
}

/**
 * readPhases (src/cli/phases.ts) for an asynchronous storage: the same sequential sum and random
 * changes, and the same random reads (same seed, same indexes) through `getAsync`.
 */
async function asyncReadPhases(conn: Connection, a: BigArray): Promise<PhaseResult[]> {
  const bytes = a.size * a.itemsize
  const out: PhaseResult[] = []
  out.push(
    await timePhase('sequential sum', async () => {
      const t = performance.now()
      const s = await scanSum(a)
      return `${formatRate(bytes, performance.now() - t)}, sum ${s}`
    }),
  )
  out.push(
    await timePhase(`${READS.toLocaleString('en-US')} random reads`, async () => {
      const t = performance.now()
      const rand = rng(7)
      let sink = 0
      for (let k = 0; k < READS; k++) {
        if ((k & 16383) === 0) await yieldToEventLoop()
        sink += (await a.getAsync(Math.floor(rand() * a.size))) as number
      }
      return `${(((performance.now() - t) * 1e3) / Math.max(1, READS)).toFixed(2)} µs/read${Number.isNaN(sink) ? ' (NaN)' : ''}`
    }),
  )
  const changes = await timePhase(`${CHANGES.toLocaleString('en-US')} random changes + commit`, async () => {
    const { changed } = await randomChanges(conn, a, CHANGES, rng(11))
    const ps = conn.ram.pagesize
    const pages = new Set([...changed.keys()].map((i) => Math.floor((i * a.itemsize) / ps))).size
    return `${changed.size} elements in ${pages} pages (${formatBytes(pages * ps)} dirty)`
  })
  if (changes.error) await conn.abort()
  out.push(changes)
  return out
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
      `${READS.toLocaleString('en-US')} random reads, ${CHANGES.toLocaleString('en-US')} random changes; ` +
      `storage ${STORAGES.join(' and ')}; each part in a fresh process\n`,
  )
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-wendelin-'))
  // PostgreSQL: a server for this run, started as the tests start theirs (test/helpers/postgres.ts)
  const server = STORAGES.includes('postgres')
    ? await (await import('../test/helpers/postgres.ts')).startPostgres()
    : undefined
  try {
    const plainFile = join(dir, 'plain.f64')
    writePlainValues(plainFile, DATA, CHUNK, value, false)
    const [plain] = inChild({ kind: 'plain', file: plainFile })
    printPhases([plain])
    console.log()
    for (const blksize of BLKSIZES) {
      const results = new Map<StorageName, { fill: PhaseResult[]; runs: PhaseResult[][] }>()
      for (const storage of STORAGES) {
        const location =
          storage === 'postgres' && server ? await server.createDatabase() : join(dir, `w-${blksize}.bigfile`)
        console.log(`## ${formatBytes(blksize)} blocks, ${storage}`)
        const fill = inChild({ kind: 'fill', db: location, blksize })
        printPhases(fill)
        const runs = [RAM_BIG, RAM_SMALL].map((ram) => ({
          ram,
          phases: inChild({ kind: 'run', db: location, blksize, ram, storage }),
        }))
        for (const { ram, phases } of runs) {
          console.log(`-- RAM ${formatBytes(ram)}`)
          printPhases(phases)
        }
        const rows = runs[0].phases.map((p, k) => {
          const q = runs[1].phases[k]
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
        results.set(storage, { fill, runs: runs.map((r) => r.phases) })
      }
      const sq = results.get('sqlite')
      const pq = results.get('postgres')
      if (sq && pq) {
        // side by side: each phase's time on both storages and PostgreSQL's time over SQLite's
        console.log(`## ${formatBytes(blksize)} blocks: SQLite and PostgreSQL side by side`)
        const row = (what: string, a: PhaseResult, b: PhaseResult) => [
          what,
          cell(a),
          cell(b),
          a.error || b.error ? '' : `${(b.ms / a.ms).toFixed(2)}x`,
        ]
        const rows = [row(sq.fill[0].phase, sq.fill[0], pq.fill[0])]
        for (const [k, ram] of [RAM_BIG, RAM_SMALL].entries()) {
          for (const [j, p] of sq.runs[k].entries()) {
            rows.push(row(`${p.phase}, RAM ${formatBytes(ram)}`, p, pq.runs[k][j]))
          }
        }
        table(['phase', 'SQLite', 'PostgreSQL', 'PostgreSQL / SQLite'], rows)
        console.log()
      }
    }
  } finally {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

const cell = (r: PhaseResult) => (r.error ? r.error.split(':')[0] : seconds(r.ms))

if (import.meta.main) {
  const k = process.argv.indexOf('--child')
  if (k >= 0) {
    using mem = new MemorySampler()
    const out = await child(JSON.parse(process.argv[k + 1]) as Job)
    mem.sample()
    console.log(JSON.stringify(out))
  } else await main()
}
