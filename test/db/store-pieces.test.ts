// Partial-block writes: a version of a big block that changed in a few places is stored as its changed
// pieces over the version before it. Every snapshot still reads exactly its bytes (loadBlock and
// loadBlocks), the chain is bounded, a mostly changed block is written whole, pack folds a kept piece
// version into an image, and a damaged piece is ECORRUPT naming block and tid.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { MAX_DEPTH, PIECES_MIN_BLKSIZE } from '../../src/db/sqlite/pieces.ts'
import { SQLiteStorage } from '../../src/db/sqlite/storage.ts'
import type { StorageTxn } from '../../src/db/storage.ts'
import { rng } from '../helpers/rng.ts'
import { tmpDir } from './helpers.ts'

const BS = PIECES_MIN_BLKSIZE
const BLOCKS = 4
/** The most a record of 3 scattered 8-byte writes can take: each touches at most two 4 KiB pieces. */
const PIECE_RECORD = 4 + 8 * 6 + 6 * 4096

function fresh(seed: number): Uint8Array {
  const r = rng(seed)
  const b = new Uint8Array(BS)
  for (let i = 0; i < BS; i += 4) b[i] = Math.floor(r() * 256)
  return b
}

/** Rows of the index for block `blk`: [tid, kind, len] by tid. */
function rows(path: string, blk: number): [number, number, number | null][] {
  const raw = new DatabaseSync(path, { readOnly: true })
  const r = raw.prepare('SELECT tid, kind, len FROM blocks WHERE blk = ? ORDER BY tid').all(blk) as {
    tid: number
    kind: number
    len: number | null
  }[]
  raw.close()
  return r.map((x) => [x.tid, x.kind, x.len])
}

function segmentBytes(path: string): number {
  const raw = new DatabaseSync(path, { readOnly: true })
  const n = (raw.prepare('SELECT sum(size) AS n FROM segments').get() as { n: number }).n
  raw.close()
  return n
}

test('scattered small writes into big blocks: pieces, every tid reads exactly, chain bounded, pack folds', async (t) => {
  const path = join(tmpDir(t), 'p.bigfile')
  const s = SQLiteStorage.open(path)
  t.after(() => s.close())
  // The model: every tid's bytes of every block.
  const model: Uint8Array[][] = [[]]
  let txn = (await s.begin()) as StorageTxn
  const f = txn.createFile({ name: 'f', blksize: BS, size: BS * BLOCKS, meta: {} }) as number
  const first = Array.from({ length: BLOCKS }, (_, b) => fresh(b))
  for (const [b, d] of first.entries()) txn.writeBlock(f, b, d)
  await txn.commit()
  model.push(first)
  const r = rng(5)
  const TIDS = 2 * MAX_DEPTH + 4
  for (let tid = 2; tid <= TIDS; tid++) {
    const before = segmentBytes(path)
    const next = model[tid - 1].map((b) => b.slice())
    txn = (await s.begin()) as StorageTxn
    // Block 0 every time and one other block: 3 scattered 8-byte writes each, handed over whole.
    for (const b of [0, 1 + Math.floor(r() * (BLOCKS - 1))]) {
      for (let k = 0; k < 3; k++) {
        const at = Math.floor(r() * (BS - 8))
        next[b].fill(tid & 0xff, at, at + 8)
      }
      txn.writeBlock(f, b, next[b])
    }
    await txn.commit()
    model.push(next)
    // A commit appends its piece records (a few KiB) and only the images a long chain asks for.
    const images = [0, 1, 2, 3].filter((b) =>
      rows(path, b).some(([t, kind]) => t === tid && kind === 1),
    ).length
    const grew = segmentBytes(path) - before
    assert.ok(
      grew <= images * BS + 2 * PIECE_RECORD,
      `tid ${tid} appended ${grew} bytes with ${images} images`,
    )
  }
  for (let b = 0; b < BLOCKS; b++)
    for (const [tid, kind, len] of rows(path, b))
      if (kind === 2)
        assert.ok((len ?? 0) <= PIECE_RECORD, `block ${b} at ${tid}: a piece record of ${len} bytes`)
  const kinds = rows(path, 0).map(([, kind]) => kind)
  // Image, MAX_DEPTH piece versions, an image again, and so on.
  const want = Array.from({ length: TIDS }, (_, i) => (i % (MAX_DEPTH + 1) === 0 ? 1 : 2))
  assert.deepEqual(kinds, want)
  const readAll = () => {
    for (let tid = 1; tid <= TIDS; tid++) {
      if (tid < s.packed()) continue
      const buf = new Uint8Array(BS * BLOCKS)
      s.loadBlocks(f, 0, BLOCKS, tid, buf)
      for (let b = 0; b < BLOCKS; b++) {
        assert.deepEqual(
          buf.subarray(b * BS, (b + 1) * BS),
          model[tid][b],
          `loadBlocks: block ${b} at ${tid}`,
        )
        const one = new Uint8Array(BS)
        s.loadBlock(f, b, tid, one)
        assert.deepEqual(one, model[tid][b], `loadBlock: block ${b} at ${tid}`)
      }
    }
  }
  readAll()
  assert.deepEqual((await s.check()).damage, [])
  // A block mostly changed is written whole.
  txn = (await s.begin()) as StorageTxn
  const whole = fresh(99)
  txn.writeBlock(f, 2, whole)
  await txn.commit()
  assert.equal(rows(path, 2).at(-1)?.[1], 1)
  model.push(model[TIDS].map((b, i) => (i === 2 ? whole : b)))
  // Pack at a tid in the middle of a chain: the kept version of each block becomes an image.
  const cut = MAX_DEPTH + 4
  await s.pack(cut)
  assert.equal(rows(path, 0)[0][0], cut)
  assert.equal(rows(path, 0)[0][1], 1, 'the kept piece version was folded into an image')
  readAll()
  assert.deepEqual((await s.check()).damage, [])
})

