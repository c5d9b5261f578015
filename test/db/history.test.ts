// History: historical connections (db.connect({ ram, at })), the commit log as data, and what pack keeps.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { BigArray } from '../../src/array/index.ts'
import { Database, openDatabase, SQLiteStorage, type Storage, type Tid } from '../../src/db/index.ts'
import { faulted, type StorageKind, storageTest } from '../helpers/storages.ts'
import { PS, ram, reclaimAll, tmpDir } from './helpers.ts'
import { Peer } from './peer.ts'

/** Elements of float64 per page. */
const E = PS / 8

/**
 * Three versions of array 'a' (float64, one block per page), committed as tids 1, 2, 3:
 * v1 = [0, 1, 2, ...] over 3 pages; v2 negates page 1; v3 sets a[0] = 42 and appends a page of 1000 + i.
 */
async function threeVersions(db: Database): Promise<{ tids: Tid[]; versions: Float64Array[] }> {
  const w = db.connect({ ram: ram() })
  const v1 = Float64Array.from({ length: 3 * E }, (_, i) => i)
  const a = await BigArray.create(w, 'a', { dtype: 'float64', shape: [3 * E] })
  await a.copyFrom(v1)
  const t1 = await w.commit()
  const v2 = v1.map((x, i) => (i >= E && i < 2 * E ? -x : x))
  for (let i = E; i < 2 * E; i++) a.set1(i, -i)
  const t2 = await w.commit()
  const v3 = new Float64Array(4 * E)
  v3.set(v2)
  v3[0] = 42
  for (let i = 0; i < E; i++) v3[3 * E + i] = 1000 + i
  a.set1(0, 42)
  await a.append(v3.subarray(3 * E))
  const t3 = await w.commit()
  w.close()
  return { tids: [t1, t2, t3], versions: [v1, v2, v3] }
}

/** Every element of `a` equals `want`, read in order. */
function assertReads(a: BigArray, want: Float64Array, what: string): void {
  assert.equal(a.length, want.length, `${what}: length`)
  for (let i = 0; i < want.length; i++) {
    if (a.get1(i) !== want[i]) assert.fail(`${what}: element ${i} is ${a.get1(i)}, want ${want[i]}`)
  }
}

// SQLite only, as the pack test below: they open the past with the synchronous connect({ ram, at }) and
// read with synchronous element access, which an asynchronous storage refuses by design (the same
// contract through snapshot(): the tests after this one; pack on both storages: pack.test.ts).
test('connections at each tid read each version exactly, through a 1-page RAM', async (t) => {
  const db = await openDatabase(join(tmpDir(t), 'h.bigfile'))
  const { tids, versions } = await threeVersions(db)
  assert.deepEqual(tids, [1, 2, 3])
  const conns = tids.map((at) => {
    const r = ram(1) // one page frame: every page read reloads its block
    const c = db.connect({ ram: r, at })
    assert.equal(c.at, at)
    assert.equal(c.readOnly, true)
    return { r, c }
  })
  const arrays = await Promise.all(conns.map(({ c }) => BigArray.open(c, 'a')))
  for (let k = 0; k < 3; k++) {
    const { r } = conns[k]
    const pages = versions[k].length / E
    const before = r.counters.loads
    assertReads(arrays[k], versions[k], `tid ${tids[k]}`)
    assertReads(arrays[k], versions[k], `tid ${tids[k]} again`)
    assert.equal(r.counters.loads - before, 2 * pages, 'each page was loaded once per pass')
    assert.equal(r.stats().used, 1)
  }
  // A newer commit (tid 4) changes nothing they read, after reclaim too.
  const w = db.connect({ ram: ram() })
  const a = await BigArray.open(w, 'a')
  await a.fill(-1)
  assert.equal(await w.commit(), 4)
  for (let k = 0; k < 3; k++) {
    reclaimAll(conns[k].r)
    assertReads(arrays[k], versions[k], `tid ${tids[k]} after tid 4`)
  }
  // A live connection opened now reads tid 4; a Date picks the newest commit at or before it.
  const log = await db.log()
  assert.deepEqual(
    log.map((c) => c.tid),
    [4, 3, 2, 1],
  )
  for (const c of log) {
    const same = log.filter((d) => d.time.getTime() === c.time.getTime())
    const want = Math.max(...same.map((d) => d.tid))
    const h = db.connect({ ram: ram(1), at: c.time })
    assert.equal(h.at, want)
    h.close()
  }
  const t1 = log[3].time.getTime()
  const before = db.connect({ ram: ram(1), at: new Date(t1 - 1) })
  assert.equal(before.at, 0, 'before the first commit: the empty database')
  assert.deepEqual(await before.list(), [])
  await assert.rejects(BigArray.open(before, 'a'), { code: 'ENOENT' })
  before.close()
  assert.equal(await db.tidAt(new Date(Date.now() + 3600_000)), 4)
  // Past the head, or not a tid: refused at open.
  assert.throws(() => db.connect({ ram: ram(1), at: 5 }), { code: 'ENOENT' })
  for (const bad of [-1, 1.5, Number.NaN, '2' as unknown as number, new Date(Number.NaN)]) {
    assert.throws(() => db.connect({ ram: ram(1), at: bad }), { code: 'EINVAL' }, String(bad))
  }
  // stat/files as of a tid
  assert.equal((await db.stat('a', { at: 2 })).size, 3 * PS)
  assert.equal((await db.stat('a', { at: 3 })).size, 4 * PS)
  assert.deepEqual(await db.files({ at: 0 }), [])
  for (const { c } of conns) c.close()
  w.close()
  await db.close()
})

