import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { crashTrial } from './crashtrial.ts'
import { tmpDir } from './helpers.ts'

const TRIALS = Number(process.env.BIGFILE_CRASH_TRIALS ?? 50)

test(`crash: SIGKILL of a committing process, ${TRIALS} times; every reopen shows one whole commit`, async (t) => {
  const path = join(tmpDir(t), 'crash.bigfile')
  let last = 0
  let progressed = 0
  for (let i = 0; i < TRIALS; i++) {
    const { n, acked } = await crashTrial(path, 120)
    // synchronous=FULL: whatever commit() returned for is on disk; at most one more may be.
    if (acked >= 0)
      assert.ok(n === acked || n === acked + 1, `trial ${i}: reopened at ${n}, writer acked ${acked}`)
    assert.ok(n >= last, `trial ${i}: went back from ${last} to ${n}`)
    if (n > last) progressed++
    last = n
  }
  assert.ok(progressed > TRIALS / 2, `the writer made progress in ${progressed} of ${TRIALS} trials`)
})
