import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { FileH, PageState, RAM, WriteoutFlags } from '../../src/index.ts'
import { RecordingFile } from '../helpers/bigfiles.ts'

const PS = 4096
const { STORE, MARKSTORED } = WriteoutFlags

/** A RAM of `frames` page frames (plus the default reserve), a recording file and a 8-page mapping. */
function setup(frames = 8, pglen = 8, spill = true) {
  const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS, spill })
  const file = new RecordingFile(PS)
  const fh = new FileH(file, ram)
  const vma = fh.mmap(0, pglen)
  return { ram, file, fh, vma }
}

describe('page faults', () => {
  test('a fresh mapping has nothing resident', () => {
    const { ram, fh, vma } = setup()
    assert.deepEqual(fh.residentPages(), [])
    assert.equal(ram.stats().used, 0)
    for (let pg = 0; pg < 8; pg++) {
      assert.equal(fh.pageState(pg), PageState.EMPTY)
      assert.equal(vma.mappedAs(pg), 'none')
    }
    assert.equal(ram.counters.faults, 0)
  })

  test('a read fault loads the page LOADED, read-only, mapping count 1', () => {
    const { ram, file, fh, vma } = setup()
    assert.equal(vma.getUint8(PS * 2 + 5), 3)
    assert.deepEqual(fh.pageInfo(2), { state: PageState.LOADED, mapcount: 1, pincount: 0, frame: 0 })
    assert.equal(vma.mappedAs(2), 'r')
    assert.deepEqual(file.loads, [2])
    assert.equal(ram.counters.faults, 1)
    assert.equal(ram.counters.loads, 1)
    assert.equal(ram.stats().used, 1)
    // hits do not fault again
    for (let i = 0; i < 100; i++) vma.getUint8(PS * 2 + i)
    assert.equal(ram.counters.faults, 1)
  })

  test('a write fault on an unloaded page makes it DIRTY in one fault, the rest holding loaded data', () => {
    const { ram, file, fh, vma } = setup()
    vma.setUint8(PS + 10, 0xee)
    assert.equal(fh.pageState(1), PageState.DIRTY)
    assert.equal(vma.mappedAs(1), 'rw')
    assert.equal(ram.counters.faults, 1)
    assert.deepEqual(file.loads, [1])
    assert.equal(vma.getUint8(PS + 10), 0xee)
    assert.equal(vma.getUint8(PS + 9), 2)
    assert.equal(vma.getUint8(PS + 11), 2)
    assert.deepEqual(fh.dirtyPages(), [1])
    assert.equal(ram.counters.faults, 1)
  })

  test('a write to a LOADED page makes it DIRTY without reloading', () => {
    const { ram, file, fh, vma } = setup()
    vma.getUint8(0)
    assert.equal(fh.pageState(0), PageState.LOADED)
    vma.setFloat64(8, 1.5)
    assert.equal(fh.pageState(0), PageState.DIRTY)
    assert.equal(vma.mappedAs(0), 'rw')
    assert.deepEqual(file.loads, [0])
    assert.equal(ram.counters.faults, 2)
    assert.equal(vma.getFloat64(8), 1.5)
    assert.ok(fh.isDirty())
  })

  test('with RAM full of 2 dirty + 1 clean pages the next fault evicts the clean one only', () => {
    const { ram, file, fh, vma } = setup(3)
    vma.setUint8(0, 10)
    vma.setUint8(PS, 11)
    vma.getUint8(2 * PS)
    assert.equal(ram.stats().free, 0)
    vma.getUint8(3 * PS)
    assert.equal(fh.pageState(0), PageState.DIRTY)
    assert.equal(fh.pageState(1), PageState.DIRTY)
    assert.equal(fh.pageState(2), PageState.EMPTY)
    assert.equal(fh.pageState(3), PageState.LOADED)
    assert.equal(vma.mappedAs(2), 'none')
    assert.equal(ram.counters.reclaims, 1)
    assert.equal(vma.getUint8(0), 10)
    assert.equal(vma.getUint8(PS), 11)
    assert.deepEqual(file.loads, [0, 1, 2, 3])
  })

  test('with spill off, when every frame is dirty the fault fails with OutOfMemoryError and nothing changes', () => {
    const { ram, fh, vma } = setup(2, 8, false)
    vma.setUint8(0, 1)
    vma.setUint8(PS, 2)
    assert.throws(() => vma.getUint8(2 * PS), { code: 'ENOMEM', name: 'OutOfMemoryError' })
    assert.equal(fh.pageState(2), PageState.EMPTY)
    assert.deepEqual(fh.dirtyPages(), [0, 1])
    assert.equal(ram.stats().used, 2)
    // after writeout + markstored the pages are clean and can be dropped
    fh.writeout(STORE | MARKSTORED)
    assert.equal(vma.getUint8(2 * PS), 3)
  })

  test('explicit reclaim returns the number dropped and never touches dirty pages', () => {
    const { ram, fh, vma } = setup(8)
    for (let pg = 0; pg < 6; pg++) vma.getUint8(pg * PS)
    vma.setUint8(PS, 99)
    vma.setUint8(4 * PS, 98)
    assert.equal(ram.reclaim(), 4)
    assert.deepEqual(fh.residentPages(), [1, 4])
    assert.deepEqual(fh.dirtyPages(), [1, 4])
    assert.equal(ram.counters.reclaims, 4)
    assert.equal(ram.reclaim(), 0)
    assert.equal(vma.getUint8(PS), 99)
    assert.equal(vma.getUint8(4 * PS), 98)
  })

  test('reclaim drops at most one batch', () => {
    const ram = new RAM({ pagesize: PS, capacity: 12 * PS, reclaimBatch: 3 })
    const fh = new FileH(new RecordingFile(PS), ram)
    const vma = fh.mmap(0, 10)
    for (let pg = 0; pg < 10; pg++) vma.getUint8(pg * PS)
    assert.equal(ram.reclaim(), 3)
    assert.equal(fh.residentPages().length, 7)
    assert.equal(ram.reclaim(2), 2)
  })

  test('a pinned page is never reclaimed', () => {
    const { ram, fh, vma } = setup(4)
    const pin = vma.pin(0, 16)
    vma.getUint8(PS)
    assert.equal(ram.reclaim(), 1)
    assert.deepEqual(fh.residentPages(), [0])
    assert.equal(fh.pageInfo(0).pincount, 1)
    pin.release()
    assert.equal(ram.reclaim(), 1)
    assert.deepEqual(fh.residentPages(), [])
  })

  test('unmap keeps dirty pages with their data', () => {
    const { fh, vma } = setup()
    vma.setUint32(PS * 3, 0xdeadbeef)
    vma.getUint8(0)
    vma.unmap()
    assert.equal(fh.pageInfo(3).state, PageState.DIRTY)
    assert.equal(fh.pageInfo(3).mapcount, 0)
    assert.equal(fh.pageInfo(0).mapcount, 0)
    assert.deepEqual(fh.dirtyPages(), [3])
    const again = fh.mmap(2, 4)
    assert.equal(again.getUint32(PS), 0xdeadbeef)
    assert.throws(() => vma.getUint8(0), { code: 'ECLOSED' })
  })

  test('two VMAs share pages; a write through one is seen by the other', () => {
    const { fh, vma } = setup()
    const other = fh.mmap(2, 4)
    vma.getUint8(3 * PS)
    other.setUint8(PS + 1, 77)
    assert.equal(vma.getUint8(3 * PS + 1), 77)
    assert.equal(fh.pageInfo(3).mapcount, 2)
    assert.equal(vma.mappedAs(3), 'r')
    assert.equal(other.mappedAs(3), 'rw')
  })

  test('accesses that straddle two pages', () => {
    const { fh, vma } = setup()
    vma.setFloat64(PS - 3, Math.PI)
    assert.equal(vma.getFloat64(PS - 3), Math.PI)
    vma.setBigInt64(2 * PS - 1, -5n)
    assert.equal(vma.getBigInt64(2 * PS - 1), -5n)
    vma.setUint16(3 * PS - 1, 0xabcd)
    assert.equal(vma.getUint8(3 * PS - 1), 0xcd)
    assert.equal(vma.getUint8(3 * PS), 0xab)
    assert.deepEqual(fh.dirtyPages(), [0, 1, 2, 3])
  })

  test('every numeric type round-trips, little-endian', () => {
    const { vma } = setup()
    const cases: [string, number | bigint][] = [
      ['Int8', -7],
      ['Uint8', 250],
      ['Int16', -30000],
      ['Uint16', 65000],
      ['Int32', -2e9],
      ['Uint32', 4e9],
      ['Float32', 1.5],
      ['Float64', -1e300],
      ['BigInt64', -(2n ** 62n)],
      ['BigUint64', 2n ** 63n + 5n],
    ]
    const v = vma as unknown as Record<string, (off: number, x?: unknown) => unknown>
    let off = 100
    for (const [t, x] of cases) {
      v[`set${t}`].call(vma, off, x)
      assert.equal(v[`get${t}`].call(vma, off), x, t)
      off += 8
    }
    const le = new Uint8Array(4)
    vma.readBytes(100 + 4 * 8, le)
    assert.deepEqual([...le], [0x00, 0x6c, 0xca, 0x88]) // -2e9 as int32 LE
  })

  test('offsets beyond 4 GiB hit without faulting again', () => {
    const ram = new RAM({ pagesize: 64 << 10, capacity: 8 << 20 })
    const fh = new FileH(new RecordingFile(64 << 10), ram)
    const vma = fh.mmap(0, 70_000) // a 4.6 GB window
    const off = 2 ** 32 + 24
    vma.setFloat64(off, 6.5)
    assert.equal(ram.counters.faults, 1)
    assert.equal(vma.getFloat64(off), 6.5)
    vma.setFloat64(off + 8, 7.5)
    assert.equal(ram.counters.faults, 1)
    assert.deepEqual(fh.dirtyPages(), [Math.floor(off / (64 << 10))])
    assert.throws(() => vma.getFloat64(2 ** 32 + 0.5), { code: 'ERANGE' })
  })

  test('accesses outside the VMA are OutOfRangeError', () => {
    const { vma } = setup()
    assert.throws(() => vma.getUint8(8 * PS), { code: 'ERANGE' })
    assert.throws(() => vma.getUint8(-1), { code: 'ERANGE' })
    assert.throws(() => vma.getFloat64(8 * PS - 4), { code: 'ERANGE' })
    assert.throws(() => vma.setUint8(8 * PS, 1), { code: 'ERANGE' })
    assert.throws(() => vma.readBytes(8 * PS - 1, new Uint8Array(2)), { code: 'ERANGE' })
  })

  test('lengths that are negative, fractional or NaN are OutOfRangeError everywhere', async () => {
    const { vma } = setup()
    for (const n of [-1, 1.5, Number.NaN, -100]) {
      assert.throws(() => vma.pin(0, n), { code: 'ERANGE' }, `pin ${n}`)
      assert.throws(() => vma.fault(0, n), { code: 'ERANGE' }, `fault ${n}`)
      await assert.rejects(vma.read(0, n), { code: 'ERANGE' }, `read ${n}`)
    }
  })

  test('bulk readBytes / writeBytes across pages', () => {
    const { fh, vma } = setup()
    const data = new Uint8Array(3 * PS).map((_, i) => i * 7)
    vma.writeBytes(PS / 2, data)
    assert.deepEqual(fh.dirtyPages(), [0, 1, 2, 3])
    assert.deepEqual(vma.readBytes(PS / 2, new Uint8Array(3 * PS)), data)
    assert.equal(vma.getUint8(PS / 2 - 1), 1)
  })
})

