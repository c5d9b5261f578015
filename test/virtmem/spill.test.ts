import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import {
  FileH,
  type InvalidateRange,
  MemoryBigFile,
  PageState,
  RAM,
  type RAMOptions,
  WriteoutFlags,
} from '../../src/index.ts'
import { nodeSpillIO, type SpillIO } from '../../src/virtmem/spill.ts'
import { RecordingFile } from '../helpers/bigfiles.ts'

const PS = 4096
const { STORE, MARKSTORED } = WriteoutFlags

function dir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'bigfile-spill-test-'))
  t.after(() => rmSync(d, { recursive: true, force: true }))
  return d
}

/** A RAM of `frames` page frames (+2 reserve) spilling into a private temp dir. */
function setup(
  t: { after(fn: () => void): void },
  frames: number,
  opts: Partial<RAMOptions> = {},
  file: RecordingFile | MemoryBigFile = new RecordingFile(PS),
) {
  const spillDir = dir(t)
  const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS, spillDir, ...opts })
  const fh = new FileH(file, ram)
  const vma = fh.mmap(0, 64)
  return { ram, fh, vma, file, spillDir }
}

/** A SpillIO that counts calls and fails the ones a test asks for. */
class FaultySpillIO implements SpillIO {
  creates: string[] = []
  writes = 0
  reads = 0
  closes = 0
  failWrite: ((n: number) => Error | undefined) | undefined
  failRead: ((n: number) => Error | undefined) | undefined
  create(path: string): number {
    this.creates.push(path)
    return nodeSpillIO.create(path)
  }
  writev(fd: number, bufs: Uint8Array[], position: number): number {
    this.writes++
    const e = this.failWrite?.(this.writes)
    if (e) throw e
    return nodeSpillIO.writev(fd, bufs, position)
  }
  read(fd: number, buf: Uint8Array, position: number): number {
    this.reads++
    const e = this.failRead?.(this.reads)
    if (e) throw e
    return nodeSpillIO.read(fd, buf, position)
  }
  truncate(fd: number, length: number): void {
    nodeSpillIO.truncate(fd, length)
  }
  close(fd: number): void {
    this.closes++
    nodeSpillIO.close(fd)
  }
  unlink(path: string): void {
    nodeSpillIO.unlink(path)
  }
}

function sysError(code: string): Error {
  return Object.assign(new Error(`${code}: injected`), { code })
}

