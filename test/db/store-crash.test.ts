// A crash between the segment write and the index commit leaves only an unindexed tail: the reopened
// database shows the last committed transaction whole, the tail is never read, and the next writer cuts
// it and writes over it. Count-based: the child reports that its bytes are in the segment and waits to
// be killed right there; some trials use small segments so the tail spans fresh, unindexed segment files.
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { SQLiteStorage } from '../../src/db/sqlite/storage.ts'
import { tmpDir } from './helpers.ts'
import { BLOCKS, BS, fill } from './store-tailwriter.ts'

const CHILD = fileURLToPath(new URL('./store-tailwriter.ts', import.meta.url))
const TRIALS = Number(process.env.BIGFILE_CRASH_TRIALS ?? 50) >= 50 ? 12 : 4

function runChild(
  path: string,
  acks: number,
  segBytes: number,
): Promise<{ committed: number; appended: number }> {
  return new Promise((resolve, reject) => {
    const child = fork(CHILD, [path, String(acks), String(segBytes)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    let committed = -1
    let appended = -1
    child.on('message', (m: { committed?: number; appended?: number }) => {
      if (m.committed !== undefined) committed = m.committed
      if (m.appended !== undefined) {
        appended = m.appended
        child.kill('SIGKILL')
      }
    })
    child.once('exit', () =>
      appended < 0
        ? reject(new Error('the child exited before appending'))
        : resolve({ committed, appended }),
    )
  })
}

/** Segment file sizes on disk, and the indexed high-water marks. */
function segments(path: string): { disk: Map<number, number>; indexed: Map<number, number> } {
  const dir = `${path}-seg`
  const disk = new Map<number, number>()
  for (const name of readdirSync(dir)) disk.set(Number.parseInt(name, 16), statSync(join(dir, name)).size)
  const raw = new DatabaseSync(path, { readOnly: true })
  const rows = raw.prepare('SELECT id, size FROM segments').all() as { id: number; size: number }[]
  raw.close()
  return { disk, indexed: new Map(rows.map((r) => [r.id, r.size])) }
}

const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0)

async function verify(s: SQLiteStorage, n: number): Promise<void> {
  assert.equal(s.head(), n)
  const f = s.fileByName('f', n)
  assert.deepEqual(f?.meta, { n })
  const buf = new Uint8Array(BS * BLOCKS)
  s.loadBlocks(f!.id, 0, BLOCKS, n, buf)
  for (let blk = 0; blk < BLOCKS; blk++) {
    const want = fill(n, blk)
    const row = buf.subarray(blk * BS, (blk + 1) * BS)
    assert.ok(
      row.every((x) => x === want),
      `block ${blk} is transaction ${n}'s`,
    )
  }
}

test(`store crash: SIGKILL between segment write and index commit, ${TRIALS} times; the tail is ignored, then cut`, async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'tail.bigfile')
  let n = 0
  for (let i = 0; i < TRIALS; i++) {
    const acks = i % 3
    // Every third trial: 1 MiB segments, so a transaction (1.5 MiB) spans new segment files.
    const segBytes = i % 3 === 2 ? 1 << 20 : 256 << 20
    const r = await runChild(path, acks, segBytes)
    assert.equal(r.appended, n + acks + 1)
    n += acks
    // (1) An unindexed tail is there: more bytes on disk than the index accounts for.
    const before = segments(path)
    assert.ok(total(before.disk) > total(before.indexed), `trial ${i}: the killed writer left a tail`)
    for (const [id, size] of before.indexed) assert.ok((before.disk.get(id) ?? 0) >= size)
    // (2) Reopened, read-only and read-write: exactly transaction n, whole.
    const ro = SQLiteStorage.open(path, { readOnly: true })
    if (n > 0) await verify(ro, n)
    else assert.equal(ro.head(), 0)
    ro.close()
    // (3) The next writer commits over the tail: every indexed segment ends at its high-water mark.
    const s = SQLiteStorage.open(path, { _segmentBytes: segBytes })
    const txn = await s.begin()
    n++
    let file = s.fileByName('f', n - 1)?.id
    if (file === undefined)
      file = txn.createFile({ name: 'f', blksize: BS, size: BS * BLOCKS, meta: {} }) as number
    txn.updateFile(file, { meta: { n } })
    for (let blk = 0; blk < BLOCKS; blk++) txn.writeBlock(file, blk, new Uint8Array(BS).fill(fill(n, blk)))
    await txn.commit()
    await verify(s, n)
    const check = await s.check()
    assert.deepEqual(check.damage, [])
    s.close()
    const after = segments(path)
    for (const [id, size] of after.indexed)
      assert.equal(after.disk.get(id), size, `trial ${i}: segment ${id} was cut to its mark`)
  }
})
