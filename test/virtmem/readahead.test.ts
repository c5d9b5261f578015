// Sequential read-ahead and coalescing (issue 13, part 2): exact windows, page states and counters.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { FileH, LoadError, PageState, RAM } from '../../src/index.ts'
import { RecordingFile } from '../helpers/bigfiles.ts'

const PS = 4096

/** A RecordingFile with `loadblks`, recording each multi-block call as [blk, count]. */
class MultiFile extends RecordingFile {
  readonly multi: [number, number][] = []
  /** Blocks whose load fails (single or inside a multi-block load). */
  readonly bad = new Set<number>()
  async = false

  override loadblk(blk: number, buf: Uint8Array): void {
    if (this.bad.has(blk)) throw new Error(`bad block ${blk}`)
    super.loadblk(blk, buf)
  }

  loadblks(blk: number, count: number, buf: Uint8Array): void | Promise<void> {
    this.multi.push([blk, count])
    const run = () => {
      for (let k = 0; k < count; k++) {
        if (this.bad.has(blk + k)) throw new Error(`bad block ${blk + k}`)
        buf.set(this.content(blk + k), k * this.blksize)
      }
    }
    if (!this.async) return run()
    return new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        try {
          run()
          resolve()
        } catch (e) {
          reject(e)
        }
      }),
    )
  }
}

/** 64 frames of 4 KiB: windows up to 8 pages (an eighth of the frames). */
function setup(frames = 64, pglen = 32) {
  const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS })
  const file = new MultiFile(PS)
  const fh = new FileH(file, ram)
  const vma = fh.mmap(0, pglen)
  return { ram, file, fh, vma }
}

function readAll(vma: { getUint8(off: number): number }, from: number, to: number): void {
  for (let pg = from; pg < to; pg++) assert.equal(vma.getUint8(pg * PS + 7), (pg + 1) & 0xff, `page ${pg}`)
}

