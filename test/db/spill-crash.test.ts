import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { rng } from '../helpers/rng.ts'
import { tmpDir } from './helpers.ts'
import { runWriter, verifyGeneration } from './spilltrial.ts'

const TRIALS = Number(process.env.BIGFILE_SPILL_CRASH_TRIALS ?? 4)

test(`spill crash: SIGKILL at a random spill I/O of a transaction 16× the budget, ${TRIALS} times; old or new state, whole`, async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'spill.bigfile')
  const spillDir = join(dir, 'spill')
  mkdirSync(spillDir)
  // A full run counts the steps (spill writes while writing, spill reads during the commit's writeout).
  const total = Number(/total (\d+)/.exec(await runWriter(path, spillDir, 0))?.[1])
  assert.ok(total > 20, `the transaction spills (${total} spill I/O steps)`)
  let gen = await verifyGeneration(path, spillDir)
  assert.equal(gen, 1)
  const seed = Number(process.env.BIGFILE_SEED ?? Date.now())
  const r = rng(seed)
  for (let i = 0; i < TRIALS; i++) {
    // Every step is before the storage's COMMIT: a kill there must leave the old generation.
    const stop = 1 + Math.floor(r() * total)
    const out = await runWriter(path, spillDir, stop)
    assert.match(out, new RegExp(`at ${stop}$`))
    const now = await verifyGeneration(path, spillDir)
    assert.equal(
      now,
      gen,
      `trial ${i} (BIGFILE_SEED=${seed}): killed at spill step ${stop} of ${total}, the old state stays`,
    )
  }
  await runWriter(path, spillDir, 0)
  gen = await verifyGeneration(path, spillDir)
  assert.equal(gen, 2, 'after the kills, a whole run commits the next generation')
})