storageTest(
  'a historical connection refuses writes, record changes, creations, commit and sync with EROFS',
  async (t, s) => {
    const db = await openDatabase(await s.location(t))
    const { versions } = await threeVersions(db)
    const r = ram(4)
    const h = await db.snapshot({ ram: r, at: 2 })
    const a = await BigArray.open(h, 'a')
    const rofs = { code: 'EROFS' }
    await assert.rejects(a.setAsync(0, 5), rofs)
    assert.equal(await a.getAsync(0), 0, 'the page was read, not written')
    await a.getAsync(E)
    assert.throws(() => a.set1(E, 5), rofs, 'a resident page too')
    await assert.rejects(a.setAsync(2 * E, 5), rofs)
    await assert.rejects(a.fill(3), rofs)
    await assert.rejects(a.resize([10]), rofs)
    await assert.rejects(a.append([1]), rofs)
    const f = await h.open('a')
    const v = f.mmap(0, 3)
    assert.throws(() => v.pin(0, 8, { write: true }), rofs)
    await assert.rejects(v.write(8, new Uint8Array(8)), rofs)
    assert.throws(() => f.setMeta({}), rofs)
    await assert.rejects(f.resize(0), rofs)
    await assert.rejects(h.open('new', { create: { blksize: PS } }), rofs)
    await assert.rejects(BigArray.create(h, 'new2', { dtype: 'int8', shape: [1] }), rofs)
    assert.equal(h.hasChanges(), false)
    await assert.rejects(h.commit(), rofs)
    await assert.rejects(h.sync(), rofs)
    await h.abort()
    assert.equal(h.at, 2, 'abort does not move it')
    const got = new Float64Array(a.length)
    await a.copyTo(got)
    assert.deepEqual(got, versions[1], 'after the refusals')
    assert.equal((await faulted(v, E * 8)).getFloat64(E * 8), -E)
    v.unmap()
    h.close()
    await assert.rejects(h.commit(), { code: 'ECLOSED' })
    await db.close()
  },
)

