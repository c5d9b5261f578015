// bigfile bench: a short in-process run of the wendelin.core workload, printing each phase's time.
// (bench/wendelin.bench.ts runs the full-size version, with each part in a fresh process.)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BigArray } from '../../array/index.ts'
import { openDatabase } from '../../db/sqlite/open.ts'
import { parseCount, str } from '../args.ts'
import type { Command } from '../command.ts'
import { ramReport } from '../counters.ts'
import { onInterrupt } from '../interrupt.ts'
import { type PhaseResult, readPhases, timePhase } from '../phases.ts'
import { formatBytes, formatRate, formatSeconds } from '../size.ts'
import { fillChunked } from '../workload.ts'
import { parseWorkload, roundMiB, WORKLOAD_COMMON_HELP, WORKLOAD_OPTIONS } from '../workload-options.ts'

export const bench: Command = {
  spec: {
    name: 'bench',
    positionals: [],
    options: { ...WORKLOAD_OPTIONS, reads: { type: 'string' } },
  },
  summary: 'a short run of the wendelin.core workload, with phase times',
  help: `Usage: bigfile bench [--data 256MiB] [--ram 128MiB] [--blksize 64KiB] [--reads 100000] [--changes 1000]

In a temporary database: fills a float64 array of --data bytes --chunk bytes per commit, then sums it,
makes --reads random single-element reads and --changes random single-element changes committed in one
transaction, printing each phase's time and the peak RSS. Changes that dirty more pages than --ram holds
end in the out-of-memory error (ENOMEM), which is printed as that phase's result.
(npm run bench -- wendelin runs the full-size workload, each part in a fresh process.)

Options:
  --data SIZE      array size (default 256MiB)
  --blksize SIZE   block and page size (default 64KiB)
  --chunk SIZE     bytes filled per commit (default 32MiB, at most half of --ram)
  --reads N        random reads (default 100000)
  --changes N      random changes in one transaction (default 1000)

${WORKLOAD_COMMON_HELP}`,
  async run(p) {
    const { data, blksize, chunk, changes, ram } = parseWorkload(p, '256MiB')
    const reads = parseCount(str(p, 'reads') ?? '100000', '--reads')
    console.log(
      `bigfile bench: ${formatBytes(data)} of float64 in ${formatBytes(blksize)} blocks, RAM ${formatBytes(ram.capacity)}`,
    )
    const dir = mkdtempSync(join(tmpdir(), 'bigfile-bench-'))
    // A second Ctrl-C exits at once: the temporary directory goes too.
    using interrupt = onInterrupt({ cleanup: () => rmSync(dir, { recursive: true, force: true }) })
    const { signal } = interrupt
    const db = await openDatabase(join(dir, 'bench.bigfile'))
    const conn = db.connect({ ram })
    try {
      const a = await BigArray.create(conn, 'a', { dtype: 'float64', shape: [data / 8], blksize })
      await conn.commit()
      const results: PhaseResult[] = [
        await timePhase(`fill, ${formatBytes(chunk)} per commit`, async () => {
          const t = performance.now()
          const commits = await fillChunked(conn, a, chunk, { signal })
          return `${formatRate(data, performance.now() - t)}, ${commits} commits`
        }),
      ]
      results.push(...(await readPhases(conn, a, { reads, changes, signal })))
      printPhases(results)
      for (const line of ramReport(ram)) console.log(line)
    } catch (e) {
      await conn.abort().catch(() => {})
      throw e
    } finally {
      await db.close()
      rmSync(dir, { recursive: true, force: true })
    }
    return 0
  },
}

/** One line per phase: name, time, peak RSS, note or error. */
export function printPhases(results: readonly PhaseResult[]): void {
  const w = Math.max(...results.map((r) => r.phase.length))
  for (const r of results) {
    const rss = `maxRSS ${formatBytes(roundMiB(r.maxRss))}`
    const note = r.error ? `-> ${r.error}` : r.note
    console.log(`${r.phase.padEnd(w)}  ${formatSeconds(r.ms).padStart(8)}  ${rss.padStart(15)}  ${note}`)
  }
}
