import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  FileH,
  LoadError,
  MemoryBigFile,
  PageState,
  RAM,
  StoreError,
  WriteoutFlags,
} from '../../src/index.ts'
import { RecordingFile } from '../helpers/bigfiles.ts'

const PS = 4096
const { STORE, MARKSTORED } = WriteoutFlags

describe('blksize smaller than pagesize (several blocks per page)', () => {
  test('a fault loads every block of the page, in order; writeout stores every block of a dirty page', () => {
    const ram = new RAM({ pagesize: PS, capacity: 8 * PS })
    const file = new RecordingFile(1024, (blk) => blk + 10)
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 4)
    assert.equal(vma.getUint8(PS + 1024 * 2 + 7), 16)
    assert.deepEqual(file.loads, [4, 5, 6, 7])
    assert.equal(ram.counters.loads, 4)
    vma.setUint8(PS + 5, 99)
    fh.writeout(STORE | MARKSTORED)
    assert.deepEqual(file.stores, [4, 5, 6, 7])
    assert.equal(file.blocks.get(4)?.[5], 99)
    assert.equal(file.blocks.get(5)?.[5], 15)
  })

  test('async blocks too', async () => {
    const ram = new RAM({ pagesize: PS, capacity: 8 * PS })
    const file = new MemoryBigFile(512, { async: true })
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 2)
    await vma.write(PS - 2, new Uint8Array([1, 2, 3, 4]))
    await fh.writeout(STORE | MARKSTORED)
    assert.deepEqual([...(file.blocks.get(7) ?? [])].slice(-2), [1, 2])
    assert.deepEqual([...(file.blocks.get(8) ?? [])].slice(0, 2), [3, 4])
    fh.invalidateRange(0, 2)
    assert.deepEqual([...(await vma.read(PS - 2, 4))], [1, 2, 3, 4])
  })
})

describe('blksize larger than pagesize (a block spans pages)', () => {
  function setup(frames = 8) {
    // blocks of 4 pages need a bounce buffer of 4 reserve frames
    const ram = new RAM({ pagesize: PS, capacity: (frames + 4) * PS, reserve: 4 })
    const file = new RecordingFile(4 * PS, (blk) => blk + 1)
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 12)
    return { ram, file, fh, vma }
  }

  test('a fault loads the whole block through the bounce buffer and keeps its own page', () => {
    const { ram, file, fh, vma } = setup()
    const content = new Uint8Array(4 * PS).map((_, i) => i >> 12)
    file.blocks.set(1, content)
    assert.equal(vma.getUint8(6 * PS), 2) // block 1, its third page
    assert.deepEqual(file.loads, [1])
    assert.deepEqual(fh.residentPages(), [6])
    assert.equal(ram.stats().used, 1)
    assert.equal(ram.counters.bytesLoaded, 4 * PS)
  })

  test('writeout assembles each dirty block once from its resident pages and the storage', () => {
    const { file, fh, vma } = setup()
    vma.setUint8(5 * PS, 50) // block 1, page 1
    vma.setUint8(7 * PS + 1, 70) // block 1, page 3
    vma.setUint8(0, 9) // block 0, page 0
    fh.writeout(STORE)
    assert.deepEqual(file.stores, [0, 1])
    const b1 = file.blocks.get(1)!
    assert.equal(b1[0], 2) // page 4 not resident: came from the storage
    assert.equal(b1[PS], 50)
    assert.equal(b1[3 * PS + 1], 70)
    assert.equal(b1[2 * PS], 2)
    fh.writeout(MARKSTORED)
    assert.equal(fh.pageState(5), PageState.LOADED)
    fh.invalidateRange(0, 12)
    assert.equal(vma.getUint8(7 * PS + 1), 70)
    assert.equal(vma.getUint8(4 * PS), 2)
  })

  test('a block larger than the bounce buffer is refused at open with a clear message', () => {
    const ram = new RAM({ pagesize: PS, capacity: 16 * PS, reserve: 2 })
    assert.throws(() => new FileH(new RecordingFile(4 * PS), ram), {
      code: 'EINVAL',
      message: /reserve >= 4/,
    })
  })

  test('async loads of several pages of one block share the bounce buffer one at a time', async () => {
    const ram = new RAM({ pagesize: PS, capacity: 12 * PS, reserve: 4 })
    const file = new MemoryBigFile(4 * PS, { async: true })
    const data = new Uint8Array(4 * PS).map((_, i) => (i >> 12) + 1)
    file.blocks.set(0, data)
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 4)
    const got = await Promise.all([0, 1, 2, 3].map((pg) => vma.read(pg * PS, 1)))
    assert.deepEqual(
      got.map((g) => g[0]),
      [1, 2, 3, 4],
    )
  })
})

describe('LoadError and StoreError name the page and the block for what they are', () => {
  /** A RecordingFile whose loads and stores of block `bad` throw `boom`. */
  class FailingFile extends RecordingFile {
    bad: number
    readonly boom = new Error('disk on fire')
    constructor(blksize: number, bad: number) {
      super(blksize)
      this.bad = bad
    }
    override loadblk(blk: number, buf: Uint8Array): void {
      if (blk === this.bad) throw this.boom
      super.loadblk(blk, buf)
    }
    override storeblk(blk: number, buf: Uint8Array): void {
      if (blk === this.bad) throw this.boom
      super.storeblk(blk, buf)
    }
  }
  function failing(blksize: number, bad: number) {
    const file = new FailingFile(blksize, bad)
    return { file, boom: file.boom }
  }

  test('blocks smaller than a page: pgoffset is the page faulted, blk the block that failed', () => {
    const { file, boom } = failing(1024, 4 * 3 + 2) // page 3, its third block
    const fh = new FileH(file, new RAM({ pagesize: PS, capacity: 8 * PS }))
    const vma = fh.mmap(0, 8)
    assert.throws(
      () => vma.getUint8(3 * PS),
      (e: unknown) =>
        e instanceof LoadError && e.code === 'ELOAD' && e.pgoffset === 3 && e.blk === 14 && e.cause === boom,
    )
    assert.equal(fh.pageState(3), PageState.EMPTY)
  })

  test('blocks larger than a page: a fault on page 6 of 4-page blocks fails in block 1', () => {
    const { file } = failing(4 * PS, 1)
    const fh = new FileH(file, new RAM({ pagesize: PS, capacity: 12 * PS, reserve: 4 }))
    const vma = fh.mmap(0, 12)
    assert.throws(
      () => vma.getUint8(6 * PS),
      (e: unknown) =>
        e instanceof LoadError && e.pgoffset === 6 && e.blk === 1 && /page 6.*loadblk\(1\)/.test(e.message),
    )
  })

  test('a failed storeblk names its block', () => {
    const { file, boom } = failing(1024, -1)
    const fh = new FileH(file, new RAM({ pagesize: PS, capacity: 8 * PS }))
    const vma = fh.mmap(0, 8)
    vma.setUint8(2 * PS + 1024 + 1, 7) // page 2 = blocks 8..11
    file.bad = 9
    assert.throws(
      () => fh.writeout(STORE | MARKSTORED),
      (e: unknown) => e instanceof StoreError && e.code === 'ESTORE' && e.blk === 9 && e.cause === boom,
    )
    assert.deepEqual(fh.dirtyPages(), [2])
  })
})