describe('writeout', () => {
  function dirty3() {
    const s = setup()
    s.vma.setUint8(5 * PS, 55)
    s.vma.setUint8(1 * PS, 11)
    s.vma.setUint8(3 * PS, 33)
    s.vma.getUint8(2 * PS)
    return s
  }

  test('STORE calls storeblk in ascending order once per dirty page and leaves the pages dirty', () => {
    const { ram, file, fh, vma } = dirty3()
    fh.writeout(STORE)
    assert.deepEqual(file.stores, [1, 3, 5])
    assert.deepEqual(fh.dirtyPages(), [1, 3, 5])
    assert.equal(fh.pageState(3), PageState.DIRTY)
    assert.equal(vma.mappedAs(3), 'rw')
    assert.equal(file.blocks.get(3)?.[0], 33)
    assert.equal(ram.counters.stores, 3)
    assert.equal(ram.counters.bytesStored, 3 * PS)
  })

  test('MARKSTORED alone stores nothing and makes the pages LOADED and read-only', () => {
    const { file, fh, vma } = dirty3()
    fh.writeout(MARKSTORED)
    assert.deepEqual(file.stores, [])
    assert.deepEqual(fh.dirtyPages(), [])
    for (const pg of [1, 3, 5]) {
      assert.equal(fh.pageState(pg), PageState.LOADED)
      assert.equal(vma.mappedAs(pg), 'r')
    }
    assert.ok(!fh.isDirty())
    // the next write is a write fault again
    vma.setUint8(3 * PS, 34)
    assert.deepEqual(fh.dirtyPages(), [3])
  })

  test('STORE|MARKSTORED does both; a second STORE then stores nothing', () => {
    const { file, fh, vma } = dirty3()
    fh.writeout(STORE | MARKSTORED)
    assert.deepEqual(file.stores, [1, 3, 5])
    assert.deepEqual(fh.dirtyPages(), [])
    assert.equal(vma.mappedAs(5), 'r')
    fh.writeout(STORE)
    assert.deepEqual(file.stores, [1, 3, 5])
    // the stored data comes back after the pages are dropped
    fh.invalidateRange(0, 8)
    assert.equal(vma.getUint8(5 * PS), 55)
    assert.equal(vma.getUint8(PS), 11)
  })

  test('freezeForWriteout keeps pages stable: writes are refused (EBUSY) until thawAfterWriteout', () => {
    const { file, fh, vma } = dirty3()
    fh.freezeForWriteout()
    assert.equal(fh.frozenForWriteout, true)
    // the dirty pages were write-protected, so even a write to one of them faults and is refused
    assert.equal(vma.mappedAs(3), 'r')
    assert.throws(() => vma.setUint8(3 * PS, 1), { code: 'EBUSY', message: /page 3 .*under writeout/ })
    assert.throws(() => vma.setUint8(6 * PS, 1), { code: 'EBUSY', message: /page 6 .*under writeout/ })
    assert.deepEqual(fh.dirtyPages(), [1, 3, 5])
    assert.equal(vma.getUint8(3 * PS), 33, 'reads go on')
    fh.writeout(STORE | MARKSTORED)
    assert.deepEqual(file.stores, [1, 3, 5])
    fh.thawAfterWriteout()
    assert.equal(fh.frozenForWriteout, false)
    vma.setUint8(6 * PS, 1)
    assert.deepEqual(fh.dirtyPages(), [6])
  })

  test('freezeForWriteout is refused while a write pin is live (its views write without faulting)', () => {
    const { fh, vma } = setup()
    const pin = vma.pin(2 * PS, 8, { write: true })
    assert.throws(() => fh.freezeForWriteout(), { code: 'EBUSY', message: /page 2 is pinned for writing/ })
    assert.equal(fh.frozenForWriteout, false)
    pin.release()
    fh.freezeForWriteout()
    assert.equal(fh.frozenForWriteout, true)
  })

  test('bad flags are InvalidArgumentError', () => {
    const { fh } = setup()
    for (const f of [0, 4, 7, -1, 1.5]) assert.throws(() => fh.writeout(f), { code: 'EINVAL' })
  })

  test('discard drops dirty pages only; their next access reloads the stored data', () => {
    const { file, fh, vma } = dirty3()
    fh.discard()
    assert.deepEqual(fh.dirtyPages(), [])
    assert.deepEqual(fh.residentPages(), [2])
    assert.equal(vma.mappedAs(1), 'none')
    assert.equal(vma.getUint8(PS), 2)
    assert.deepEqual(file.stores, [])
  })
})

