// The arena (issue 13, part 5): a big budget costs nothing until used, and frames are reused hottest first
// so a small working set, and a scan that drops behind, stay in few OS pages.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { BigArray } from '../../src/array/index.ts'
import { FileH, MemoryBigFile, RAM } from '../../src/index.ts'

const PS = 4096
const MiB = 1 << 20
const linux = process.platform === 'linux'

describe('the arena', () => {
  test('new RAM of 1 GiB is committed lazily: RSS grows with the frames touched, not the budget', {
    skip: !linux && 'RSS accounting of untouched memory is Linux-specific',
  }, () => {
    const rss = () => process.memoryUsage().rss
    const r0 = rss()
    const ram = new RAM({ capacity: 1024 * MiB, pagesize: 64 << 10 })
    const r1 = rss()
    assert.ok(r1 - r0 < 32 * MiB, `a fresh 1 GiB arena added ${((r1 - r0) / MiB).toFixed(1)} MiB of RSS`)
    // touching 16 MiB of frames through faults commits about that much (so the measure above can fail)
    const file = new MemoryBigFile(64 << 10)
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 256)
    for (let pg = 0; pg < 256; pg++) vma.setUint8(pg * (64 << 10) + 100, 1)
    const r2 = rss()
    assert.ok(r2 - r1 >= 12 * MiB, `touching 16 MiB added ${((r2 - r1) / MiB).toFixed(1)} MiB of RSS`)
    assert.ok(r2 - r1 < 48 * MiB, `touching 16 MiB added ${((r2 - r1) / MiB).toFixed(1)} MiB of RSS`)
    vma.unmap()
    fh.close()
  })

  test('frames go out low first, and a freed frame is the next one reused (the hottest)', () => {
    const ram = new RAM({ pagesize: PS, capacity: (64 + 2) * PS })
    const fh = new FileH(new MemoryBigFile(PS), ram)
    fh.advise(0, 64, 'random')
    const vma = fh.mmap(0, 64)
    for (let pg = 0; pg < 10; pg++) vma.getUint8(pg * 2 * PS) // pages 0, 2, .., 18
    for (let k = 0; k < 10; k++) assert.equal(fh.pageInfo(k * 2).frame, k)
    fh.invalidatePage(6) // frame 3
    fh.invalidatePage(14) // frame 7
    vma.getUint8(41 * PS)
    vma.getUint8(43 * PS)
    vma.getUint8(45 * PS)
    assert.deepEqual(
      [41, 43, 45].map((pg) => fh.pageInfo(pg).frame),
      [7, 3, 10],
    )
  })

  test('a scan 4× the budget that drops behind runs in a few frames of the arena', async () => {
    const frames = 64
    const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS })
    const pages = 4 * frames
    const file = new MemoryBigFile(PS)
    for (let pg = 0; pg < pages; pg++) file.blocks.set(pg, new Uint8Array(PS).fill(pg & 0xff))
    const fh = new FileH(file, ram)
    const a = BigArray.over(fh, { dtype: 'uint8', shape: [pages * PS] })
    const used = new Set<number>()
    let sum = 0
    await a.forEachChunk((d, start) => {
      used.add(d.byteOffset / PS)
      assert.equal(d[0], Math.floor(start / PS) & 0xff)
      sum += d[d.length - 1]
    })
    let want = 0
    for (let pg = 0; pg < pages; pg++) want += pg & 0xff
    assert.equal(sum, want)
    // windows of 8 pages, each loaded into the frames the walk has just given back: one window's worth
    assert.equal(used.size, 8, `${used.size} distinct frames for ${pages} pages`)
    assert.equal(fh.counters.dropBehind, pages - fh.residentPages().length)
  })
})
