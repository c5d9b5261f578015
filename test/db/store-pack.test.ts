// Pack and the segments: versions no snapshot needs leave the index, segments with nothing live are
// unlinked, segments mostly dead are rewritten (their live versions moved), and readers — in this process
// with cached descriptors, and in another process reading all the while — go on reading the right bytes.
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { SQLiteStorage } from '../../src/db/sqlite/storage.ts'
import { tmpDir } from './helpers.ts'

const BS = 64 << 10
const READER = fileURLToPath(new URL('./store-reader.ts', import.meta.url))

/** Commits transaction `n`: blocks `blks` of 'f' filled with (n + blk) & 0xff, meta { n }. */
async function commit(s: SQLiteStorage, n: number, blks: readonly number[], blocks: number): Promise<number> {
  const txn = await s.begin()
  let f = s.fileByName('f', txn.tid - 1)?.id
  if (f === undefined) f = txn.createFile({ name: 'f', blksize: BS, size: BS * blocks, meta: {} }) as number
  txn.updateFile(f, { meta: { n } })
  for (const b of blks) txn.writeBlock(f, b, new Uint8Array(BS).fill((n + b) & 0xff))
  await txn.commit()
  return f
}

const segs = (path: string) => readdirSync(`${path}-seg`).map((x) => Number.parseInt(x, 16))

function expectBlock(s: SQLiteStorage, f: number, blk: number, at: number, value: number): void {
  const buf = new Uint8Array(BS)
  s.loadBlock(f, blk, at, buf)
  assert.ok(
    buf.every((x) => x === value),
    `block ${blk} at ${at} holds ${value}`,
  )
}

test('pack unlinks segments with nothing live, rewrites mostly dead ones; a reader with cached descriptors re-reads', async (t) => {
  const path = join(tmpDir(t), 'p.bigfile')
  // 4 blocks per segment.
  const s = SQLiteStorage.open(path, { _segmentBytes: 4096 + 4 * BS })
  t.after(() => s.close())
  const f = await commit(s, 1, [0, 1, 2, 3, 4, 5, 6, 7], 8) // tid 1: segments 1, 2
  await commit(s, 2, [0, 1, 2, 3], 8) // tid 2: segment 3 (blocks 0..3 again: segment 1 all dead at cutoff 2)
  await commit(s, 3, [4, 5, 6], 8) // tid 3: segment 4 (segment 2 keeps only block 7: 1/4 live)
  assert.deepEqual(segs(path), [1, 2, 3, 4])
  // A reader in this process caches descriptors of every segment it reads.
  const reader = SQLiteStorage.open(path)
  t.after(() => reader.close())
  for (let b = 0; b < 8; b++) expectBlock(reader, f, b, 3, (b < 4 ? 2 + b : b < 7 ? 3 + b : 1 + b) & 0xff)
  const r = await s.pack(3)
  assert.equal(r.blocksRemoved, 7)
  // Segment 1: nothing live, unlinked; segment 2: block 7 moved to a fresh segment 5, then unlinked.
  assert.deepEqual(segs(path), [3, 4, 5])
  for (const st of [s, reader]) {
    for (let b = 0; b < 8; b++) expectBlock(st, f, b, 3, (b < 4 ? 2 + b : b < 7 ? 3 + b : 1 + b) & 0xff)
    const buf = new Uint8Array(8 * BS)
    st.loadBlocks(f, 0, 8, 3, buf)
    for (let b = 0; b < 8; b++) assert.equal(buf[b * BS + 5], (b < 4 ? 2 + b : b < 7 ? 3 + b : 1 + b) & 0xff)
    assert.deepEqual((await st.check()).damage, [])
  }
  // Packing everything: only the live versions remain, and commits go on after it.
  await commit(s, 4, [0, 1, 2, 3, 4, 5, 6, 7], 8)
  await s.pack(4)
  // Segments 3, 4: nothing live; 5 (block 7 of tid 1, moved, now dead; blocks 0..2 of tid 4): 3/4 live.
  assert.deepEqual(segs(path), [5, 6, 7])
  await commit(s, 5, [7], 8)
  for (let b = 0; b < 8; b++) expectBlock(reader, f, b, 5, (b === 7 ? 5 + b : 4 + b) & 0xff)
})

test('pack while another process reads all the time: every read is right (re-queried when a segment went away)', async (t) => {
  const path = join(tmpDir(t), 'r.bigfile')
  const BLOCKS = 8
  const s = SQLiteStorage.open(path, { _segmentBytes: 4096 + 2 * BS })
  t.after(() => s.close())
  const all = Array.from({ length: BLOCKS }, (_, b) => b)
  await commit(s, 1, all, BLOCKS)
  const child = fork(READER, [path, String(BS), String(BLOCKS)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  let reads = -1
  child.on('message', (m: { reads?: number }) => {
    if (m.reads !== undefined) reads = m.reads
  })
  await new Promise<void>((r) => child.once('message', () => r()))
  // Every round rewrites every block and packs: each pack unlinks every segment the reader knew.
  const ROUNDS = 30
  for (let n = 2; n < 2 + ROUNDS; n++) {
    await commit(s, n, all, BLOCKS)
    await s.pack(n)
    await new Promise((r) => setTimeout(r, 2))
  }
  child.send('stop')
  assert.equal(await exited, 0, 'the reader read every block right until told to stop')
  assert.ok(reads > 0)
  t.diagnostic(`${reads} full reads during ${ROUNDS} packs`)
  assert.ok(segs(path).length <= BLOCKS / 2 + 1)
})

test('a writer holds one segment open for writing, not one per segment it ever created', async (t) => {
  const path = join(tmpDir(t), 'fds.bigfile')
  const s = SQLiteStorage.open(path, { _segmentBytes: 4096 + 2 * BS }) // 2 blocks per segment
  t.after(() => s.close())
  const openFiles = () => readdirSync('/proc/self/fd').length
  await commit(s, 1, [0, 1], 20)
  const base = openFiles()
  // 6 commits of 20 blocks: 60 segments created, each commit rolling over 10 times.
  for (let n = 2; n < 8; n++)
    await commit(
      s,
      n,
      Array.from({ length: 20 }, (_, b) => b),
      20,
    )
  assert.ok(segs(path).length >= 60)
  assert.ok(openFiles() - base <= 2, `${openFiles() - base} more descriptors open after 60 segments`)
  for (let b = 0; b < 20; b++) expectBlock(s, 1, b, 7, (7 + b) & 0xff)
})
