// Spill crash soak: `npm run soak:spill -- [trials=200]`. Each trial kills a transaction 16× the budget at
// a random spill I/O (while spilling, or during the commit's writeout) and checks the old state is whole;
// every tenth trial lets it finish and checks the new one.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runWriter, verifyGeneration } from '../spilltrial.ts'

const trials = Number(process.argv[2] ?? 200)
const dir = mkdtempSync(join(tmpdir(), 'bigfile-spill-soak-'))
const path = join(dir, 'soak.bigfile')
const spillDir = join(dir, 'spill')
mkdirSync(spillDir)
const t0 = performance.now()
try {
  const total = Number(/total (\d+)/.exec(await runWriter(path, spillDir, 0))?.[1])
  let gen = await verifyGeneration(path, spillDir)
  for (let i = 0; i < trials; i++) {
    const stop = i % 10 === 9 ? 0 : 1 + Math.floor(Math.random() * total)
    await runWriter(path, spillDir, stop)
    const now = await verifyGeneration(path, spillDir)
    assert.equal(now, stop === 0 ? gen + 1 : gen, `trial ${i}: stopped at ${stop} of ${total}`)
    gen = now
    if ((i + 1) % 20 === 0) console.log(`${i + 1}/${trials} trials, at generation ${gen}`)
  }
  console.log(
    `ok: ${trials} trials in ${((performance.now() - t0) / 1000).toFixed(1)} s, ${total} steps per run`,
  )
} finally {
  rmSync(dir, { recursive: true, force: true })
}