describe('read-ahead', () => {
  test('a sequential scan loads windows of 1, 1, 2, 4, 8 pages, each in one loadblks, up to the end of the mapping', () => {
    const { ram, file, fh, vma } = setup()
    readAll(vma, 0, 32)
    // single loads: the first two pages (two adjacent misses start a stream)
    assert.deepEqual(file.loads, [0, 1])
    assert.deepEqual(file.multi, [
      [2, 2],
      [4, 4],
      [8, 8],
      [16, 8],
      [24, 8],
    ])
    const c = ram.counters
    assert.equal(c.faults, 32)
    assert.equal(c.loads, 32) // every block once: 7 for faults that missed, 25 ahead
    assert.equal(c.readahead, 25)
    assert.equal(c.multiLoads, 5)
    assert.equal(c.bytesLoaded, 32 * PS)
    assert.equal(c.readaheadUnused, 0)
    assert.deepEqual(fh.counters.snapshot(), c.snapshot())
    for (let pg = 0; pg < 32; pg++) assert.equal(fh.pageState(pg), PageState.LOADED)
  })

  test('pages read ahead are resident but unmapped until used; dropping them unused is counted', () => {
    const { ram, fh, vma } = setup()
    readAll(vma, 0, 5) // windows: 0 | 1 | 2,3 | 4..7
    assert.deepEqual(fh.residentPages(), [0, 1, 2, 3, 4, 5, 6, 7])
    assert.equal(vma.mappedAs(4), 'r')
    for (const pg of [5, 6, 7]) {
      assert.equal(fh.pageState(pg), PageState.LOADED)
      assert.equal(vma.mappedAs(pg), 'none')
      assert.equal(fh.pageInfo(pg).mapcount, 0)
    }
    // their reference bit is clear: CLOCK gives them no second chance
    for (const pg of [5, 6, 7]) assert.equal(ram.ref[fh.pageInfo(pg).frame], 0)
    fh.invalidateRange(0, 32)
    assert.equal(ram.counters.readaheadUnused, 3)
    assert.equal(ram.counters.drops, 8)
  })

  test('random access does no read-ahead: one loadblk per miss, counts unchanged', () => {
    const { ram, file, vma } = setup(64, 64)
    const order = [5, 17, 3, 40, 41, 9, 60, 2, 33, 34, 12, 50, 27]
    for (const pg of order) vma.getUint8(pg * PS)
    assert.deepEqual(file.loads, order)
    assert.deepEqual(file.multi, [])
    assert.equal(ram.counters.readahead, 0)
    assert.equal(ram.counters.multiLoads, 0)
    // two adjacent misses (40, 41; 33, 34) only start a stream: its window would come at the third
    assert.equal(ram.counters.loads, order.length)
  })

  test("advise 'random' turns read-ahead off in its range", () => {
    const { ram, file, fh, vma } = setup()
    fh.advise(0, 32, 'random')
    readAll(vma, 0, 32)
    assert.equal(file.loads.length, 32)
    assert.equal(ram.counters.readahead, 0)
    fh.advise(0, 32, 'normal')
    fh.invalidateRange(0, 32)
    readAll(vma, 0, 8)
    assert.ok(ram.counters.readahead > 0)
  })

  test("advise 'sequential' reads ahead from the first fault, never past the advised range", () => {
    const { ram, file, fh, vma } = setup()
    fh.advise(4, 10, 'sequential')
    readAll(vma, 4, 14)
    assert.deepEqual(file.multi, [
      [4, 4],
      [8, 6], // 8 pages planned, cut at the end of the range (14)
    ])
    assert.deepEqual(file.loads, [])
    assert.deepEqual(fh.residentPages(), [4, 5, 6, 7, 8, 9, 10, 11, 12, 13])
    assert.equal(ram.counters.loads, 10)
    assert.equal(ram.counters.readahead, 8)
  })

  test('read-ahead takes only free frames: it never reclaims, purges or spills, and stops at resident pages', () => {
    const ram = new RAM({ pagesize: PS, capacity: (64 + 2) * PS })
    const file = new MultiFile(PS)
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 256)
    // 59 dirty pages elsewhere (written in random order: no read-ahead): 5 frames left free
    fh.advise(100, 59, 'random')
    for (let pg = 100; pg < 159; pg++) vma.setUint8(pg * PS, 0xee)
    fh.advise(100, 59, 'normal')
    assert.equal(ram.stats().free, 5)
    vma.getUint8(0)
    vma.getUint8(1 * PS)
    vma.getUint8(2 * PS) // window of 2: the fault's frame and one free frame
    vma.getUint8(4 * PS) // window of 4 planned: one frame free, for the fault's page; no read-ahead
    assert.deepEqual(
      fh.residentPages().filter((pg) => pg < 100),
      [0, 1, 2, 3, 4],
    )
    assert.equal(ram.counters.readahead, 1)
    assert.equal(ram.counters.spills, 0)
    assert.equal(ram.counters.reclaims, 0)
    for (let pg = 100; pg < 159; pg++) assert.equal(fh.pageState(pg), PageState.DIRTY)
    // a window stops at a page already resident
    fh.invalidateRange(0, 5)
    vma.getUint8(13 * PS)
    vma.getUint8(10 * PS)
    vma.getUint8(11 * PS)
    vma.getUint8(12 * PS) // window of 2 from 12: 13 is resident, so 12 alone
    assert.equal(fh.pageState(14), PageState.EMPTY)
    assert.equal(ram.counters.readahead, 1)
    assert.equal(ram.counters.spills, 0)
  })

  test('a window whose frames are not adjacent loads one run per stretch of adjacent frames', () => {
    const { ram, file, fh, vma } = setup(64, 64)
    // Free frames 0..63 are handed out low first; take every other one away with resident pages, then
    // free them, so the free stack holds scattered frames.
    for (let pg = 40; pg < 64; pg++) vma.getUint8(pg * PS) // a stream of its own: frames 0.. in windows
    fh.advise(0, 64, 'random')
    fh.invalidateRange(40, 24)
    for (let pg = 40; pg < 64; pg += 2) vma.getUint8(pg * PS) // 12 frames, scattered over the free stack
    fh.invalidateRange(40, 24)
    fh.advise(0, 64, 'normal')
    file.multi.length = 0
    const before = ram.counters.snapshot()
    readAll(vma, 0, 15)
    const after = ram.counters.snapshot()
    // windows 0 | 1 | 2,3 | 4..7 | 8..15
    assert.equal(after.loads - before.loads, 16)
    // every loadblks covered adjacent frames: the data is right (checked by readAll) and each call was ≥ 2 blocks
    // the last window (8..15) got two stretches of adjacent frames: two loadblks
    assert.deepEqual(file.multi, [
      [2, 2],
      [4, 4],
      [8, 4],
      [12, 4],
    ])
    assert.equal(after.multiLoads - before.multiLoads, file.multi.length)
  })

  test('an async storage: a window is one load in flight; reaching its trigger page starts the next in the background', async () => {
    const { ram, file, fh, vma } = setup()
    file.async = true
    const origLoad = file.loadblk.bind(file)
    file.loadblk = (blk: number, buf: Uint8Array) =>
      new Promise<void>((resolve) => setImmediate(() => resolve(origLoad(blk, buf)))) as never
    // 0 | 1 | 2,3 as misses; then each window's first page read ahead (its trigger) starts the next:
    // 3 -> 4..7, 4 -> 8..15, 8 -> 16..23, 16 -> 24..31
    await vma.fault(0, 1)
    await vma.fault(PS, 1)
    await vma.fault(2 * PS, 1)
    assert.deepEqual(file.multi, [[2, 2]])
    assert.equal(fh.pageState(3), PageState.LOADED)
    // a minor fault on the trigger page: the next window starts, nobody waits for it
    await vma.fault(3 * PS, 1)
    assert.deepEqual(file.multi, [
      [2, 2],
      [4, 4],
    ])
    for (let pg = 4; pg < 8; pg++) assert.equal(fh.pageState(pg), PageState.LOADING)
    assert.equal(ram.stats().loadsInFlight, 1)
    assert.equal(ram.counters.readaheadAsync, 1)
    // the reader waits only for the window already in flight; each trigger starts the one after
    await vma.fault(4 * PS, 1)
    assert.deepEqual(file.multi.at(-1), [8, 8])
    for (let pg = 5; pg < 16; pg++) await vma.fault(pg * PS, 1)
    readAll(vma, 0, 16)
    assert.deepEqual(file.multi, [
      [2, 2],
      [4, 4],
      [8, 8],
      [16, 8],
    ])
    assert.deepEqual(file.loads, [0, 1])
    assert.equal(ram.counters.readaheadAsync, 3)
    assert.equal(ram.counters.readahead, 1 + 4 + 8 + 8)
    assert.equal(ram.counters.faults, 16)
    // the last window ends by itself; its pages are resident, unmapped, unused so far
    while (ram.stats().loadsInFlight > 0) await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(fh.residentPages(), [...Array(24).keys()])
    for (let pg = 16; pg < 24; pg++) assert.equal(vma.mappedAs(pg), 'none')
    // to the end of the mapping, never past it
    for (let pg = 16; pg < 32; pg++) await vma.fault(pg * PS, 1)
    assert.deepEqual(file.multi.at(-1), [24, 8])
    assert.equal(ram.counters.readaheadAsync, 4)
    assert.equal(ram.counters.loads, 32)
    assert.equal(ram.counters.readaheadUnused, 0)
  })

  test('a synchronous storage never reads ahead in the background', () => {
    const { ram, file, vma } = setup()
    readAll(vma, 0, 32)
    assert.equal(file.multi.length, 5)
    assert.equal(ram.counters.readaheadAsync, 0)
  })

  test('a window read ahead in the background takes only free frames and fails quietly: only the fault on the bad block sees the error', async () => {
    const ram = new RAM({ pagesize: PS, capacity: (64 + 2) * PS })
    const file = new MultiFile(PS)
    file.async = true
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 256)
    // 58 dirty pages elsewhere (random order: no read-ahead): 6 frames left free
    fh.advise(100, 58, 'random')
    for (let pg = 100; pg < 158; pg++) vma.setUint8(pg * PS, 0xee)
    fh.advise(100, 58, 'normal')
    assert.equal(ram.stats().free, 6)
    file.bad.add(5)
    await vma.fault(0, 1)
    await vma.fault(PS, 1)
    await vma.fault(2 * PS, 1) // 2,3: two frames left free
    await vma.fault(3 * PS, 1) // trigger: 4..7 wanted, two frames free: 4,5; block 5 bad: the window fails
    assert.deepEqual(file.multi, [
      [2, 2],
      [4, 2],
    ])
    while (ram.stats().loadsInFlight > 0) await new Promise((resolve) => setImmediate(resolve))
    // dropped quietly: no page of it resident, every frame free again, nothing reclaimed or spilled
    assert.deepEqual(
      fh.residentPages().filter((pg) => pg < 100),
      [0, 1, 2, 3],
    )
    assert.equal(ram.stats().free, 2)
    assert.equal(ram.counters.spills, 0)
    assert.equal(ram.counters.reclaims, 0)
    for (let pg = 100; pg < 158; pg++) assert.equal(fh.pageState(pg), PageState.DIRTY)
    // the pages of the failed window load one at a time: 4 fine, 5 fails alone
    await vma.fault(4 * PS, 1)
    await assert.rejects(
      async () => vma.fault(5 * PS, 1),
      (e) => e instanceof LoadError && e.blk === 5,
    )
    assert.deepEqual(file.loads.slice(58), [0, 1, 4]) // after the 58 dirty pages' own loads
    assert.equal(fh.pageState(5), PageState.EMPTY)
    assert.equal(ram.counters.readaheadAsync, 1)
  })

  test('a window that fails is dropped quietly; the fault loads its page alone, and the bad block fails alone', () => {
    const { ram, file, fh, vma } = setup()
    file.bad.add(5)
    readAll(vma, 0, 4) // 0 | 1 | 2,3
    // window 4..7 holds the bad block: dropped; page 4 then loads by itself and succeeds
    assert.equal(vma.getUint8(4 * PS), 5)
    assert.deepEqual(fh.residentPages(), [0, 1, 2, 3, 4])
    file.bad.delete(5)
    file.bad.add(6)
    assert.equal(vma.getUint8(5 * PS), 6)
    assert.throws(
      () => vma.getUint8(6 * PS),
      (e) => e instanceof LoadError && e.blk === 6,
    )
    assert.equal(fh.pageState(6), PageState.EMPTY)
    assert.equal(ram.stats().used, fh.residentPages().length)
    file.bad.clear()
    readAll(vma, 6, 32)
  })

  test('a small RAM (under 16 frames) never reads ahead', () => {
    const { ram, file, vma } = setup(15, 32)
    readAll(vma, 0, 32)
    assert.equal(file.loads.length, 32)
    assert.equal(ram.counters.readahead, 0)
  })

  test("{ readahead: false } and scratch files load one page per fault; 'dontneed' is then ignored", () => {
    const ram = new RAM({ pagesize: PS, capacity: (64 + 2) * PS })
    const file = new MultiFile(PS)
    const fh = new FileH(file, ram, { readahead: false })
    const vma = fh.mmap(0, 32)
    fh.advise(0, 32, 'sequential')
    readAll(vma, 0, 32)
    assert.equal(file.loads.length, 32)
    assert.deepEqual(file.multi, [])
    fh.advise(0, 32, 'dontneed')
    assert.equal(fh.residentPages().length, 32)
    const scratch = FileH.scratch(ram)
    const svma = scratch.mmap(0, 16)
    for (let pg = 0; pg < 16; pg++) svma.setUint8(pg * PS, 1)
    assert.equal(scratch.residentPages().length, 16)
    assert.equal(scratch.counters.readahead, 0)
    assert.equal(ram.counters.readahead, 0)
    assert.throws(() => new FileH(file, ram, { readahead: 'yes' as never }), { code: 'EINVAL' })
  })

  test('advise checks its arguments', () => {
    const { fh } = setup()
    assert.throws(() => fh.advise(0, 1, 'often' as never), { code: 'EINVAL' })
    assert.throws(() => fh.advise(-1, 1, 'normal'), { code: 'EINVAL' })
    assert.throws(() => fh.advise(0, 0, 'normal'), { code: 'EINVAL' })
  })
})
