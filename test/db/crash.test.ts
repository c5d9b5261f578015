import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { crashTrial } from './crashtrial.ts'
import { tmpDir } from './helpers.ts'

const TRIALS = Number(process.env.BIGFILE_CRASH_TRIALS ?? 50)

test(`crash: SIGKILL of a committing process, ${TRIALS} times; every reopen shows one whole commit`, async (t) => {
  const path = join(tmpDir(t), 'crash.bigfile')
  let last = 0
  let startupMs: number | undefined
  let commits = 0
  for (let i = 0; i < TRIALS; i++) {
    // Mostly within a commit after 1 to 3 acknowledged ones; sometimes within the writer's start.
    const early = startupMs !== undefined && i % 10 === 5
    const acks = 1 + (i % 3)
    const r = await crashTrial(path, early ? { startupMs: startupMs! } : { acks })
    startupMs = r.startupMs ?? startupMs
    commits += r.commits
    // synchronous=FULL: whatever commit() returned for is on disk; at most one more may be.
    if (r.acked >= 0)
      assert.ok(
        r.n === r.acked || r.n === r.acked + 1,
        `trial ${i}: reopened at ${r.n}, writer acked ${r.acked}`,
      )
    if (early) assert.ok(r.n >= last, `trial ${i}: went back from ${last} to ${r.n}`)
    else
      assert.ok(
        r.n >= last + acks,
        `trial ${i}: reopened at ${r.n} after ${last} and ${acks} acknowledged commits`,
      )
    last = r.n
  }
  t.diagnostic(`${commits} commits acknowledged, the database reopened at ${last}`)
})