storageTest('a historical connection survives other processes’ commits', async (t, s) => {
  const path = await s.location(t)
  const p = new Peer()
  t.after(() => p.exit())
  await p.call('open', path, PS)
  await p.call('create', 'f', PS)
  await p.call('write', 'f', 0, 1)
  await p.call('write', 'f', PS, 1)
  await p.call('commit') // tid 1
  await p.call('write', 'f', 0, 2)
  await p.call('commit') // tid 2

  const db = await openDatabase(path)
  const r = ram(1)
  const h = await db.snapshot({ ram: r, at: 1 })
  const live = db.connect({ ram: ram(4) })
  await live.sync()
  assert.equal(live.at, 2)
  const v = (await h.open('f')).mmap(0, 2)
  assert.equal((await faulted(v, 0)).getFloat64(0), 1)
  for (let i = 3; i <= 5; i++) {
    await p.call('write', 'f', 0, i)
    await p.call('write', 'f', PS, i)
    await p.call('commit') // tids 3..5 in the child process
    reclaimAll(r)
    assert.equal((await faulted(v, 0)).getFloat64(0), 1, `block 0 at tid 1, after the child's tid ${i}`)
    assert.equal((await faulted(v, PS)).getFloat64(PS), 1, `block 1 at tid 1, after the child's tid ${i}`)
  }
  assert.equal(h.at, 1)
  await live.sync()
  assert.equal(live.at, 5)
  const lv = (await live.open('f')).mmap(0, 2)
  assert.equal((await faulted(lv, 0)).getFloat64(0), 5)
  // The child's commits are in the log, with their files.
  const log = await db.log({ from: 3 })
  assert.deepEqual(
    log.map((c) => [c.tid, c.files.map((f) => [f.name, f.blocks])]),
    [
      [5, [['f', [0, 1]]]],
      [4, [['f', [0, 1]]]],
      [3, [['f', [0, 1]]]],
    ],
  )
  lv.unmap()
  v.unmap()
  await db.close()
})

// SQLite only: synchronous connect({ ram, at }) and reads (see the first test).
test('pack with keep makes exactly the older tids stale; a historical connection is kept until closed', async (t) => {
  const path = join(tmpDir(t), 'pack.bigfile')
  const db = await openDatabase(path)
  const w = db.connect({ ram: ram() })
  const f = await w.open('f', { create: { blksize: PS } })
  const v = f.mmap(0, 2)
  for (let i = 1; i <= 6; i++) {
    v.setFloat64(0, i)
    if (i % 2) v.setFloat64(PS, i)
    // Commit times have the clock's resolution: two commits in one millisecond share a time, and tidAt of
    // that time is the newer one. Each commit gets its own millisecond, so tidAt below names one tid.
    const t0 = Date.now()
    while (Date.now() === t0) await new Promise((r) => setTimeout(r, 1))
    await w.commit()
  }
  v.unmap()
  w.close()
  // tid i: block 0 = i; block 1 = the newest odd tid <= i
  const read = (c: ReturnType<Database['connect']>) =>
    c.open('f').then((file) => {
      const m = file.mmap(0, 2)
      try {
        return [m.getFloat64(0), m.getFloat64(PS)]
      } finally {
        m.unmap()
      }
    })
  const want = (i: number) => [i, i % 2 ? i : i - 1]

  const res = await db.pack({ keep: 2 })
  assert.equal(res.cutoff, 4)
  assert.equal(res.head, 6)
  for (let at = 0; at <= 6; at++) {
    if (at < 4) {
      assert.throws(() => db.connect({ ram: ram(1), at }), { code: 'ESTALE' }, `tid ${at}`)
      await assert.rejects(db.snapshot({ ram: ram(1), at }), { code: 'ESTALE' })
      await assert.rejects(db.tidAt(at), { code: 'ESTALE' })
      continue
    }
    const h = db.connect({ ram: ram(1), at })
    assert.deepEqual(await read(h), want(at), `tid ${at}`)
    h.close()
  }
  // The log keeps the cutoff's own entry: every readable tid is listed, and its time finds it.
  const log = await db.log()
  assert.deepEqual(
    log.map((c) => c.tid),
    [6, 5, 4],
  )
  assert.deepEqual(log[2].files[0].blocks, [0])
  assert.equal(await db.tidAt(log[2].time), 4)
  // another process sees the same cutoff at open
  const other = await openDatabase(path)
  assert.throws(() => other.connect({ ram: ram(1), at: 3 }), { code: 'ESTALE' })
  assert.equal(other.connect({ ram: ram(1), at: 4 }).at, 4)
  await other.close()

  // A historical connection of this process holds the cutoff at its tid until it is closed.
  const r = ram(1)
  {
    using h = db.connect({ ram: r, at: 4 })
    assert.equal((await db.pack()).cutoff, 4)
    reclaimAll(r)
    assert.deepEqual(await read(h), want(4))
  }
  // block 0 at tids 4, 5 and block 1 at tid 3 (kept for tid 4 until now) go
  assert.deepEqual(await db.pack(), { cutoff: 6, head: 6, blocksRemoved: 3, recordsRemoved: 0 })
  assert.throws(() => db.connect({ ram: ram(1), at: 5 }), { code: 'ESTALE' })
  assert.deepEqual(
    (await db.log()).map((c) => c.tid),
    [6],
  )

  // A pack decided but waiting for the writer: a snapshot older than its cutoff is already refused.
  await db.createFile('g', { blksize: PS }) // 7
  const txn = await db.storage.begin()
  const packing = db.pack()
  await new Promise(setImmediate)
  assert.throws(() => db.connect({ ram: ram(1), at: 6 }), { code: 'ESTALE' })
  await txn.rollback()
  assert.equal((await packing).cutoff, 7)
  await db.close()
})

