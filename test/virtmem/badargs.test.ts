// Public entry points validate their arguments: typed EINVAL, never a TypeError from deep inside; and a
// zero-length markNonVolatile touches no page.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { openDatabase } from '../../src/db/index.ts'
import { MemoryBigFile } from '../../src/virtmem/bigfile.ts'
import { FileH } from '../../src/virtmem/fileh.ts'
import { RAM } from '../../src/virtmem/ram.ts'
import { ram as dbRam, PS, reclaimAll, tmpDir } from '../db/helpers.ts'

const EINVAL = { code: 'EINVAL' }
const P = 4096
const newRam = () => new RAM({ pagesize: P, capacity: 16 * P })
const bad = <T>(x: unknown) => x as T

test('RAM, FileH and VMA refuse missing or wrong arguments with EINVAL', async () => {
  assert.throws(() => new RAM(bad(undefined)), EINVAL)
  assert.throws(() => new RAM(bad(null)), EINVAL)
  assert.throws(() => new RAM(bad(42)), EINVAL)
  const ram = newRam()
  assert.throws(() => new FileH(bad(null), ram), EINVAL)
  assert.throws(() => new FileH(bad({ blksize: P }), ram), EINVAL)
  assert.throws(() => new FileH(new MemoryBigFile(P), bad(null)), EINVAL)
  assert.throws(() => new FileH(new MemoryBigFile(P), bad({ pagesize: P })), EINVAL)
  assert.throws(() => new FileH(new MemoryBigFile(P), ram, bad(null)), EINVAL)
  assert.throws(() => FileH.scratch(bad(null)), EINVAL)
  const fh = new FileH(new MemoryBigFile(P), ram)
  const vma = fh.mmap(0, 2)
  assert.throws(() => vma.readBytes(0, bad(null)), EINVAL)
  assert.throws(() => vma.readBytes(0, bad([1, 2])), EINVAL)
  assert.throws(() => vma.writeBytes(0, bad(null)), EINVAL)
  await assert.rejects(vma.write(0, bad('abc')), EINVAL)
  vma.unmap()
  fh.close()
})

test('markNonVolatile(off, 0) on a scratch file un-marks nothing', () => {
  const ram = newRam()
  const fh = FileH.scratch(ram)
  fh.markVolatile(0, 4 * P)
  assert.deepEqual(fh.volatileRanges(), [{ pgstart: 0, pgend: 4 }])
  for (const off of [0, 100, P + 7, 4 * P]) {
    assert.deepEqual(fh.markNonVolatile(off, 0), { purged: false })
    assert.deepEqual(fh.volatileRanges(), [{ pgstart: 0, pgend: 4 }], `markNonVolatile(${off}, 0)`)
  }
  assert.deepEqual(fh.markNonVolatile(P + 7, 1), { purged: false })
  assert.deepEqual(fh.volatileRanges(), [
    { pgstart: 0, pgend: 1 },
    { pgstart: 2, pgend: 4 },
  ])
  assert.throws(() => fh.markNonVolatile(-1, 0), EINVAL)
  fh.close()
})

test('db entry points refuse null options with EINVAL', async (t) => {
  const db = await openDatabase(join(tmpDir(t), 'a.db'))
  t.after(() => db.close())
  assert.throws(() => db.connect(bad(null)), EINVAL)
  const conn = db.connect({ ram: dbRam() })
  await assert.rejects(conn.open('f', bad(null)), EINVAL)
  await assert.rejects(db.pack(bad(null)), EINVAL)
  await assert.rejects(db.check(bad(null)), EINVAL)
  await assert.rejects(db.createFile('f', bad(null)), EINVAL)
  await assert.rejects(openDatabase(join(tmpDir(t), 'b.db'), bad(7)), EINVAL)
})

test('a read after another database object packed past this snapshot: ELOAD whose cause is ESTALE', async (t) => {
  const path = join(tmpDir(t), 's.db')
  const a = await openDatabase(path)
  const b = await openDatabase(path)
  t.after(async () => {
    await a.close()
    await b.close()
  })
  const w = b.connect({ ram: dbRam() })
  const f = await w.open('f', { create: { blksize: PS, size: PS } })
  const v = f.mmap(0, 1)
  v.setFloat64(0, 1)
  await w.commit()
  const r = dbRam()
  const reader = a.connect({ ram: r })
  const rf = await reader.open('f')
  const rv = rf.mmap(0, 1)
  assert.equal(rv.getFloat64(0), 1)
  v.setFloat64(0, 2)
  await w.commit()
  await b.pack() // b does not know a's connection: its snapshot falls behind the cutoff
  reclaimAll(r)
  assert.throws(
    () => rv.getFloat64(0),
    (e: { code?: string; cause?: { code?: string } }) => {
      assert.equal(e.code, 'ELOAD')
      assert.equal(e.cause?.code, 'ESTALE')
      return true
    },
  )
  // sync() moves it on, and the read succeeds again.
  rv.unmap()
  await reader.sync()
  const rv2 = rf.mmap(0, 1)
  assert.equal(rv2.getFloat64(0), 2)
  rv2.unmap()
  v.unmap()
})