describe('invalidate', () => {
  test('of an absent page changes nothing', () => {
    const { ram, fh, vma } = setup()
    vma.getUint8(0)
    const before = ram.counters.snapshot()
    fh.invalidatePage(5)
    assert.deepEqual(fh.residentPages(), [0])
    assert.deepEqual(ram.counters.snapshot(), before)
  })

  test('of a LOADED page makes it EMPTY and the next access reloads', () => {
    const { file, fh, vma } = setup()
    vma.getUint8(2 * PS)
    file.blocks.set(2, new Uint8Array(PS).fill(42))
    fh.invalidatePage(2)
    assert.equal(fh.pageState(2), PageState.EMPTY)
    assert.equal(vma.mappedAs(2), 'none')
    assert.equal(vma.getUint8(2 * PS), 42)
    assert.deepEqual(file.loads, [2, 2])
  })

  test('of a DIRTY mapped page makes it EMPTY, unmapped and no longer dirty', () => {
    const { ram, fh, vma } = setup()
    vma.setUint8(4 * PS, 1)
    fh.invalidatePage(4)
    assert.equal(fh.pageState(4), PageState.EMPTY)
    assert.equal(vma.mappedAs(4), 'none')
    assert.deepEqual(fh.dirtyPages(), [])
    assert.ok(!fh.isDirty())
    assert.equal(ram.stats().used, 0)
    assert.equal(vma.getUint8(4 * PS), 5)
  })

  test('a range drops only the pages inside it', () => {
    const { fh, vma } = setup()
    for (let pg = 0; pg < 8; pg++) vma.getUint8(pg * PS)
    fh.invalidateRange(2, 3)
    assert.deepEqual(fh.residentPages(), [0, 1, 5, 6, 7])
    fh.invalidateRange(0, 1_000_000)
    assert.deepEqual(fh.residentPages(), [])
  })

  test('bad page ranges are InvalidArgumentError', () => {
    const { fh } = setup()
    assert.throws(() => fh.invalidateRange(-1, 1), { code: 'EINVAL' })
    assert.throws(() => fh.invalidateRange(0, 0), { code: 'EINVAL' })
    assert.throws(() => fh.invalidatePage(0.5), { code: 'EINVAL' })
    assert.throws(() => fh.mmap(0, 0), { code: 'EINVAL' })
    assert.throws(() => fh.mmap(-2, 1), { code: 'EINVAL' })
  })
})

