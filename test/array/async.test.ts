import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BigArray, slice } from '../../src/array/index.ts'
import { FileH, MemoryBigFile, openDatabase, PageState, WriteoutFlags } from '../../src/index.ts'
import { storageTest } from '../helpers/storages.ts'
import { PS, ram } from './helpers.ts'

function asyncArray(frames = 64) {
  const file = new MemoryBigFile(PS, { async: true })
  const r = ram(frames)
  const fh = new FileH(file, r)
  return { fh, r, a: BigArray.over(fh, { dtype: 'float64', shape: [20, 300] }) }
}

test('async storage: get throws EWOULDBLOCK, getAsync/setAsync work, chunks and reductions work', async () => {
  const { a } = asyncArray()
  assert.throws(() => a.get(0, 0), { code: 'EWOULDBLOCK' })
  assert.equal(await a.getAsync(0, 0), 0)
  assert.equal(a.get(0, 0), 0, 'resident now: sync access works')
  await a.setAsync(19, 299, 5)
  assert.equal(await a.getAsync(-1, -1), 5)
  await a.fill(1)
  assert.equal(await a.sum(), 6000)
  let n = 0
  for await (const { data } of a.at(slice(null, null, -1)).chunks()) n += data.length
  assert.equal(n, 6000)
  await a.at(3).copyFrom(Array.from({ length: 300 }, (_, i) => i))
  assert.equal(await a.at(3).max(), 299)
  assert.equal(await a.mean(), (6000 - 300 + (299 * 300) / 2) / 6000)
})

test('async storage: chunks read ahead of the page being consumed, and a failed read-ahead is not unhandled', async () => {
  const { fh, a } = asyncArray()
  const it = a.chunks()
  const first = await it.next()
  assert.equal(first.value?.start, 0)
  const ahead = [1, 2, 3].map((pg) => fh.pageState(pg))
  assert.ok(
    ahead.every((s) => s === PageState.LOADING || s === PageState.LOADED),
    `pages after the first are loading: ${ahead}`,
  )
  await it.return(undefined)
  // Reading the whole array releases every pin.
  let total = 0
  await a.forEachChunk((d) => {
    total += d.length
  })
  assert.equal(total, 6000)
})

test('chunks release their pins on break, so a small RAM streams a big array', async () => {
  const { fh, a } = asyncArray(8) // 8 frames for 12 pages of data
  await a.at(slice(0, 5)).fill(1) // dirty pages cannot be reclaimed before a writeout
  await fh.writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED)
  await a.at(slice(5, 10)).fill(1)
  await fh.writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED)
  assert.equal(await a.sum(), 3000)
  for await (const _ of a.chunks()) break
  assert.equal(await a.max(), 1)
  assert.equal(fh.ram.stats().used <= 8, true)
})

storageTest(
  'a database array: getAsync/setAsync, chunks and reductions; get is EWOULDBLOCK only on an asynchronous storage',
  async (t, s) => {
    const d = await openDatabase(await s.location(t))
    t.after(() => d.close())
    const w = d.connect({ ram: ram() })
    await BigArray.create(w, 'x', { dtype: 'float64', shape: [20, 300] })
    await w.commit()
    const conn = d.connect({ ram: ram() })
    const a = await BigArray.open(conn, 'x')
    // a cold page: SQLite loads it at once, PostgreSQL only in the background
    if (s.name === 'postgres') assert.throws(() => a.get(0, 0), { code: 'EWOULDBLOCK' })
    else assert.equal(a.get(0, 0), 0)
    assert.equal(await a.getAsync(0, 0), 0)
    assert.equal(a.get(0, 0), 0, 'resident now: sync access works')
    await a.setAsync(19, 299, 5)
    assert.equal(await a.getAsync(-1, -1), 5)
    await a.fill(1)
    assert.equal(await a.sum(), 6000)
    let n = 0
    for await (const { data } of a.at(slice(null, null, -1)).chunks()) n += data.length
    assert.equal(n, 6000)
    await a.at(3).copyFrom(Array.from({ length: 300 }, (_, i) => i))
    await conn.commit()
    // another connection, cold: chunks and reductions load what they read
    const b = await BigArray.open(d.connect({ ram: ram(8) }), 'x')
    assert.equal(await b.at(3).max(), 299)
    assert.equal(await b.mean(), (6000 - 300 + (299 * 300) / 2) / 6000)
    for await (const _ of b.chunks()) break
    assert.ok(b.fileh.ram.stats().used <= 8)
  },
)
