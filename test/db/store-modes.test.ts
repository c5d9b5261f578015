// The segment store in its other modes: a read-only open creates and writes nothing (no segment
// directory either; only SQLite's own -wal/-shm of a WAL reader may appear), and an in-memory database
// keeps its segments in memory, pack included.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { openDatabase } from '../../src/db/index.ts'
import { SQLiteStorage } from '../../src/db/sqlite/storage.ts'
import { PS, ram, tmpDir } from './helpers.ts'

/** Every file under `dir` (subdirectories too) with a hash of its bytes and its mtime; SQLite's -wal/-shm aside. */
function snapshot(dir: string): Map<string, string> {
  const m = new Map<string, string>()
  const walk = (d: string, prefix: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.endsWith('-wal') || name.endsWith('-shm')) continue
      const p = join(d, name)
      const st = statSync(p)
      if (st.isDirectory()) {
        m.set(`${prefix}${name}/`, '')
        walk(p, `${prefix}${name}/`)
      } else
        m.set(
          `${prefix}${name}`,
          `${st.mtimeMs}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`,
        )
    }
  }
  walk(dir, '')
  return m
}

test('read-only: reading, range loads and check create and write nothing', async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'ro.bigfile')
  const db = await openDatabase(path)
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('f', { create: { blksize: PS, size: 4 * PS } })
  const v = f.mmap(0, 4)
  for (let i = 0; i < 4; i++) v.setFloat64(i * PS, i + 0.5)
  v.unmap()
  await conn.commit()
  await db.close()
  const before = snapshot(dir)
  assert.ok(before.has('ro.bigfile-seg/00000001'))
  const s = SQLiteStorage.open(path, { readOnly: true })
  const rec = s.fileByName('f', 1)!
  const buf = new Uint8Array(4 * PS)
  s.loadBlocks(rec.id, 0, 4, 1, buf)
  s.loadBlock(rec.id, 2, 1, buf.subarray(0, PS))
  assert.equal(new DataView(buf.buffer).getFloat64(0, true), 2.5)
  assert.deepEqual((await s.check()).damage, [])
  assert.throws(() => s.begin(), { code: 'EROFS' })
  assert.throws(() => s.pack(1), { code: 'EROFS' })
  s.close()
  assert.deepEqual(snapshot(dir), before)
})

test('read-only: a database with no block stored yet gets no segment directory', async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'empty.bigfile')
  const db = await openDatabase(path)
  const conn = db.connect({ ram: ram() })
  await conn.open('f', { create: { blksize: PS, size: 4 * PS } })
  await conn.commit()
  await db.close()
  assert.deepEqual(readdirSync(dir), ['empty.bigfile'], 'a commit without blocks makes no segment')
  const ro = await openDatabase(path, { readOnly: true })
  const c = ro.connect({ ram: ram() })
  const f = await c.open('f')
  const v = f.mmap(0, 4)
  assert.equal(v.getFloat64(3 * PS), 0)
  v.unmap()
  await ro.close()
  assert.ok(!readdirSync(dir).includes('empty.bigfile-seg'))
})

test('in memory: segments in memory; writes, range loads, rewrites, pack and check', async () => {
  const s = SQLiteStorage.open(':memory:', { memory: true, _segmentBytes: 4096 + 2 * PS })
  const fill = async (n: number, blks: number[]) => {
    const txn = await s.begin()
    let id = s.fileByName('m', txn.tid - 1)?.id
    if (id === undefined) id = txn.createFile({ name: 'm', blksize: PS, size: 6 * PS, meta: {} }) as number
    for (const b of blks) txn.writeBlock(id, b, new Uint8Array(PS).fill(n * 10 + b))
    await txn.commit()
    return id
  }
  const id = await fill(1, [0, 1, 2, 3, 4, 5])
  await fill(2, [1, 3, 5])
  const rolled = await s.begin()
  rolled.writeBlock(id, 0, new Uint8Array(PS).fill(99))
  rolled.rollback()
  const want = [10, 21, 12, 23, 14, 25]
  const read = () => {
    const buf = new Uint8Array(6 * PS)
    s.loadBlocks(id, 0, 6, s.head(), buf)
    return want.map((_, b) => buf[b * PS + 7])
  }
  assert.deepEqual(read(), want)
  const r = await s.pack(2)
  assert.equal(r.blocksRemoved, 3)
  assert.deepEqual(read(), want)
  assert.deepEqual((await s.check()).damage, [])
  s.close()
})
