// A child for postgres-integrity.test.ts: writes `value` into every block of file "f" and its meta,
// commits, and SIGKILLs itself at step `killAt` of the commit (count-based, never timed). Steps are the
// storage calls of the commit (begin, the conflict check, each block write, commit), each counted
// twice: right before the call, and right after its synchronous part (its statement handed to the
// socket). With killAt past the last step it commits, tells the parent how many steps there were, and
// exits 0.
import { openPostgres } from '../../src/db/postgres/index.ts'
import type { StorageTxn } from '../../src/db/storage.ts'
import { RAM } from '../../src/virtmem/ram.ts'

const [url, valueArg, killArg, mode] = process.argv.slice(2)
const value = Number(valueArg)
const killAt = Number(killArg)
// "small": 8 blocks and no record change, the commit that goes in one round trip (BEGIN included);
// otherwise 100 blocks (two batches) and the meta, a transaction begun early
const small = mode === 'small'
const BLOCKS = small ? 8 : 100
const BS = 4096

let step = 0
const point = () => {
  if (step++ === killAt) process.kill(process.pid, 'SIGKILL')
}

const db = await openPostgres(url)
const storage = db.storage
const begin = storage.begin.bind(storage)
storage.begin = async () => {
  point()
  const txn = (await begin()) as StorageTxn
  point()
  for (const m of ['checkConflicts', 'writeBlock', 'updateFile', 'commit'] as const) {
    const f = (txn[m] as (...a: unknown[]) => unknown).bind(txn)
    ;(txn as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => {
      point()
      const r = f(...a)
      point()
      return r
    }
  }
  return txn
}
const conn = db.connect({ ram: new RAM({ pagesize: BS, capacity: (BLOCKS + 4) * BS }) })
const f = await conn.open('f')
const v = f.mmap(0, 100)
await v.fault(0, BLOCKS * BS, { write: true })
for (let b = 0; b < BLOCKS; b++) {
  v.setFloat64(b * BS, value)
  v.setFloat64(b * BS + BS - 8, value)
}
if (!small) f.setMeta({ v: value })
await conn.commit()
// the parent checks its count of kill points against this
process.send?.({ steps: step }, () => process.exit(0))