test('a flipped bit in a piece is ECORRUPT naming the block and the tid read, and check finds it', async (t) => {
  const path = join(tmpDir(t), 'c.bigfile')
  const s = SQLiteStorage.open(path)
  let txn = (await s.begin()) as StorageTxn
  const f = txn.createFile({ name: 'f', blksize: BS, size: BS, meta: {} }) as number
  const d = fresh(1)
  txn.writeBlock(f, 0, d)
  await txn.commit()
  txn = (await s.begin()) as StorageTxn
  d.fill(7, 1000, 1008)
  txn.writeBlock(f, 0, d)
  await txn.commit()
  txn = (await s.begin()) as StorageTxn
  d.fill(9, 5000, 5008)
  txn.writeBlock(f, 0, d)
  await txn.commit()
  assert.deepEqual(
    rows(path, 0).map(([tid, kind]) => [tid, kind]),
    [
      [1, 1],
      [2, 2],
      [3, 2],
    ],
  )
  s.close()
  // The piece of tid 2: its record is the 4 KiB around byte 1000, after 4 + 8 bytes of its header.
  const raw = new DatabaseSync(path, { readOnly: true })
  const { seg, off } = raw.prepare('SELECT seg, off FROM blocks WHERE tid = 2').get() as {
    seg: number
    off: number
  }
  raw.close()
  const segPath = join(`${path}-seg`, seg.toString(16).padStart(8, '0'))
  const bytes = readFileSync(segPath)
  bytes[off + 12 + 1003] ^= 0x10
  writeFileSync(segPath, bytes)
  const ro = SQLiteStorage.open(path, { readOnly: true })
  t.after(() => ro.close())
  const buf = new Uint8Array(BS)
  ro.loadBlock(f, 0, 1, buf) // below the damage: fine
  for (const tid of [2, 3]) {
    assert.throws(() => ro.loadBlock(f, 0, tid, buf), { code: 'ECORRUPT', blk: 0, tid })
  }
  const r = await ro.check()
  assert.deepEqual(
    r.damage.map((x) => [x.blk, x.tid]),
    [
      [0, 2],
      [0, 3],
    ],
  )
})
