import assert from 'node:assert/strict'
import { openDatabase } from '../../src/db/index.ts'
import { faulted, storageTest } from '../helpers/storages.ts'
import { PS, ram, reclaimAll } from './helpers.ts'

storageTest('create, list, rename, delete, with snapshots keeping the old view', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  await db.createFile('a', { blksize: PS, size: 10, meta: { k: 1 } })
  await db.createFile('b', { blksize: 4096 })
  await assert.rejects(db.createFile('a', { blksize: PS }), { code: 'EEXIST' })
  assert.deepEqual(
    (await db.files()).map((f) => [f.name, f.blksize, f.size, f.meta]),
    [
      ['a', PS, 10, { k: 1 }],
      ['b', 4096, 0, {}],
    ],
  )
  const old = db.connect({ ram: ram() })
  const fa = await old.open('a')
  ;(await faulted(fa.mmap(0, 1), 5)).setUint8(5, 42)
  await old.commit()
  await db.renameFile('a', 'c')
  await assert.rejects(db.renameFile('b', 'c'), { code: 'EEXIST' })
  await db.deleteFile('b')
  await assert.rejects(db.deleteFile('b'), { code: 'ENOENT' })
  assert.deepEqual(
    (await db.files()).map((f) => f.name),
    ['c'],
  )
  // `old` still sees its snapshot until a boundary
  assert.deepEqual(
    (await old.list()).map((f) => f.name),
    ['a', 'b'],
  )
  assert.equal(fa.name, 'a')
  await old.sync()
  assert.equal(fa.name, 'c')
  assert.deepEqual(
    (await old.list()).map((f) => f.name),
    ['c'],
  )
  assert.equal((await faulted(fa.mmap(0, 1), 5)).getUint8(5), 42)
  await assert.rejects(old.open('b'), { code: 'ENOENT' })
  await db.close()
})

storageTest('names with odd characters are data', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  const names = ["a'; DROP TABLE blocks; --", '名前 🚀', ' ', '"quoted"', 'x\ny', '%_*?', 'a/b\\c']
  const conn = db.connect({ ram: ram() })
  for (const [i, n] of names.entries()) {
    const f = await conn.open(n, { create: { blksize: PS } })
    ;(await faulted(f.mmap(0, 1), 0)).setUint8(0, i + 1)
  }
  await conn.commit()
  assert.deepEqual((await db.files()).map((f) => f.name).sort(), [...names].sort())
  const c2 = db.connect({ ram: ram() })
  for (const [i, n] of names.entries())
    assert.equal((await faulted((await c2.open(n)).mmap(0, 1), 0)).getUint8(0), i + 1)
  await db.close()
})

storageTest(
  'metadata and size commit with the pages; shrink drops blocks, grow reads zeros',
  async (t, s) => {
    const db = await openDatabase(await s.location(t))
    const r = ram()
    const conn = db.connect({ ram: r })
    const f = await conn.open('s', { create: { blksize: 4096, size: 4 * PS } })
    const vma = f.mmap(0, 4)
    vma.writeBytes(0, new Uint8Array(4 * PS).fill(9))
    f.setMeta({ shape: [4, PS] })
    await conn.commit()
    const reader = db.connect({ ram: ram() })
    const rf = await reader.open('s')
    const rv = rf.mmap(0, 4)
    assert.equal((await faulted(rv, 3 * PS)).getUint8(3 * PS), 9)

    await f.resize(PS + 100)
    assert.equal(f.size, PS + 100)
    assert.equal((await faulted(vma, PS + 99)).getUint8(PS + 99), 9)
    assert.equal((await faulted(vma, PS + 100)).getUint8(PS + 100), 0) // the tail of the partial block is zeroed
    assert.equal((await faulted(vma, 2 * PS)).getUint8(2 * PS), 0)
    await conn.abort()
    assert.equal(f.size, 4 * PS)
    assert.equal((await faulted(vma, 2 * PS)).getUint8(2 * PS), 9)

    await f.resize(PS + 100)
    await f.resize(3 * PS)
    await conn.commit()
    reclaimAll(r)
    assert.equal((await faulted(vma, PS + 99)).getUint8(PS + 99), 9)
    assert.equal((await faulted(vma, PS + 100)).getUint8(PS + 100), 0)
    assert.equal((await faulted(vma, 2 * PS + 5)).getUint8(2 * PS + 5), 0)
    // the reader keeps its snapshot until sync
    assert.equal((await faulted(rv, 2 * PS)).getUint8(2 * PS), 9)
    assert.equal(rf.size, 4 * PS)
    await reader.sync()
    assert.equal((await faulted(rv, 2 * PS)).getUint8(2 * PS), 0)
    assert.equal(rf.size, 3 * PS)
    assert.deepEqual(rf.meta, { shape: [4, PS] })
    rv.unmap()
    reader.close()
    const packed = await db.pack()
    assert.ok(packed.blocksRemoved > 0)
    reclaimAll(r)
    assert.equal((await faulted(vma, PS + 99)).getUint8(PS + 99), 9)
    assert.equal((await faulted(vma, 3 * PS - 1)).getUint8(3 * PS - 1), 0)
    await db.close()
  },
)

storageTest('bad arguments are typed errors', async (t, s) => {
  const db = await openDatabase(await s.location(t))
  const conn = db.connect({ ram: ram() })
  for (const blksize of [0, -4096, 1000, 4096.5, Number.NaN, '4096' as unknown as number]) {
    await assert.rejects(conn.open('x', { create: { blksize } }), { code: 'EINVAL' })
    await assert.rejects(db.createFile('x', { blksize }), { code: 'EINVAL' })
  }
  for (const size of [-1, 1.5, Number.POSITIVE_INFINITY, 2 ** 53]) {
    await assert.rejects(conn.open('x', { create: { blksize: PS, size } }), { code: 'EINVAL' })
  }
  for (const name of ['', 'a\0b', '\uD800', 7 as unknown as string, 'x'.repeat(2000)]) {
    await assert.rejects(conn.open(name, { create: { blksize: PS } }), { code: 'EINVAL' })
    await assert.rejects(db.createFile(name, { blksize: PS }), { code: 'EINVAL' })
  }
  await assert.rejects(conn.open('missing'), { code: 'ENOENT' })
  const f = await conn.open('x', { create: { blksize: PS } })
  await assert.rejects(f.resize(-1), { code: 'EINVAL' })
  await assert.rejects(f.resize(0.5), { code: 'EINVAL' })
  assert.throws(() => f.setMeta([] as unknown as Record<string, unknown>), { code: 'EINVAL' })
  const cyclic: Record<string, unknown> = {}
  cyclic.self = cyclic
  assert.throws(() => f.setMeta(cyclic), { code: 'EINVAL' })
  assert.throws(() => f.mmap(-1, 1), { code: 'EINVAL' })
  assert.throws(() => f.mmap(0, 1).getUint8(-1), { code: 'ERANGE' })
  await assert.rejects(db.pack({ keep: -1 }), { code: 'EINVAL' })
  assert.throws(() => db.connect({} as never), { code: 'EINVAL' })
  // blksize and pagesize must divide one another; a big block needs the bounce reserve
  await assert.rejects(conn.open('big', { create: { blksize: 4 << 20 } }), { code: 'EINVAL' })
  await db.close()
})
