// Long crash soak: `node test/db/soak/crash.ts [trials=1000]`: crash.test.ts's trials, many more of them.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crashTrial } from '../crashtrial.ts'

const trials = Number(process.argv[2] ?? 1000)
const dir = mkdtempSync(join(tmpdir(), 'bigfile-soak-'))
const path = join(dir, 'soak.bigfile')
let last = 0
let startupMs: number | undefined
const t0 = performance.now()
try {
  for (let i = 0; i < trials; i++) {
    const early = startupMs !== undefined && Math.random() < 0.1
    const { n, acked, ...r } = await crashTrial(
      path,
      early ? { startupMs: startupMs! } : { acks: 1 + (i % 3) },
    )
    startupMs = r.startupMs ?? startupMs
    if (acked >= 0 && n !== acked && n !== acked + 1)
      throw new Error(`trial ${i}: reopened at ${n}, acked ${acked}`)
    if (n < last) throw new Error(`trial ${i}: went back from ${last} to ${n}`)
    last = n
    if ((i + 1) % 50 === 0) console.log(`${i + 1}/${trials} trials, at transaction ${n}`)
  }
  console.log(
    `ok: ${trials} trials in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${last} transactions`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
