import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { Database, SQLiteStorage } from '../../src/db/index.ts'
import { BigFileError } from '../../src/errors.ts'
import { FaultyStorage } from './faulty.ts'
import { PS, ram, tmpDir } from './helpers.ts'

const BS = 16 << 10 // 4 blocks per page: several writes per dirty page

async function setup(path: string): Promise<void> {
  const db = await Database.open(SQLiteStorage.open(path))
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('f', { create: { blksize: BS, size: 8 * PS, meta: { v: 1 } } })
  const v = f.mmap(0, 8)
  for (let pg = 0; pg < 8; pg++) v.setFloat64(pg * PS, 1)
  v.unmap()
  await conn.commit()
  await db.close()
}

/** What a clean process sees: the values of pages 0..7 and the meta. */
async function committed(path: string): Promise<[number[], unknown]> {
  const db = await Database.open(SQLiteStorage.open(path))
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('f')
  const v = f.mmap(0, 8)
  const vals = Array.from({ length: 8 }, (_, pg) => v.getFloat64(pg * PS))
  v.unmap()
  await db.close()
  return [vals, f.meta]
}

/** The scenario: read pages, write three of them, change meta, create a file, commit. */
async function scenario(db: Database, r: ReturnType<typeof ram>) {
  const conn = db.connect({ ram: r })
  const f = await conn.open('f')
  const v = f.mmap(0, 8)
  for (let pg = 0; pg < 8; pg++) v.getFloat64(pg * PS)
  for (const pg of [0, 2, 5]) v.setFloat64(pg * PS, 2)
  f.setMeta({ v: 2 })
  const g = await conn.open('g', { create: { blksize: BS } })
  g.mmap(0, 1).setUint8(0, 1)
  await conn.commit()
  return { conn, f, v, g }
}

for (const async of [false, true]) {
  test(`fault on the k-th storage write, for every k (${async ? 'async' : 'sync'} failures)`, async (t) => {
    const path = join(tmpDir(t), 'w.bigfile')
    await setup(path)
    const count = new FaultyStorage(SQLiteStorage.open(path))
    const db0 = new Database(count, 1)
    await scenario(db0, ram())
    const writes = count.writes
    await db0.close()
    assert.ok(writes >= 6, `scenario makes ${writes} writes`)
    await setup(`${path}.2`)
    const base = await committed(`${path}.2`)
    for (let k = 1; k <= writes; k++) {
      const p = `${path}.k${k}`
      await setup(p)
      const s = new FaultyStorage(SQLiteStorage.open(p))
      s.async = async
      s.failWrite = k
      const db = new Database(s, 1)
      const r = ram()
      const conn = db.connect({ ram: r })
      const f = await conn.open('f')
      const v = f.mmap(0, 8)
      for (const pg of [0, 2, 5]) v.setFloat64(pg * PS, 2)
      f.setMeta({ v: 2 })
      const g = await conn.open('g', { create: { blksize: BS } })
      const gv = g.mmap(0, 1)
      gv.setUint8(0, 1)
      const err = await conn.commit().then(
        () => undefined,
        (e: unknown) => e,
      )
      assert.ok(err instanceof BigFileError, `k=${k}: typed error, got ${String(err)}`)
      assert.deepEqual(await committed(p), base, `k=${k}: nothing partially visible`)
      assert.ok(f.fileh.isDirty(), `k=${k}: pages stay dirty`)
      await conn.abort()
      assert.equal(f.fileh.isDirty(), false)
      assert.equal(v.getFloat64(0), 1)
      assert.deepEqual(f.meta, { v: 1 })
      assert.equal(g.gone, true)
      // it can go on and commit
      v.setFloat64(0, 3)
      await conn.commit()
      assert.equal((await committed(p))[0][0], 3)
      assert.equal(
        r.stats().used,
        f.fileh.residentPages().length + g.fileh.residentPages().length,
        `k=${k}: no page leaked`,
      )
      v.unmap()
      gv.unmap()
      conn.close()
      assert.equal(r.stats().used, 0, `k=${k}: every frame back`)
      await db.close()
    }
  })

  test(`fault on the k-th storage read, for every k (${async ? 'async' : 'sync'} failures)`, async (t) => {
    const path = join(tmpDir(t), 'r.bigfile')
    await setup(path)
    const count = new FaultyStorage(SQLiteStorage.open(path))
    const db0 = new Database(count, 1)
    const { conn: c0 } = await scenario(db0, ram())
    await c0.sync()
    const reads = count.reads
    await db0.close()
    for (let k = 1; k <= reads; k++) {
      const p = `${path}.k${k}`
      await setup(p)
      const s = new FaultyStorage(SQLiteStorage.open(p))
      s.async = async
      s.failRead = k
      const db = new Database(s, 1)
      const r = ram()
      let err: unknown
      let conn: ReturnType<Database['connect']> | undefined
      try {
        conn = db.connect({ ram: r })
        const f = await conn.open('f')
        const v = f.mmap(0, 8)
        for (let pg = 0; pg < 8; pg++) await v.fault(pg * PS, 8)
        for (const pg of [0, 2, 5]) v.setFloat64(pg * PS, 2)
        f.setMeta({ v: 2 })
        await conn.commit()
        await conn.sync()
        v.unmap()
      } catch (e) {
        err = e
      }
      if (err !== undefined) assert.ok(err instanceof BigFileError, `k=${k}: typed error, got ${String(err)}`)
      s.failRead = 0
      if (conn && !conn.closed) {
        await conn.abort()
        conn[Symbol.dispose]()
      }
      assert.equal(r.stats().used, 0, `k=${k}: no page leaked`)
      const [vals] = await committed(p)
      assert.ok(vals[0] === 1 || vals[0] === 2, `k=${k}: old or new state`)
      await db.close()
    }
  })
}