storageTest('log lists what was committed, newest first, with times that never go back', async (t, s) => {
  const path = await s.location(t)
  const db = await openDatabase(path)
  const t0 = Date.now()
  await db.createFile('a', { blksize: 4096, size: 3 * 4096 }) // 1
  const w = db.connect({ ram: ram(8, 4096) })
  const va = (await w.open('a')).mmap(0, 3)
  ;(await faulted(va, 0)).setFloat64(0, 1)
  ;(await faulted(va, 2 * 4096)).setFloat64(2 * 4096, 1)
  await w.commit() // 2: a blocks 0, 2
  const b = await w.open('b', { create: { blksize: 4096, size: 4096, meta: { x: 1 } } })
  const vb = b.mmap(0, 1)
  ;(await faulted(vb, 0)).setFloat64(0, 2)
  ;(await faulted(va, 4096)).setFloat64(4096, 2)
  await w.commit() // 3: b created with block 0, a block 1
  vb.unmap()
  va.unmap()
  w.close()
  await db.renameFile('b', 'c') // 4
  await db.deleteFile('a') // 5
  const t1 = Date.now()

  const log = await db.log()
  const shape = log.map((c) => [
    c.tid,
    c.files.map((f) => ({ name: f.name, blocks: f.blocks, record: f.record, deleted: f.deleted })),
  ])
  assert.deepEqual(shape, [
    [5, [{ name: 'a', blocks: [], record: true, deleted: true }]],
    [4, [{ name: 'c', blocks: [], record: true, deleted: false }]],
    [
      3,
      [
        { name: 'a', blocks: [1], record: false, deleted: false },
        { name: 'b', blocks: [0], record: true, deleted: false },
      ],
    ],
    [2, [{ name: 'a', blocks: [0, 2], record: false, deleted: false }]],
    [1, [{ name: 'a', blocks: [], record: true, deleted: false }]],
  ])
  const times = log.map((c) => c.time.getTime()).reverse()
  for (let i = 0; i < times.length; i++) {
    assert.ok(times[i] >= t0 && times[i] <= t1, `time of tid ${i + 1} within the run`)
    if (i > 0) assert.ok(times[i] >= times[i - 1], `tid ${i + 1} is not earlier than tid ${i}`)
  }
  // limit, from, to, and one file's history under all its names
  assert.deepEqual(
    (await db.log({ limit: 2 })).map((c) => c.tid),
    [5, 4],
  )
  assert.deepEqual(
    (await db.log({ from: 2, to: 3 })).map((c) => c.tid),
    [3, 2],
  )
  assert.deepEqual(
    (await db.log({ name: 'c' })).map((c) => [c.tid, c.files.map((f) => f.name)]),
    [
      [4, ['c']],
      [3, ['b']],
    ],
  )
  assert.deepEqual(
    (await db.log({ name: 'a', to: 4, limit: 1 })).map((c) => c.tid),
    [3],
  )
  await assert.rejects(db.log({ name: 'a' }), { code: 'ENOENT' }, 'a is deleted at the head')
  await assert.rejects(db.log({ limit: 0 }), { code: 'EINVAL' })
  await assert.rejects(db.log({ from: -1 }), { code: 'EINVAL' })

  // A clock that steps back: the commit takes the previous commit's time, so times never go back.
  const future = Date.now() + 86_400_000
  await rawSql(s, path, 'UPDATE log SET time = $1 WHERE tid = 5', [future / 1000])
  await db.createFile('d', { blksize: 4096 }) // 6
  const [six, five] = await db.log({ limit: 2 })
  assert.equal(five.time.getTime(), future)
  assert.equal(six.time.getTime(), future)
  assert.equal(await db.tidAt(new Date(future)), 6)
  assert.equal(await db.tidAt(new Date(future - 1)), 4)
  await db.close()
})