describe('dirty spill', () => {
  test('a write past the budget spills the oldest dirty page; a fault reads it back, dirty again', (t) => {
    const { ram, fh, vma } = setup(t, 2)
    vma.setUint8(0, 10)
    vma.setUint8(PS, 11)
    assert.deepEqual(ram.stats().spilled, 0)
    vma.setUint8(2 * PS, 12) // both frames dirty: page 0, dirtied first, goes to the spill
    assert.equal(fh.pageState(0), PageState.SPILLED)
    assert.deepEqual(fh.pageInfo(0), { state: PageState.SPILLED, mapcount: 0, pincount: 0, frame: -1 })
    assert.equal(fh.pageState(1), PageState.DIRTY)
    assert.equal(fh.pageState(2), PageState.DIRTY)
    assert.deepEqual(fh.dirtyPages(), [0, 1, 2])
    assert.deepEqual(fh.spilledPages(), [0])
    assert.deepEqual(fh.residentPages(), [1, 2])
    assert.equal(fh.isDirty(), true)
    const s = ram.stats()
    assert.equal(s.spilled, 1)
    assert.equal(s.spillBytes, PS)
    assert.equal(s.spillFileBytes, PS)
    assert.equal(s.used, 2)
    assert.equal(ram.counters.spills, 1)
    assert.equal(ram.counters.bytesSpilled, PS)
    // Reading page 0 back spills page 1 (now the oldest) and frees slot 0 for it.
    assert.equal(vma.getUint8(0), 10)
    assert.equal(fh.pageState(0), PageState.DIRTY)
    assert.deepEqual(fh.spilledPages(), [1])
    assert.equal(ram.counters.spillReads, 1)
    assert.equal(ram.counters.bytesSpillRead, PS)
    // Page 1 spilled before slot 0 was read and freed: the file grew to two slots; slot 0 is reused next.
    assert.equal(ram.stats().spillFileBytes, 2 * PS)
    assert.equal(vma.getUint8(PS), 11)
    assert.equal(ram.stats().spillFileBytes, 2 * PS)
    assert.equal(vma.getUint8(2 * PS), 12)
    assert.equal(ram.stats().used, 2)
  })

  test('writeout streams resident and spilled pages in ascending block order; MARKSTORED frees the slots', (t) => {
    const { ram, fh, vma, file } = setup(t, 2, {}, new RecordingFile(PS))
    const f = file as RecordingFile
    for (let pg = 7; pg >= 0; pg--) vma.setUint8(pg * PS + 1, 100 + pg)
    assert.equal(fh.spilledPages().length, 6)
    assert.equal(ram.stats().used, 2)
    fh.writeout(STORE | MARKSTORED)
    assert.deepEqual(f.stores, [0, 1, 2, 3, 4, 5, 6, 7])
    for (let pg = 0; pg < 8; pg++) assert.equal(f.blocks.get(pg)?.[1], 100 + pg)
    assert.deepEqual(fh.dirtyPages(), [])
    assert.deepEqual(fh.spilledPages(), [])
    assert.equal(ram.stats().spilled, 0)
    assert.equal(fh.pageState(7), PageState.EMPTY, 'a spilled page marked stored is simply not resident')
    assert.equal(fh.pageState(0), PageState.LOADED)
    assert.equal(vma.getUint8(7 * PS + 1), 107)
  })

  test('discard drops spilled pages with the resident ones; their slots are reused', (t) => {
    const { ram, fh, vma } = setup(t, 2)
    for (let pg = 0; pg < 6; pg++) vma.setUint8(pg * PS, 50)
    assert.equal(ram.stats().spilled, 4)
    const fileBytes = ram.stats().spillFileBytes
    fh.discard()
    assert.deepEqual(fh.dirtyPages(), [])
    assert.equal(ram.stats().spilled, 0)
    assert.equal(ram.stats().spillFileBytes, 0, 'an empty spill file is cut to nothing')
    for (let pg = 0; pg < 6; pg++) assert.equal(vma.getUint8(pg * PS), pg + 1)
    for (let pg = 0; pg < 6; pg++) vma.setUint8(pg * PS, 60)
    assert.equal(ram.stats().spillFileBytes, fileBytes, 'the same slots again, from the start')
  })

  test('invalidateRange drops spilled pages inside the range only', (t) => {
    const { ram, fh, vma } = setup(t, 2)
    for (let pg = 0; pg < 6; pg++) vma.setUint8(pg * PS, 70 + pg)
    assert.deepEqual(fh.spilledPages(), [0, 1, 2, 3])
    fh.invalidateRange(1, 2)
    assert.deepEqual(fh.spilledPages(), [0, 3])
    assert.equal(ram.stats().spilled, 2)
    assert.equal(vma.getUint8(PS), 2)
    assert.equal(vma.getUint8(3 * PS), 73)
  })

  test('a batch is the oldest dirty pages across files, written with one call per run of slots', (t) => {
    const io = new FaultySpillIO()
    const ram = new RAM({ pagesize: PS, capacity: 10 * PS, spillDir: dir(t), spillIO: io, reclaimBatch: 2 })
    const a = new FileH(new MemoryBigFile(PS), ram)
    const b = new FileH(new MemoryBigFile(PS), ram)
    const va = a.mmap(0, 16)
    const vb = b.mmap(0, 16)
    va.setUint8(0, 1) // oldest
    vb.setUint8(0, 2)
    va.setUint8(PS, 3)
    vb.setUint8(PS, 4)
    for (let pg = 2; pg < 6; pg++) va.setUint8(pg * PS, 5)
    assert.equal(ram.stats().free, 0)
    va.setUint8(9 * PS, 6) // a batch of min(2, 8 / 4) pages: a's page 0 and b's page 0
    assert.deepEqual(a.spilledPages(), [0])
    assert.deepEqual(b.spilledPages(), [0])
    assert.equal(ram.stats().free, 1)
    assert.equal(io.writes, 2, 'one write per file')
    va.setUint8(10 * PS, 7) // takes the free frame: nothing spills
    assert.equal(io.writes, 2)
    va.setUint8(11 * PS, 8) // next batch: a's page 1 and b's page 1
    assert.deepEqual(a.spilledPages(), [0, 1])
    assert.deepEqual(b.spilledPages(), [0, 1])
    assert.equal(io.creates.length, 1)
    assert.match(io.creates[0], /bigfile-spill-\d+-[0-9a-f]{24}$/)
    assert.equal(vb.getUint8(PS), 4)
    assert.equal(va.getUint8(0), 1)
  })

  test('the spill file is private: created exclusively in spillDir, 0600, and unlinked at once', (t) => {
    const io = new FaultySpillIO()
    let mode = -1
    const create = io.create.bind(io)
    io.create = (path) => {
      const fd = create(path)
      mode = fs.fstatSync(fd).mode & 0o777
      return fd
    }
    const { ram, vma, spillDir } = setup(t, 2, { spillIO: io })
    for (let pg = 0; pg < 4; pg++) vma.setUint8(pg * PS, 1)
    assert.equal(ram.stats().spilled, 2)
    assert.equal(io.creates.length, 1)
    assert.equal(io.creates[0].startsWith(spillDir), true)
    if (process.platform !== 'win32') {
      assert.equal(mode, 0o600)
      assert.deepEqual(
        readdirSync(spillDir),
        [],
        'nothing is left in the directory, even if the process is killed',
      )
    }
    // An existing file (or link) at the chosen name is refused, never opened.
    const taken = join(spillDir, 'taken')
    fs.writeFileSync(taken, 'x')
    assert.throws(() => nodeSpillIO.create(taken), { code: 'EEXIST' })
  })

  test('maxSpill: past it the fault fails with SpillFullError; the transaction stays abortable, nothing leaks', (t) => {
    const { ram, fh, vma } = setup(t, 2, { maxSpill: 3 * PS })
    for (let pg = 0; pg < 5; pg++) vma.setUint8(pg * PS, 9)
    assert.equal(ram.stats().spilled, 3)
    assert.throws(() => vma.setUint8(5 * PS, 9), { code: 'ENOSPC', name: 'SpillFullError' })
    assert.equal(fh.pageState(5), PageState.EMPTY)
    assert.deepEqual(fh.dirtyPages(), [0, 1, 2, 3, 4])
    assert.equal(ram.stats().used, 2)
    fh.discard()
    assert.equal(ram.stats().spilled, 0)
    assert.equal(ram.stats().used, 0)
    for (let pg = 0; pg < 5; pg++) vma.setUint8(pg * PS, 8) // the space is there again
    assert.equal(ram.stats().spilled, 3)
  })

  test('a full disk at the spill write is SpillFullError; any other I/O error is SpillError; nothing changes', (t) => {
    const io = new FaultySpillIO()
    const { ram, fh, vma } = setup(t, 2, { spillIO: io })
    vma.setUint8(0, 1)
    vma.setUint8(PS, 2)
    io.failWrite = () => sysError('ENOSPC')
    assert.throws(() => vma.setUint8(2 * PS, 3), { code: 'ENOSPC', name: 'SpillFullError' })
    assert.equal(fh.pageState(0), PageState.DIRTY)
    assert.equal(ram.stats().spilled, 0)
    io.failWrite = () => sysError('EIO')
    assert.throws(
      () => vma.setUint8(2 * PS, 3),
      (e: Error & { code?: string; cause?: { code?: string } }) => {
        assert.equal(e.code, 'ESPILL')
        assert.equal(e.cause?.code, 'EIO')
        return true
      },
    )
    assert.deepEqual(fh.dirtyPages(), [0, 1])
    io.failWrite = undefined
    vma.setUint8(2 * PS, 3)
    assert.deepEqual(fh.spilledPages(), [0])
    // A failed read-back leaves the page spilled and the frame free.
    io.failRead = () => sysError('EIO')
    assert.throws(() => vma.getUint8(0), { code: 'ESPILL' })
    assert.equal(fh.pageState(0), PageState.SPILLED)
    assert.equal(ram.stats().used, 1)
    io.failRead = undefined
    assert.equal(vma.getUint8(0), 1)
    fh.discard()
    assert.equal(ram.stats().spilled, 0)
  })

  test('a writeout that cannot read a spilled page fails with nothing marked; the next one succeeds', (t) => {
    const io = new FaultySpillIO()
    const { fh, vma, file } = setup(t, 2, { spillIO: io })
    for (let pg = 0; pg < 4; pg++) vma.setUint8(pg * PS, 40 + pg)
    io.failRead = () => sysError('EIO')
    assert.throws(() => fh.writeout(STORE | MARKSTORED), { code: 'ESPILL' })
    assert.deepEqual(fh.dirtyPages(), [0, 1, 2, 3])
    io.failRead = undefined
    fh.writeout(STORE | MARKSTORED)
    for (let pg = 0; pg < 4; pg++) assert.equal((file as RecordingFile).blocks.get(pg)?.[0], 40 + pg)
  })

  test('short writes and reads go on where they stopped', (t) => {
    const io = new FaultySpillIO()
    // At most 1000 bytes per call, so every page takes several calls and runs split mid-page.
    io.writev = (fd, bufs, position) => nodeSpillIO.writev(fd, [bufs[0].subarray(0, 1000)], position)
    io.read = (fd, buf, position) => nodeSpillIO.read(fd, buf.subarray(0, 1000), position)
    const ram = new RAM({ pagesize: PS, capacity: 10 * PS, spillDir: dir(t), spillIO: io })
    const fh = new FileH(new MemoryBigFile(PS), ram)
    const vma = fh.mmap(0, 16)
    const page = (pg: number) => Uint8Array.from({ length: PS }, (_, i) => (pg * 7 + i * 13) & 0xff)
    for (let pg = 0; pg < 16; pg++) vma.writeBytes(pg * PS, page(pg))
    assert.ok(ram.stats().spilled >= 8)
    for (let pg = 0; pg < 16; pg++) assert.deepEqual(vma.readBytes(pg * PS, new Uint8Array(PS)), page(pg))
  })

  test('pinned, scratch and spill-off dirty pages never spill: ENOMEM says so', (t) => {
    const { vma } = setup(t, 2)
    const pin = vma.pin(0, 2 * PS, { write: true })
    assert.throws(() => vma.setUint8(2 * PS, 1), { code: 'ENOMEM' })
    pin.release()
    vma.setUint8(2 * PS, 1)
    const ram = new RAM({ pagesize: PS, capacity: 4 * PS, spillDir: dir(t) })
    const scratch = FileH.scratch(ram).mmap(0, 4)
    scratch.setUint8(0, 1)
    scratch.setUint8(PS, 1)
    assert.throws(() => scratch.setUint8(2 * PS, 1), { code: 'ENOMEM' })
    for (const opts of [{ spill: false }, { reserve: 0 }]) {
      const r = new RAM({ pagesize: PS, capacity: 4 * PS, spillDir: dir(t), ...opts })
      const v = new FileH(new MemoryBigFile(PS), r).mmap(0, 8)
      for (let pg = 0; pg < r.frames; pg++) v.setUint8(pg * PS, 1)
      assert.throws(() => v.setUint8(r.frames * PS, 1), { code: 'ENOMEM', message: /spill is off/ })
    }
    assert.throws(() => new RAM({ pagesize: PS, capacity: 4 * PS, reserve: 0, spill: true }), {
      code: 'EINVAL',
      message: /spill needs reserve >= 1/,
    })
  })

  test("notifiers hear a spill (reason 'spill') around the frame going away", (t) => {
    const { fh, vma } = setup(t, 2)
    const heard: string[] = []
    fh.registerNotifier({
      invalidateRangeStart: (r: InvalidateRange) => heard.push(`start ${r.reason} ${r.pgstart}`),
      invalidateRangeEnd: (r: InvalidateRange) => heard.push(`end ${r.reason} ${r.pgstart}`),
    })
    vma.setUint8(0, 1)
    vma.setUint8(PS, 1)
    vma.setUint8(2 * PS, 1)
    assert.deepEqual(heard, ['start spill 0', 'end spill 0'])
  })

  test('a notifier that re-dirties or pins the victim keeps it in RAM', (t) => {
    const { fh, vma } = setup(t, 2)
    let pin: ReturnType<typeof vma.pin> | undefined
    fh.registerNotifier({
      invalidateRangeStart: (r: InvalidateRange) => {
        if (r.reason === 'spill' && !pin) pin = vma.pin(r.pgstart * PS, 1)
      },
    })
    vma.setUint8(0, 1)
    vma.setUint8(PS, 1)
    assert.throws(() => vma.setUint8(2 * PS, 1), { code: 'ENOMEM' })
    assert.equal(fh.pageState(0), PageState.DIRTY)
    pin?.release()
    vma.setUint8(2 * PS, 1)
    assert.equal(fh.pageState(0), PageState.SPILLED)
  })

  test('markVolatile refuses spilled dirty pages like resident ones', (t) => {
    const { fh, vma } = setup(t, 2)
    for (let pg = 0; pg < 3; pg++) vma.setUint8(pg * PS, 1)
    assert.throws(() => fh.markVolatile(0, PS), { code: 'EBUSY', message: /pages 0 are dirty/ })
  })

  test('blocks larger than a page: writeout assembles them from resident, spilled and stored pages', (t) => {
    const file = new MemoryBigFile(4 * PS)
    file.blocks.set(0, new Uint8Array(4 * PS).fill(7))
    file.blocks.set(1, new Uint8Array(4 * PS).fill(7))
    const ram = new RAM({ pagesize: PS, capacity: 8 * PS, reserve: 4, spillDir: dir(t) })
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 8)
    for (const pg of [0, 2, 5, 6, 7]) vma.setUint8(pg * PS, 20 + pg)
    assert.deepEqual(fh.dirtyPages(), [0, 2, 5, 6, 7])
    assert.ok(fh.spilledPages().length >= 1)
    fh.writeout(STORE | MARKSTORED)
    const want = (pg: number) => ([0, 2, 5, 6, 7].includes(pg) ? 20 + pg : 7)
    for (let pg = 0; pg < 8; pg++) {
      const blk = file.blocks.get(Math.floor(pg / 4)) as Uint8Array
      assert.equal(blk[(pg % 4) * PS], want(pg), `page ${pg}`)
      assert.equal(blk[(pg % 4) * PS + 1], 7, `page ${pg}, byte 1`)
    }
    assert.equal(ram.stats().spilled, 0)
  })

  test('blocks smaller than a page: each block of a spilled page is stored from the bounce buffer', (t) => {
    const file = new RecordingFile(PS / 4)
    const { fh, vma } = setup(t, 2, {}, file)
    for (let pg = 0; pg < 4; pg++) vma.setUint8(pg * PS + PS / 2, 30 + pg)
    fh.writeout(STORE | MARKSTORED)
    assert.deepEqual(
      file.stores,
      Array.from({ length: 16 }, (_, i) => i),
    )
    for (let pg = 0; pg < 4; pg++) assert.equal(file.blocks.get(pg * 4 + 2)?.[0], 30 + pg)
  })

  test('async storage: a spilled page read back during the STORE is stored with its spilled bytes', async (t) => {
    const file = new MemoryBigFile(PS, { async: true })
    const ram = new RAM({ pagesize: PS, capacity: 6 * PS, spillDir: dir(t) })
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 8)
    for (let pg = 0; pg < 6; pg++) await vma.write(pg * PS, new Uint8Array([80 + pg]))
    await vma.read(6 * PS, 2 * PS) // clean pages for the readers below: the writeout pins the dirty ones
    assert.deepEqual(fh.spilledPages(), [0, 1, 2])
    const w = fh.writeout(STORE | MARKSTORED)
    // Meanwhile another reader faults in spilled pages (their slots are held until the store ends).
    // (One at a time: a read's frame address must not be kept across an await — issue 9's read gap.)
    assert.deepEqual([...(await vma.read(0, 1))], [80])
    assert.deepEqual([...(await vma.read(2 * PS, 1))], [82])
    await w
    for (let pg = 0; pg < 6; pg++) assert.equal(file.blocks.get(pg)?.[0], 80 + pg)
    assert.deepEqual(fh.dirtyPages(), [])
    assert.equal(ram.stats().spilled, 0)
  })

  test('close frees every slot; a closed RAM closes its spill file once it is empty', (t) => {
    const io = new FaultySpillIO()
    const { ram, fh, vma } = setup(t, 2, { spillIO: io })
    for (let pg = 0; pg < 5; pg++) vma.setUint8(pg * PS, 1)
    assert.equal(ram.stats().spilled, 3)
    ram.close()
    assert.equal(io.closes, 0, 'pages still live in it')
    vma.unmap()
    fh.close()
    assert.equal(ram.stats().spilled, 0)
    assert.equal(io.closes, 1)
  })
})
