// bigfile demo (`npm start`): a float64 array several times bigger than the RAM budget, in a fresh
// database that is removed afterwards — filled, scanned, changed at random, reopened and verified.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BigArray } from '../../array/index.ts'
import type { Connection } from '../../db/connection.ts'
import type { Database } from '../../db/database.ts'
import { openDatabase } from '../../db/sqlite/open.ts'
import type { RAM } from '../../virtmem/ram.ts'
import type { Command } from '../command.ts'
import { ramReport } from '../counters.ts'
import { Exit } from '../exit.ts'
import { onInterrupt } from '../interrupt.ts'
import { MemorySampler } from '../memory.ts'
import { ProgressLine } from '../progress.ts'
import { formatBytes, formatRate, formatSeconds } from '../size.ts'
import { checkChanges, fillChunked, formulaSum, randomChanges, rng, scanSum, sumAfter } from '../workload.ts'
import { parseWorkload, roundMiB, WORKLOAD_COMMON_HELP, WORKLOAD_OPTIONS } from '../workload-options.ts'

export const demo: Command = {
  spec: {
    name: 'demo',
    positionals: [],
    options: WORKLOAD_OPTIONS,
  },
  summary: 'fill, scan, change and verify an array bigger than the RAM budget (npm start)',
  help: `Usage: bigfile demo [--data 1GiB] [--ram 128MiB] [--blksize 64KiB] [--chunk 32MiB] [--changes 1000]

In a fresh database in a temporary directory (removed afterwards): creates a float64 array of --data
bytes, several times the --ram budget; fills it with a known formula --chunk bytes at a time, committing
each chunk (dirty pages cannot leave RAM before they are committed); scans it and checks the sum
against the formula; makes --changes random single-element changes in one transaction and commits
(in several when that many dirty pages might not fit half the budget);
reopens the database and verifies the changed elements and the sum. Prints the time of each phase,
the RAM's page counters (faults, loads, stores, reclaims, ...), and the peak memory. Exit 1 when a verification fails.

Options:
  --data SIZE      array size in bytes (default 1GiB)
  --blksize SIZE   block (and page) size (default 64KiB: 1,000 dirty pages fit in 128 MiB)
  --chunk SIZE     bytes filled per commit (default 32MiB, at most half of --ram)
  --changes N      random single-element changes in one transaction (default 1000)

${WORKLOAD_COMMON_HELP}`,
  async run(p) {
    const { data, blksize, chunk, changes: nchanges, ram } = parseWorkload(p, '1GiB')
    const dir = mkdtempSync(join(tmpdir(), 'bigfile-demo-'))
    try {
      return await runDemo({ dir, ram, data, blksize, chunk, nchanges, quiet: p.values.quiet === true })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
}

interface DemoOptions {
  dir: string
  ram: RAM
  data: number
  blksize: number
  chunk: number
  nchanges: number
  quiet: boolean
}

async function runDemo(o: DemoOptions): Promise<number> {
  const n = o.data / 8
  const { ram, quiet } = o
  const path = join(o.dir, 'demo.bigfile')
  const t0 = performance.now()
  // A second Ctrl-C exits at once: the temporary directory goes too.
  using interrupt = onInterrupt({ cleanup: () => rmSync(o.dir, { recursive: true, force: true }) })
  const { signal } = interrupt
  using mem = new MemorySampler()
  const row = (label: string, ms: number, note = '') =>
    console.log(`${label.padEnd(36)} ${formatSeconds(ms).padStart(8)}  ${note}`.trimEnd())
  const phase = (label: string) => {
    const bar = new ProgressLine({ label, quiet })
    return {
      bar,
      steps: {
        signal,
        onProgress: (d: number, t: number) => {
          mem.sample()
          bar.update(d, t)
        },
        onCommit: bar.committing,
      },
    }
  }

  console.log(
    `bigfile demo: ${formatBytes(o.data)} of float64 (${n.toLocaleString('en-US')} elements) in ${formatBytes(o.blksize)} blocks` +
      ` through ${formatBytes(ram.capacity)} of RAM (${ram.frames} frames of ${formatBytes(ram.pagesize)})`,
  )
  let ok = true
  let db: Database | undefined = await openDatabase(path)
  let conn: Connection | undefined = db.connect({ ram })
  try {
    let a = await BigArray.create(conn, 'demo', { dtype: 'float64', shape: [n], blksize: o.blksize })
    await conn.commit()

    let ph = phase('fill')
    const commits = await fillChunked(conn, a, o.chunk, ph.steps)
    let ms = ph.bar.end()
    row(`fill, ${formatBytes(o.chunk)} per commit (${commits} commits)`, ms, formatRate(o.data, ms))

    ph = phase('scan')
    const sum = await scanSum(a, ph.steps)
    ms = ph.bar.end()
    const expected = formulaSum(n)
    ok &&= sum === expected
    row(
      'sequential sum',
      ms,
      `${formatRate(o.data, ms)}  sum ${sum} ${sum === expected ? '== formula' : `!= formula ${expected}`}`,
    )

    let t = performance.now()
    // One transaction when the worst case (every change on its own page) fits half the frames.
    const perTxn = Math.max(1, Math.floor(ram.frames / 2))
    const { changed, commits: txns } = await randomChanges(conn, a, o.nchanges, rng(42), { signal, perTxn })
    row(
      `${o.nchanges.toLocaleString('en-US')} random changes + commit`,
      performance.now() - t,
      `${changed.size} distinct elements, ${txns === 1 ? 'one transaction' : `${txns} transactions of at most ${perTxn} (the budget)`}`,
    )
    mem.sample()

    // Reopen: a new database handle and connection, so every page is read back from the file.
    t = performance.now()
    await db.close()
    db = await openDatabase(path)
    conn = db.connect({ ram })
    a = await BigArray.open(conn, 'demo')
    const badChanges = await checkChanges(a, changed)
    ph = phase('verify')
    const sum2 = await scanSum(a, ph.steps)
    ph.bar.end()
    const expected2 = sumAfter(n, changed)
    ok &&= badChanges === 0 && sum2 === expected2
    row(
      'reopen + verify changes and sum',
      performance.now() - t,
      badChanges === 0 && sum2 === expected2
        ? `${changed.size} changes read back, sum ${sum2} == expected`
        : `${badChanges} changes wrong, sum ${sum2} vs expected ${expected2}`,
    )
    await db.close()
    db = undefined
  } catch (e) {
    // Ctrl-C or a failure: drop what is uncommitted and close before the directory goes.
    if (conn && !conn.closed) await conn.abort().catch(() => {})
    throw e
  } finally {
    await db?.close()
  }

  mem.sample()
  for (const line of ramReport(ram)) console.log(line)
  console.log(
    `peak memory: RSS ${formatBytes(roundMiB(mem.peakRss))} (sampled), ` +
      `maxRSS ${formatBytes(roundMiB(MemorySampler.maxRss()))} (kernel)`,
  )
  console.log(`total ${formatSeconds(performance.now() - t0)}`)
  if (!ok) {
    console.error('bigfile: demo verification FAILED')
    return Exit.ERROR
  }
  console.log('ok')
  return Exit.OK
}
