// Drop-behind (issue 13, part 2): a sequential walk bigger than the budget frees what it has passed, so it
// reuses its own frames and leaves the rest of the cache alone. In the VM alone, through the array walk,
// and through a real SQLite database.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { BigArray } from '../../src/array/index.ts'
import { FileH, MemoryBigFile, openDatabase, PageState, RAM } from '../../src/index.ts'
import { tmpDir } from '../array/helpers.ts'

const PS = 4096

function memFile(pages: number): MemoryBigFile {
  const file = new MemoryBigFile(PS)
  for (let pg = 0; pg < pages; pg++) file.blocks.set(pg, new Uint8Array(PS).fill((pg * 7 + 1) & 0xff))
  return file
}

describe('drop-behind', () => {
  test('a stream nobody declared frees the pages it passed once it is longer than half the frames', () => {
    const ram = new RAM({ pagesize: PS, capacity: (64 + 2) * PS })
    const fh = new FileH(memFile(512), ram)
    const vma = fh.mmap(0, 512)
    // a hot working set of 10 pages, touched in no order (no stream)
    const hot = [503, 500, 508, 501, 506, 502, 509, 504, 507, 505]
    for (const pg of hot) vma.getUint8(pg * PS)
    // a scan of 300 pages (4.7× the frames) through the synchronous accessors
    for (let pg = 0; pg < 300; pg++) assert.equal(vma.getUint8(pg * PS + 9), (pg * 7 + 1) & 0xff)
    const c = ram.counters
    for (const pg of hot) assert.equal(fh.pageState(pg), PageState.LOADED, `hot page ${pg}`)
    assert.equal(c.reclaims, 0) // the scan never needed CLOCK: it ran in its own frames
    // read ahead past the scan's last page: at most one window, still resident (not yet unused)
    const past = fh.residentPages().filter((pg) => pg >= 300 && pg < 500).length
    assert.ok(past <= 8)
    assert.equal(c.loads, 310 + past)
    assert.ok(c.dropBehind >= 300 - 64, `dropBehind ${c.dropBehind}`)
    assert.equal(c.readaheadUnused, 0)
    assert.ok(ram.stats().used <= 64)
    // what is left of the scan: its last pages, never more than half the frames plus two windows
    const left = fh.residentPages().filter((pg) => pg < 300)
    assert.ok(left.length <= 32 + 16, `left ${left.length}`)
    assert.equal(left.at(-1), 299)
  })

  test("'dontneed' drops only clean, unpinned pages a sequential stream loaded, mapped at most once", () => {
    const ram = new RAM({ pagesize: PS, capacity: (64 + 2) * PS })
    const fh = new FileH(memFile(64), ram)
    const vma = fh.mmap(0, 64)
    const other = fh.mmap(0, 64)
    vma.getUint8(20 * PS) // page 20: loaded by a single random fault, not a stream
    fh.advise(0, 16, 'sequential')
    for (let pg = 0; pg < 16; pg++) vma.getUint8(pg * PS) // windows 0..3, 4..11, 12..15
    assert.equal(ram.counters.multiLoads, 3)
    vma.setUint8(1 * PS, 1) // dirty
    using pin = vma.pin(2 * PS, 1) // pinned
    other.getUint8(3 * PS) // mapped twice
    fh.advise(0, 64, 'dontneed')
    assert.equal(pin.length, 1)
    assert.deepEqual(fh.residentPages(), [1, 2, 3, 20])
    assert.equal(ram.counters.dropBehind, 13)
    assert.equal(fh.pageState(1), PageState.DIRTY)
    other.unmap()
  })

  test('the array walk reads ahead in windows and, past the budget, drops behind: the hot set stays', async () => {
    const frames = 64
    const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS })
    const pages = 4 * frames
    const file = new MemoryBigFile(PS)
    const values = new Float64Array(pages * (PS / 8))
    for (let i = 0; i < values.length; i++) values[i] = (i % 1000) - 3.5
    for (let pg = 0; pg < pages; pg++) file.blocks.set(pg, new Uint8Array(values.buffer, pg * PS, PS).slice())
    const fh = new FileH(file, ram)
    const hotFh = new FileH(memFile(8), ram)
    const hot = hotFh.mmap(0, 8)
    for (const pg of [3, 0, 6, 1, 7, 2, 5, 4]) hot.getUint8(pg * PS)
    const a = BigArray.over(fh, { dtype: 'float64', shape: [values.length] })
    let want = 0
    for (const v of values) want += v
    assert.equal(await a.sum(), want)
    const c = fh.counters
    assert.equal(c.loads, pages) // every page loaded once
    assert.ok(
      c.multiLoads > 0 && c.readahead / c.multiLoads > 4,
      `${c.readahead} in ${c.multiLoads} loadblks`,
    )
    assert.ok(c.dropBehind >= pages - frames, `dropBehind ${c.dropBehind}`)
    assert.equal(hotFh.counters.reclaims, 0)
    assert.deepEqual(hotFh.residentPages(), [0, 1, 2, 3, 4, 5, 6, 7])
    // the advice ends with the walk: a later random fault reads no window
    const before = c.readahead
    fh.invalidateRange(0, pages)
    a.get(100 * (PS / 8))
    a.get(200 * (PS / 8))
    assert.equal(c.readahead, before)
  })

  test('the same walk over an asynchronous storage: windows in flight, drop-behind, the hot set stays', async () => {
    const frames = 64
    const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS })
    const pages = 4 * frames
    const file = new MemoryBigFile(PS, { async: true })
    for (let pg = 0; pg < pages; pg++) file.blocks.set(pg, new Uint8Array(PS).fill(pg & 0xff))
    const fh = new FileH(file, ram)
    const hotFh = new FileH(memFile(8), ram)
    const hot = hotFh.mmap(0, 8)
    for (const pg of [3, 0, 6, 1, 7, 2, 5, 4]) hot.getUint8(pg * PS)
    const a = BigArray.over(fh, { dtype: 'uint8', shape: [pages * PS] })
    let firsts = 0
    await a.forEachChunk((d, start) => {
      assert.equal(d[0], Math.floor(start / PS) & 0xff)
      firsts++
    })
    assert.equal(firsts, pages)
    const c = fh.counters
    assert.equal(c.loads, pages)
    assert.ok(c.multiLoads > 0 && c.readahead > pages / 2, `${c.readahead} ahead in ${c.multiLoads} loadblks`)
    assert.ok(c.dropBehind >= pages - frames, `dropBehind ${c.dropBehind}`)
    assert.deepEqual(hotFh.residentPages(), [0, 1, 2, 3, 4, 5, 6, 7])
    assert.equal(ram.stats().loadsInFlight, 0)
  })

  test('a walk smaller than the budget keeps its pages (a second scan loads nothing)', async () => {
    const ram = new RAM({ pagesize: PS, capacity: (64 + 2) * PS })
    const fh = new FileH(memFile(48), ram)
    const a = BigArray.over(fh, { dtype: 'uint8', shape: [48 * PS] })
    const s1 = await a.sum()
    const loaded = fh.counters.loads
    assert.equal(loaded, 48)
    assert.equal(fh.counters.dropBehind, 0)
    assert.equal(await a.sum(), s1)
    assert.equal(fh.counters.loads, loaded)
  })

  test('through SQLite: a scan 4× the budget loads in multi-block I/Os and a small hot set survives it', async (t) => {
    const frames = 64
    const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS })
    const db = await openDatabase(join(tmpDir(t), 'scan.bigfile'))
    t.after(() => db.close())
    const n = (4 * frames * PS) / 8
    {
      const c = db.connect({ ram: new RAM({ pagesize: PS, capacity: 16 * PS }) })
      const big = await BigArray.create(c, 'big', { dtype: 'float64', shape: [n], blksize: PS })
      await big.copyFrom(Float64Array.from({ length: n }, (_, i) => i % 4099))
      const hot = await BigArray.create(c, 'hot', { dtype: 'float64', shape: [4 * (PS / 8)], blksize: PS })
      await hot.fill(2)
      await c.commit()
    }
    const c = db.connect({ ram })
    const big = await BigArray.open(c, 'big')
    const hot = await BigArray.open(c, 'hot')
    assert.equal(await hot.sum(), 2 * 4 * (PS / 8))
    const hotPages = hot.fileh.residentPages()
    assert.equal(hotPages.length, 4)
    let want = 0
    for (let i = 0; i < n; i++) want += i % 4099
    assert.equal(await big.sum(), want)
    const k = big.fileh.counters
    assert.equal(k.loads, 4 * frames) // every block once
    assert.ok(k.multiLoads >= 4, `multiLoads ${k.multiLoads}`)
    assert.ok(k.readahead / k.multiLoads > 4, `${k.readahead} blocks ahead in ${k.multiLoads} loadblks`)
    assert.ok(k.dropBehind >= 3 * frames, `dropBehind ${k.dropBehind}`)
    assert.deepEqual(hot.fileh.residentPages(), hotPages)
    assert.equal(hot.fileh.counters.reclaims, 0)
    assert.ok(ram.stats().used <= frames)
    await c.abort()
  })
})
