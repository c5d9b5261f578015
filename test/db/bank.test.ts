// The bank test: 4 processes (each its own Database, as on 4 machines) make N transfers each between
// random accounts of one array, retrying on conflicts. The total is conserved, and every balance is
// exactly the initial one plus the acknowledged transfers: every acknowledged transfer is present,
// nothing else is. BIGFILE_BANK_N sets N (the soak runs it large: npm run soak:bank).
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { openDatabase } from '../../src/index.ts'
import { faulted, storageTest } from '../helpers/storages.ts'
import { ram } from './helpers.ts'

const CLERK = fileURLToPath(new URL('./fixtures/bank.ts', import.meta.url))
const CLERKS = 4
const N = Number(process.env.BIGFILE_BANK_N ?? 12)
const PAGESIZE = 4096
const ACCOUNTS = 2048 // 4 pages: clerks often touch the same page and conflict
const INITIAL = 1000

interface Report {
  done: [number, number, number][]
  conflicts: number
}

function clerk(location: string, id: number): Promise<Report> {
  return new Promise((resolve, reject) => {
    const child = fork(CLERK, [location, String(id), String(N), String(ACCOUNTS), String(PAGESIZE)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let report: Report | undefined
    child.on('message', (m) => {
      report = m as Report
    })
    child.on('error', reject)
    child.on('exit', (code) =>
      report && code === 0 ? resolve(report) : reject(new Error(`clerk ${id} exited with ${code}`)),
    )
  })
}

storageTest(`bank: ${CLERKS} processes x ${N} transfers with conflict retries`, async (t, s) => {
  const location = await s.location(t)
  const db = await openDatabase(location)
  const conn = db.connect({ ram: ram(8, PAGESIZE) })
  const f = await conn.open('accounts', { create: { blksize: PAGESIZE, size: ACCOUNTS * 8 } })
  const v = f.mmap(0, (ACCOUNTS * 8) / PAGESIZE)
  for (let i = 0; i < ACCOUNTS; i++) (await faulted(v, i * 8)).setFloat64(i * 8, INITIAL)
  await conn.commit()

  const reports = await Promise.all(Array.from({ length: CLERKS }, (_, id) => clerk(location, id)))
  const expected = new Float64Array(ACCOUNTS).fill(INITIAL)
  for (const r of reports) {
    assert.equal(r.done.length, N)
    for (const [from, to, amount] of r.done) {
      expected[from] -= amount
      expected[to] += amount
    }
  }
  await conn.sync()
  let total = 0
  for (let i = 0; i < ACCOUNTS; i++) {
    const got = (await faulted(v, i * 8)).getFloat64(i * 8)
    assert.equal(got, expected[i], `account ${i}`)
    total += got
  }
  assert.equal(total, INITIAL * ACCOUNTS, 'the total is conserved')
  assert.equal(await db.head(), 1 + CLERKS * N, 'one commit per acknowledged transfer, no more')
  const conflicts = reports.reduce((a, r) => a + r.conflicts, 0)
  t.diagnostic(`${CLERKS * N} transfers, ${conflicts} conflicts retried`)
  v.unmap()
  await db.close()
})