/** Runs one statement on the storage's own tables, behind the database's back (`$1` parameters). */
async function rawSql(s: StorageKind, location: string, sql: string, values: unknown[]): Promise<void> {
  if (s.name === 'sqlite') {
    const raw = new DatabaseSync(location)
    try {
      raw.prepare(sql.replace(/\$(\d+)/g, '?$1')).run(...(values as number[]))
    } finally {
      raw.close()
    }
    return
  }
  const pg = (await import('pg')).default
  const c = new pg.Client({ connectionString: location })
  await c.connect()
  try {
    await c.query('SET search_path TO bigfile')
    await c.query(sql, values)
  } finally {
    await c.end()
  }
}

/** `inner` with every read answered by a Promise, as an asynchronous storage (PostgreSQL) answers. */
function asyncReads(inner: Storage): Storage {
  const sync = new Set(['begin', 'pack', 'close'])
  return new Proxy(inner, {
    get(target, key) {
      const v = Reflect.get(target, key)
      if (typeof v !== 'function') return v
      if (sync.has(key as string)) return v.bind(target)
      return (...args: unknown[]) => Promise.resolve().then(() => v.apply(target, args))
    },
  })
}

// SQLite behind a Proxy that answers every read with a Promise: the Database's asynchronous path for
// any storage, apart from PostgreSQL's (which the tests above run on for real).
test('a storage that answers asynchronously: snapshot() opens the past, connect({ at }) says to use it', async (t) => {
  const path = join(tmpDir(t), 'async.bigfile')
  const first = await openDatabase(path)
  const { versions } = await threeVersions(first)
  await first.close()
  const db = await Database.open(asyncReads(SQLiteStorage.open(path)))
  assert.throws(() => db.connect({ ram: ram(1), at: 1 }), /await db\.snapshot/)
  for (const at of [1, 2, 3]) {
    const h = await db.snapshot({ ram: ram(1), at })
    assert.equal(h.readOnly, true)
    const a = await BigArray.open(h, 'a')
    const got = new Float64Array(a.length)
    await a.copyTo(got)
    assert.deepEqual(got, versions[at - 1], `tid ${at}`)
    await assert.rejects(a.setAsync(0, 1), { code: 'EROFS' })
    h.close()
  }
  const [newest] = await db.log({ limit: 1 })
  assert.equal((await db.snapshot({ ram: ram(1), at: newest.time })).at, 3)
  await assert.rejects(db.snapshot({ ram: ram(1), at: 4 }), { code: 'ENOENT' })
  // the refused connect at tid 1 left nothing registered: pack goes to the head
  assert.equal((await db.pack()).cutoff, 3)
  await assert.rejects(db.snapshot({ ram: ram(1), at: 2 }), { code: 'ESTALE' })
  await db.close()
})
