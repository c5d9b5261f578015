// The location cache of block loads (src/db/sqlite/locations.ts): a remembered location never serves a
// block from the wrong snapshot, nor stale bytes after another process committed or packed, nor after
// this process packed. Other processes are real ones; every expectation is an exact value.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { SQLiteStorage } from '../../src/db/sqlite/storage.ts'
import type { StorageTxn } from '../../src/db/storage.ts'
import { StaleSnapshotError } from '../../src/errors.ts'

const BS = 4096
/** Small segments (4 blocks), so that packs empty and move whole segments. */
const SEG = 4096 + 4 * BS
const BLOCKS = 16

function dir(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'bigfile-store-locations-'))
  t.after(() => rmSync(d, { recursive: true, force: true }))
  return d
}

/**
 * Another process: writes `value` into `blks` of file 'f' in one commit, then, with `pack`, packs with
 * the head as cutoff. Answers the head after it.
 */
function other(path: string, blks: number[], value: number, pack = false): number {
  const src = new URL('../../src/db/sqlite/storage.ts', import.meta.url).href
  const code = `
    const { SQLiteStorage } = await import(${JSON.stringify(src)})
    const s = SQLiteStorage.open(${JSON.stringify(path)}, { _segmentBytes: ${SEG} })
    const f = s.fileByName('f', s.head())
    const txn = await s.begin()
    const b = new Uint8Array(${BS}).fill(${value})
    for (const blk of ${JSON.stringify(blks)}) txn.writeBlock(f.id, blk, b)
    txn.commit()
    if (${pack}) await s.pack(s.head())
    process.stdout.write(String(s.head()))
    s.close()`
  const r = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', code], {
    encoding: 'utf8',
  })
  assert.equal(r.status, 0, r.stderr)
  return Number(r.stdout)
}

/** The first byte of block `blk` as of `at` (each test block holds one value throughout). */
function byte(s: SQLiteStorage, file: number, blk: number, at: number): number {
  const buf = new Uint8Array(BS)
  s.loadBlock(file, blk, at, buf)
  assert.ok(
    buf.every((x) => x === buf[0]),
    `block ${blk} at ${at} is one value`,
  )
  return buf[0]
}

async function setup(path: string): Promise<{ s: SQLiteStorage; file: number; h1: number }> {
  const s = SQLiteStorage.open(path, { _segmentBytes: SEG })
  const txn = (await s.begin()) as StorageTxn
  const file = txn.createFile({ name: 'f', blksize: BS, size: BLOCKS * BS, meta: {} }) as number
  const b = new Uint8Array(BS).fill(1)
  for (let blk = 0; blk < 8; blk++) txn.writeBlock(file, blk, b)
  txn.commit()
  return { s, file, h1: s.head() }
}

test('a remembered location serves only the snapshots it was valid for, across commits of another process', async (t) => {
  const path = join(dir(t), 'x.bigfile')
  const { s, file, h1 } = await setup(path)
  t.after(() => s.close())
  // (1) remembered at h1: blocks 0..7 hold 1, block 9 was never written
  for (let blk = 0; blk < 8; blk++) assert.equal(byte(s, file, blk, h1), 1)
  assert.equal(byte(s, file, 9, h1), 0)
  // (2) another process writes 2 into blocks 0..3 and 3 into block 9
  const h2 = other(path, [0, 1, 2, 3, 9], 2)
  // h1 still reads its snapshot (from the remembered locations, and from the index alike)
  for (let blk = 0; blk < 8; blk++) assert.equal(byte(s, file, blk, h1), 1)
  assert.equal(byte(s, file, 9, h1), 0)
  // (3) the new head, once seen: the new versions, the unchanged blocks as before
  assert.equal(s.head(), h2)
  for (let blk = 0; blk < 4; blk++) assert.equal(byte(s, file, blk, h2), 2)
  for (let blk = 4; blk < 8; blk++) assert.equal(byte(s, file, blk, h2), 1)
  assert.equal(byte(s, file, 9, h2), 2)
  // (4) back and forth between the two snapshots: each its own versions
  for (let k = 0; k < 3; k++) {
    assert.equal(byte(s, file, 0, h1), 1)
    assert.equal(byte(s, file, 0, h2), 2)
    assert.equal(byte(s, file, 9, h1), 0)
    assert.equal(byte(s, file, 9, h2), 2)
  }
  // (5) a snapshot past the newest head this storage has seen is never remembered: a commit after it
  // (at a tid <= that snapshot's) is still found
  const future = h2 + 1
  assert.equal(byte(s, file, 10, future), 0)
  const h3 = other(path, [10], 5)
  assert.equal(h3, future)
  assert.equal(byte(s, file, 10, future), 5)
})

test('after another process packed past a snapshot: its remembered locations give StaleSnapshotError, the new head its versions', async (t) => {
  const path = join(dir(t), 'x.bigfile')
  const { s, file, h1 } = await setup(path)
  t.after(() => s.close())
  assert.equal(s.head(), h1)
  for (let blk = 0; blk < 8; blk++) assert.equal(byte(s, file, blk, h1), 1)
  // Another process rewrites blocks 0..6 and packs at its head: the segments of h1 are emptied or moved
  // (block 7's version goes to a new segment) and unlinked.
  const h2 = other(path, [0, 1, 2, 3, 4, 5, 6], 4, true)
  // (1) h1 is behind the cutoff now: every block, remembered or not, is StaleSnapshotError
  for (let blk = 0; blk < 8; blk++) assert.throws(() => byte(s, file, blk, h1), StaleSnapshotError)
  // (2) the new head: its versions (block 7 from the segment it was moved to)
  assert.equal(s.head(), h2)
  for (let k = 0; k < 2; k++) {
    for (let blk = 0; blk < 7; blk++) assert.equal(byte(s, file, blk, h2), 4)
    assert.equal(byte(s, file, 7, h2), 1)
  }
  // (3) another commit elsewhere (data_version moves, the cutoff does not): h2 reads on, h3 sees it
  const h3 = other(path, [8], 9)
  assert.equal(byte(s, file, 7, h2), 1)
  assert.equal(byte(s, file, 8, h2), 0)
  assert.equal(s.head(), h3)
  assert.equal(byte(s, file, 8, h3), 9)
})

test('after this process packed: a remembered location in an unlinked segment is looked up again', async (t) => {
  const path = join(dir(t), 'x.bigfile')
  const { s, file } = await setup(path)
  t.after(() => s.close())
  const txn = (await s.begin()) as StorageTxn
  const b = new Uint8Array(BS).fill(6)
  for (let blk = 0; blk < 7; blk++) txn.writeBlock(file, blk, b)
  txn.commit()
  const h = s.head()
  for (let blk = 0; blk < 8; blk++) assert.equal(byte(s, file, blk, h), blk < 7 ? 6 : 1)
  // Pack at h: block 7's image (tid 1) is moved out of a mostly dead segment, which is unlinked.
  const segs = () => readdirSync(`${path}-seg`)
  const before = segs()
  await s.pack(h)
  assert.ok(
    before.some((seg) => !segs().includes(seg)),
    'a segment was unlinked',
  )
  for (let blk = 0; blk < 8; blk++) assert.equal(byte(s, file, blk, h), blk < 7 ? 6 : 1)
  assert.equal((await s.check()).damage.length, 0)
})
