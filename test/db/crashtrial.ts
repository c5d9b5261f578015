// One crash trial: start the writer, SIGKILL it at a random point of a commit once it has acknowledged a
// given number of them (or at a random point of its start), reopen, verify. Where the kill lands is a
// random fraction of what the writer reported its last commit (or a start) took, so the counts a test
// asserts do not depend on the machine's speed.
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { crc32 } from 'node:zlib'
import { openDatabase } from '../../src/db/index.ts'
import { RAM } from '../../src/virtmem/ram.ts'
import { BLOCKS, BS } from './fixtures/crash-layout.ts'

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url))

export interface TrialResult {
  /** The transaction number the reopened database shows. */
  n: number
  /** The last one the writer reported committed before it died (-1: it died before opening). */
  acked: number
  /** Commits acknowledged by this writer. */
  commits: number
  /** How long after its process started the writer was ready (ms), if it got there. */
  startupMs: number | undefined
}

/**
 * `{ acks }`: kill once the writer acknowledged `acks` commits, within the next one. `{ startupMs }`: kill
 * within the start (open, schema creation), at a random fraction of `startupMs` (a start measured before).
 */
export type TrialPlan = { acks: number } | { startupMs: number }

export async function crashTrial(path: string, plan: TrialPlan): Promise<TrialResult> {
  const child = fork(WRITER, [path], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let acked = -1
  let startupMs: number | undefined
  let commits = 0
  let lastCommitMs = 0
  let onCommit = () => {}
  child.on('message', (m: { ready?: number; committed?: number; ms: number }) => {
    if (m.ready !== undefined) {
      acked = m.ready
      startupMs = m.ms
    }
    if (m.committed !== undefined) {
      acked = m.committed
      commits++
      lastCommitMs = m.ms
      onCommit()
    }
  })
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  if ('startupMs' in plan) await sleep(Math.random() * plan.startupMs)
  else {
    const enough = new Promise<void>((resolve) => {
      onCommit = () => commits === plan.acks && resolve()
    })
    const died = exited.then(() => {
      if (commits < plan.acks) throw new Error('the writer exited before it was killed')
    })
    await Promise.race([enough, died])
    // The next commit is under way: land somewhere in it, judging its length by the one just done.
    await sleep(Math.random() * lastCommitMs)
  }
  child.kill('SIGKILL')
  await exited
  return { n: await verify(path), acked, commits, startupMs }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Reopens the database and checks that it shows one committed state, whole: returns its number. */
async function verify(path: string): Promise<number> {
  const db = await openDatabase(path)
  try {
    const files = await db.files()
    if (files.length === 0) return 0
    const ram = new RAM({ pagesize: BS, capacity: (BLOCKS + 2) * BS })
    const conn = db.connect({ ram })
    const f = await conn.open('data')
    const vma = f.mmap(0, BLOCKS)
    const all = vma.readBytes(0, new Uint8Array(BLOCKS * BS))
    const { n, crc } = f.meta as { n: number; crc: number }
    assert.equal(crc32(all), crc, `checksum of all blocks matches transaction ${n}`)
    for (let blk = 0; blk < BLOCKS; blk++)
      assert.ok(vma.getFloat64(blk * BS) <= n, `block ${blk} is not from the future`)
    vma.unmap()
    return n
  } finally {
    await db.close()
  }
}
