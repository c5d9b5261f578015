// One crash trial: start the writer, kill it with SIGKILL after a random delay, reopen, verify.
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
  /** The last one the writer reported committed before it died. */
  acked: number
}

export async function crashTrial(path: string, maxDelayMs: number): Promise<TrialResult> {
  const child = fork(WRITER, [path], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let acked = -1
  const exited = new Promise((r) => child.once('exit', r))
  const ready = new Promise<void>((resolve) =>
    child.on('message', (m: { ready?: number; committed?: number }) => {
      if (m.ready !== undefined) {
        acked = m.ready
        resolve()
      }
      if (m.committed !== undefined) acked = m.committed
    }),
  )
  // Sometimes kill during startup (open, schema creation), mostly while it commits.
  if (Math.random() < 0.1) await new Promise((r) => setTimeout(r, Math.random() * 150))
  else {
    await Promise.race([ready, exited])
    await new Promise((r) => setTimeout(r, Math.random() * maxDelayMs))
  }
  child.kill('SIGKILL')
  await exited
  const n = verify(path)
  return { n: await n, acked }
}

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
