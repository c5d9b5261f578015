/**
 * Raw-file crash soak: the random-SIGKILL trials of test/rawfile/crash.test.ts, for longer.
 *
 *   node test/rawfile/soak/crash.ts [trials=1000] [seed=random]
 *
 * Each trial runs a child that commits in a loop, kills it with SIGKILL at a random point of a commit
 * (or of its start), and checks
 * that the reopened file is exactly the state after the last acknowledged commit or the one in flight.
 * Exits non-zero at the first violation, printing the seed to reproduce it.
 */
import { randomKillTrials } from '../fixtures/crash-harness.ts'
import { tempDir } from '../fixtures/util.ts'

const trials = Number(process.argv[2] ?? 1000)
const seed = Number(process.argv[3] ?? (Math.random() * 2 ** 31) >>> 0)

using tmp = tempDir('bigfile-soak-')
console.log(`rawfile crash soak: ${trials} trials, seed ${seed}, in ${tmp.dir}`)
const t0 = performance.now()
try {
  const stats = await randomKillTrials(tmp.path('soak.bin'), {
    trials,
    seed,
    onTrial: (i, s) => {
      if ((i + 1) % 50 === 0) {
        const sec = ((performance.now() - t0) / 1000).toFixed(0)
        console.log(
          `${i + 1}/${trials} trials, ${s.commits} commits acknowledged, ${s.journalLeft} kills mid-commit, ${sec} s`,
        )
      }
    },
  })
  console.log(JSON.stringify(stats, null, 2))
  console.log(`OK: ${stats.trials} trials, every reopen was a committed state`)
} catch (e) {
  console.error(`FAILED (seed ${seed}): ${(e as Error).message}`)
  process.exitCode = 1
}
