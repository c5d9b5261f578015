import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { FileH, MemoryBigFile, PageState, RAM } from '../../src/index.ts'
import { RecordingFile } from '../helpers/bigfiles.ts'

const PS = 4096

function setup(frames = 4, file = new RecordingFile(PS), spill = true) {
  const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS, spill })
  const fh = new FileH(file, ram)
  const vma = fh.mmap(0, 8)
  return { ram, fh, vma }
}

describe('pinned zero-copy views', () => {
  test('a view aliases the frame: reads see VMA writes, write-pin writes are seen and kept dirty', () => {
    const { fh, vma } = setup()
    {
      using pin = vma.pin(PS, 64, { write: true })
      const f = pin.view(Float64Array)
      assert.equal(f.length, 8)
      f[3] = 2.5
      assert.equal(fh.pageInfo(1).pincount, 1)
      assert.equal(fh.pageState(1), PageState.DIRTY)
    }
    assert.equal(fh.pageInfo(1).pincount, 0)
    assert.equal(vma.getFloat64(PS + 24), 2.5)
    vma.setFloat64(PS + 32, 7)
    using pin = vma.pin(PS + 32, 8)
    assert.equal(pin.view(Float64Array)[0], 7)
  })

  test('forEach hands one piece per page over a multi-page range', () => {
    const { vma } = setup()
    vma.writeBytes(PS - 2, new Uint8Array([1, 2, 3, 4, 5]))
    const seen: [number, number[]][] = []
    using pin = vma.pin(PS - 2, 5)
    pin.forEach((bytes, off) => {
      seen.push([off, [...bytes]])
    })
    assert.deepEqual(seen, [
      [0, [1, 2]],
      [2, [3, 4, 5]],
    ])
    assert.throws(() => pin.view(Uint8Array), { code: 'EINVAL' })
  })

  test('misaligned views are refused; a released pin refuses views', () => {
    const { vma } = setup()
    const pin = vma.pin(4, 16)
    assert.throws(() => pin.view(Float64Array), { code: 'EINVAL' })
    assert.equal(pin.view(Uint32Array).length, 4)
    pin.release()
    pin.release()
    assert.throws(() => pin.view(Uint8Array), { code: 'ECLOSED' })
  })

  test('an invalidated pinned page is detached: its frame is not reused until the pin ends', () => {
    const { ram, fh, vma } = setup(2)
    vma.setUint8(0, 5)
    const pin = vma.pin(0, 8)
    const view = pin.view(Uint8Array)
    fh.invalidatePage(0)
    assert.equal(fh.pageState(0), PageState.EMPTY)
    assert.equal(ram.stats().used, 1)
    // the RAM has one frame left: cycling pages through it never takes the pinned one
    for (let pg = 1; pg < 8; pg++) assert.equal(vma.getUint8(pg * PS), pg + 1)
    assert.deepEqual(fh.residentPages(), [7])
    assert.equal(view[0], 5)
    assert.equal(ram.stats().used, 2)
    pin.release()
    assert.equal(ram.stats().used, 1)
    assert.equal(vma.getUint8(0), 1)
  })

  test('pinning more pages than the RAM holds fails with ENOMEM and pins nothing', () => {
    const { ram, fh, vma } = setup(2)
    assert.throws(() => vma.pin(0, 3 * PS), { code: 'ENOMEM' })
    for (const pg of fh.residentPages()) assert.equal(fh.pageInfo(pg).pincount, 0)
    assert.ok(ram.reclaim() >= 0)
  })

  test('pinAsync and withPinned wait for async loads and always release', async () => {
    const file = new MemoryBigFile(PS, { async: true })
    file.blocks.set(2, new Uint8Array(PS).fill(8))
    const { fh, vma } = setup(4, file as unknown as RecordingFile)
    const sum = await vma.withPinned(2 * PS, 16, (pin) => pin.view(Uint8Array).reduce((a, b) => a + b, 0))
    assert.equal(sum, 128)
    assert.equal(fh.pageInfo(2).pincount, 0)
    await assert.rejects(
      vma.withPinned(2 * PS, 16, () => {
        throw new Error('inside')
      }),
      /inside/,
    )
    assert.equal(fh.pageInfo(2).pincount, 0)
    assert.throws(() => vma.pin(3 * PS, 1), { code: 'EWOULDBLOCK' })
  })

  test('writeBytes is all or nothing when the RAM cannot hold the range (spill off)', () => {
    const { fh, vma } = setup(2, new RecordingFile(PS), false)
    vma.setUint8(5 * PS, 1)
    assert.throws(() => vma.setFloat64(PS - 4, 1.5), { code: 'ENOMEM' })
    assert.deepEqual(fh.dirtyPages(), [5])
    assert.notEqual(vma.getFloat64(PS - 4), 1.5)
  })
})