describe('close', () => {
  test('after unmap removes every page of the FileH from RAM', () => {
    const { ram, fh, vma } = setup()
    const other = new FileH(new RecordingFile(PS), ram)
    const ovma = other.mmap(0, 2)
    ovma.getUint8(0)
    vma.setUint8(0, 1)
    vma.getUint8(PS)
    vma.getUint8(2 * PS)
    assert.equal(ram.stats().used, 4)
    vma.unmap()
    fh.close()
    assert.equal(ram.stats().used, 1)
    assert.deepEqual(fh.residentPages(), [])
    assert.deepEqual(other.residentPages(), [0])
    assert.throws(() => fh.mmap(0, 1), { code: 'ECLOSED' })
    assert.throws(() => fh.writeout(STORE), { code: 'ECLOSED' })
    fh.close() // idempotent
  })

  test('with live mappings is refused with BusyError', () => {
    const { fh, vma } = setup()
    vma.getUint8(0)
    assert.throws(() => fh.close(), { code: 'EBUSY' })
    assert.equal(fh.pageState(0), PageState.LOADED)
    vma.unmap()
    fh.close()
  })

  test('using-disposal unmaps and closes', () => {
    const ram = new RAM({ pagesize: PS, capacity: 10 * PS })
    {
      using fh = new FileH(new RecordingFile(PS), ram)
      const vma = fh.mmap(0, 4)
      vma.setUint8(0, 1)
    }
    assert.equal(ram.stats().used, 0)
  })
})

