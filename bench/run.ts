/**
 * Runs every bench/*.bench.ts, one after another, each in its own Node process so that one benchmark's
 * JIT state and heap do not colour the next. `npm run bench -- hit` runs only files whose name contains
 * "hit". Benchmarks print figures; they never assert timings.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const dir = dirname(fileURLToPath(import.meta.url))
const filters = process.argv.slice(2)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()

if (files.length === 0) {
  console.error(`no benchmark matches ${filters.join(', ')}`)
  process.exit(1)
}

let failed = 0
for (const f of files) {
  console.log(`\n=== ${f}\n`)
  const t0 = performance.now()
  const r = spawnSync(process.execPath, [join(dir, f)], { stdio: 'inherit' })
  const s = ((performance.now() - t0) / 1000).toFixed(1)
  if (r.status !== 0) {
    failed++
    console.log(`=== ${f} FAILED (${r.signal ?? `exit ${r.status}`}) after ${s} s`)
  } else console.log(`=== ${f}: ${s} s`)
}
process.exit(failed ? 1 : 0)
