// Optimistic concurrency: several connections increment shared counters at once. Each runs its change as
// conn.transaction(fn, { retries }): a commit that loses to another (ConflictError) is aborted and fn runs
// again on the newest snapshot, so no increment is lost. Run:
// node --import ./scripts/bigfile-from-source.ts examples/conflict-retry.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BigArray, openDatabase, RAM } from 'bigfile'

const WORKERS = 4
const ROUNDS = 25

const dir = mkdtempSync(join(tmpdir(), 'bigfile-example-'))
try {
  const ram = new RAM({ pagesize: 64 << 10, capacity: 8 << 20 })
  await using db = await openDatabase(join(dir, 'counters.bigfile'))
  const setup = db.connect({ ram })
  await BigArray.create(setup, 'hits', { dtype: 'int64', shape: [8] })
  await setup.commit()

  let attempts = 0
  const worker = async (w: number) => {
    const conn = db.connect({ ram })
    // Open once: an abort or a commit moves the array to the newest snapshot with its connection.
    const hits = await BigArray.open(conn, 'hits', { dtype: 'int64' })
    for (let r = 0; r < ROUNDS; r++) {
      await conn.transaction(
        async () => {
          attempts++
          const slot = (w + r) % 8
          const v = hits.get1(slot) // read inside the transaction: a retry sees the winner's value
          await new Promise((resolve) => setImmediate(resolve)) // let the others interleave
          hits.set1(slot, v + 1n)
        },
        { retries: 100 },
      )
    }
  }
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)))

  const hits = await BigArray.open(db.connect({ ram }), 'hits', { dtype: 'int64' })
  const total = await hits.sum()
  console.log(
    `${WORKERS * ROUNDS} transactions in ${attempts} attempts (${attempts - WORKERS * ROUNDS} retried)`,
  )
  console.log(`total ${total} == ${WORKERS * ROUNDS}: ${total === BigInt(WORKERS * ROUNDS)}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