describe('configuration errors', () => {
  test('RAM options are checked', () => {
    assert.throws(() => new RAM({ pagesize: 1000, capacity: 1 << 20 }), { code: 'EINVAL' })
    assert.throws(() => new RAM({ pagesize: 2048, capacity: 1 << 20 }), { code: 'EINVAL' })
    assert.throws(() => new RAM({ pagesize: 32 << 20, capacity: 1 << 30 }), { code: 'EINVAL' })
    assert.throws(() => new RAM({ pagesize: 4096, capacity: -1 }), { code: 'EINVAL' })
    assert.throws(() => new RAM({ pagesize: 4096, capacity: 2 * 4096 }), { code: 'EINVAL' })
    assert.throws(() => new RAM({ pagesize: 4096, capacity: 1 << 20, reserve: -1 }), { code: 'EINVAL' })
    assert.throws(() => new RAM({ pagesize: 4096, capacity: 1 << 20, reclaimBatch: 0 }), { code: 'EINVAL' })
  })

  test('blksize must divide pagesize or be divided by it', () => {
    const ram = new RAM({ pagesize: PS, capacity: 16 * PS })
    assert.throws(() => new FileH(new RecordingFile(3000), ram), { code: 'EINVAL' })
    assert.throws(() => new FileH(new RecordingFile(PS * 3), ram), {
      code: 'EINVAL',
      message: /reserve >= 3/,
    })
  })
})
