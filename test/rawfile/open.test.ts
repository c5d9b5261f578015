// Opening raw files: bad input is a typed error with a clear message, read-only mode refuses commits,
// a header offset and a partial last block map the right bytes, and only one writer holds the lock.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  BusyError,
  ClosedError,
  InvalidArgumentError,
  LockedError,
  NotFoundError,
  OutOfRangeError,
  RAM,
  StoreError,
  WriteoutFlags,
} from '../../src/index.ts'
import { openRawFile, ReadOnlyError } from '../../src/rawfile/index.ts'
import { pattern, tempDir } from './fixtures/util.ts'

const PS = 4096
const newRam = (frames = 16) => new RAM({ pagesize: PS, capacity: (frames + 2) * PS })

function fileOf(bytes: Uint8Array) {
  const tmp = tempDir()
  const path = tmp.path('data.bin')
  writeFileSync(path, bytes)
  return { tmp, path }
}

describe('bad input', () => {
  test('a missing raw file is NotFoundError naming it', () => {
    using tmp = tempDir()
    const path = tmp.path('nope.bin')
    for (const mode of ['r', 'rw'] as const) {
      assert.throws(
        () => openRawFile(path, { ram: newRam(), mode }),
        (e: unknown) => {
          assert.ok(e instanceof NotFoundError)
          assert.equal(e.code, 'ENOENT')
          assert.match(e.message, /nope\.bin/)
          return true
        },
      )
    }
  })

  test('a size that is not a multiple of blksize is refused unless partialLastBlock', () => {
    const { tmp, path } = fileOf(new Uint8Array(3 * PS + 100))
    using _ = tmp
    assert.throws(
      () => openRawFile(path, { ram: newRam() }),
      (e: unknown) =>
        e instanceof InvalidArgumentError &&
        /12388 bytes after offset 0 is not a multiple of blksize 4096 \(100 bytes over\)/.test(e.message) &&
        /partialLastBlock: true/.test(e.message),
    )
    // With a header offset that makes it whole, it opens.
    const rf = openRawFile(path, { ram: newRam(), offset: 100 })
    assert.equal(rf.nblocks, 3)
    rf.close()
  })

  test('sizes and offsets must be non-negative integers', () => {
    const { tmp, path } = fileOf(new Uint8Array(4 * PS))
    using _ = tmp
    const ram = newRam()
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ offset: -1 }, /offset must be a non-negative integer number of bytes, got -1/],
      [{ offset: 1.5 }, /offset must be a non-negative integer.*got 1\.5/],
      [{ offset: Number.NaN }, /offset must be .*got NaN/],
      [{ offset: '16' }, /offset must be .*got 16/],
      [{ length: -4096 }, /length must be a non-negative integer number of bytes, got -4096/],
      [{ length: 4096.5 }, /length must be .*got 4096\.5/],
      [{ length: Number.POSITIVE_INFINITY }, /length must be .*got Infinity/],
      [{ blksize: 0 }, /blksize must be a positive integer number of bytes, got 0/],
      [{ blksize: -4096 }, /blksize must be a positive integer.*got -4096/],
      [{ blksize: 1000.5 }, /blksize must be a positive integer.*got 1000\.5/],
      [{ blksize: 3000 }, /blksize 3000 and pagesize 4096 must divide one another/],
      [{ blksize: 4 * PS }, /bounce buffer/],
      [{ mode: 'w' }, /mode must be 'r' or 'rw', got "w"/],
      [{ partialLastBlock: 'yes' }, /partialLastBlock must be a boolean/],
      [{ offset: 5 * PS }, /offset 20480 lies past the end of .*data\.bin \(16384 bytes\)/],
      [
        { offset: 4096, length: 4 * PS },
        /offset 4096 \+ length 16384 = 20480 exceeds the size of .*a raw file never grows/,
      ],
    ]
    for (const [extra, re] of cases) {
      for (const mode of ['r', 'rw'] as const) {
        assert.throws(
          () => openRawFile(path, { ram, mode, ...extra }),
          (e: unknown) => e instanceof InvalidArgumentError && e.code === 'EINVAL' && re.test(e.message),
          `${JSON.stringify(extra)} ${mode}`,
        )
      }
    }
    assert.throws(() => openRawFile('', { ram }), InvalidArgumentError)
    assert.throws(() => openRawFile(path, undefined as never), InvalidArgumentError)
    assert.throws(() => openRawFile(path, {} as never), /options\.ram must be a RAM/)
    // A refused rw open leaves no lock behind.
    openRawFile(path, { ram, mode: 'rw' }).close()
  })

  test('a directory is EINVAL (not a regular file), in either mode', () => {
    using tmp = tempDir()
    for (const mode of ['r', 'rw'] as const) {
      assert.throws(
        () => openRawFile(tmp.dir, { ram: newRam(), mode, length: PS }),
        (e: unknown) =>
          e instanceof Error &&
          'code' in e &&
          e.code === 'EINVAL' &&
          /a directory, not a regular file/.test(e.message),
      )
    }
  })
})

describe('mapping', () => {
  test('a header offset and a length map exactly those bytes', () => {
    const bytes = pattern(64 + 4 * PS + 50, 1)
    const { tmp, path } = fileOf(bytes)
    using _ = tmp
    using rf = openRawFile(path, { ram: newRam(), offset: 64, length: 3 * PS, blksize: 1024 })
    assert.equal(rf.nblocks, 12)
    assert.equal(rf.pages, 3)
    const vma = rf.mmap()
    assert.deepEqual(vma.readBytes(0, new Uint8Array(3 * PS)), bytes.subarray(64, 64 + 3 * PS))
  })

  test('partialLastBlock: the tail reads as zeros, writes inside commit, past the end are refused', () => {
    const bytes = pattern(2 * PS + 100, 2)
    const { tmp, path } = fileOf(bytes)
    using _ = tmp
    const rf = openRawFile(path, { ram: newRam(), mode: 'rw', partialLastBlock: true })
    assert.equal(rf.nblocks, 3)
    const vma = rf.mmap()
    const last = vma.readBytes(2 * PS, new Uint8Array(PS))
    assert.deepEqual(last.subarray(0, 100), bytes.subarray(2 * PS))
    assert.ok(last.subarray(100).every((b) => b === 0))
    vma.setUint8(2 * PS + 99, 0xab)
    rf.commit()
    assert.equal(readFileSync(path).length, 2 * PS + 100)
    assert.equal(readFileSync(path)[2 * PS + 99], 0xab)
    vma.setUint8(2 * PS + 100, 1)
    assert.throws(
      () => rf.commit(),
      (e: unknown) =>
        e instanceof OutOfRangeError &&
        /past the end of the mapped 8292 bytes; a raw file never grows/.test(e.message),
    )
    rf.abort()
    assert.equal(vma.getUint8(2 * PS + 100), 0)
    assert.equal(vma.getUint8(2 * PS + 99), 0xab)
    assert.equal(readFileSync(path).length, 2 * PS + 100)
    vma.unmap()
    rf.close()
  })

  test('commit writes in place; abort drops; a new open sees the commit; close refuses live mappings', () => {
    const bytes = pattern(8 * PS, 3)
    const { tmp, path } = fileOf(bytes)
    using _ = tmp
    const ram = newRam(4)
    const rf = openRawFile(path, { ram, mode: 'rw' })
    const vma = rf.mmap()
    vma.setFloat64(PS + 8, 42.5)
    vma.setFloat64(7 * PS, -1)
    rf.commit()
    assert.deepEqual(rf.fileh.dirtyPages(), [])
    vma.setFloat64(3 * PS, 7)
    rf.abort()
    assert.equal(vma.getFloat64(3 * PS), new DataView(bytes.buffer).getFloat64(3 * PS, true))
    assert.throws(() => rf.close(), BusyError)
    vma.unmap()
    rf.close()
    assert.throws(() => rf.mmap(), ClosedError)
    assert.throws(() => rf.commit(), ClosedError)
    assert.equal(ram.stats().used, 0)
    const expect = bytes.slice()
    new DataView(expect.buffer).setFloat64(PS + 8, 42.5, true)
    new DataView(expect.buffer).setFloat64(7 * PS, -1, true)
    assert.deepEqual(new Uint8Array(readFileSync(path)), expect)
    using r = openRawFile(path, { ram })
    assert.equal(r.mmap().getFloat64(PS + 8), 42.5)
  })

  test('a bare writeout is refused: blocks reach the file only through commit', () => {
    const { tmp, path } = fileOf(new Uint8Array(2 * PS))
    using _ = tmp
    using rf = openRawFile(path, { ram: newRam(), mode: 'rw' })
    rf.mmap().setUint8(0, 1)
    assert.throws(() => rf.fileh.writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED), StoreError)
    assert.equal(readFileSync(path)[0], 0)
    rf.commit()
    assert.equal(readFileSync(path)[0], 1)
  })
})

describe('read-only mode', () => {
  test('commit refuses with ReadOnlyError, the pages stay dirty, abort discards them, the file is untouched', () => {
    const bytes = pattern(4 * PS, 4)
    const { tmp, path } = fileOf(bytes)
    using _ = tmp
    const ram = newRam()
    using rf = openRawFile(path, { ram })
    assert.equal(rf.mode, 'r')
    const vma = rf.mmap()
    rf.commit() // nothing dirty: a no-op, also read-only
    vma.setUint32(PS, 0x01020304)
    assert.throws(
      () => rf.commit(),
      (e: unknown) =>
        e instanceof ReadOnlyError &&
        e.code === 'EROFS' &&
        /read-only \('r'\); abort\(\) discards/.test(e.message),
    )
    assert.deepEqual(rf.fileh.dirtyPages(), [1])
    // A bare writeout cannot reach the file either.
    assert.throws(
      () => rf.fileh.writeout(WriteoutFlags.STORE),
      (e: unknown) => e instanceof StoreError && e.cause instanceof ReadOnlyError,
    )
    rf.abort()
    assert.deepEqual(rf.fileh.dirtyPages(), [])
    assert.equal(vma.getUint32(PS), new DataView(bytes.buffer).getUint32(PS, true))
    assert.deepEqual(new Uint8Array(readFileSync(path)), bytes)
  })

  test('readers take no lock: several readers and one writer coexist', () => {
    const { tmp, path } = fileOf(new Uint8Array(2 * PS))
    using _ = tmp
    const ram = newRam()
    using r1 = openRawFile(path, { ram })
    using w = openRawFile(path, { ram, mode: 'rw' })
    using r2 = openRawFile(path, { ram })
    w.mmap().setUint8(10, 9)
    w.commit()
    assert.equal(r2.mmap().getUint8(10), 9)
    assert.equal(r1.recovery, 'none')
  })
})

describe('writer lock', () => {
  test('a second writer in the same process gets LockedError, also through a symlink; close releases it', () => {
    const { tmp, path } = fileOf(new Uint8Array(2 * PS))
    using _ = tmp
    const link = tmp.path('link.bin')
    symlinkSync(path, link)
    const ram = newRam()
    const w = openRawFile(path, { ram, mode: 'rw' })
    for (const p of [path, link]) {
      assert.throws(
        () => openRawFile(p, { ram, mode: 'rw' }),
        (e: unknown) =>
          e instanceof LockedError && e.code === 'ELOCKED' && /already open for writing/.test(e.message),
      )
    }
    w.close()
    openRawFile(link, { ram, mode: 'rw' }).close()
  })

  test('a writer in another process holds the lock until it is killed (SIGKILL releases it)', async () => {
    const { tmp, path } = fileOf(new Uint8Array(2 * PS))
    using _ = tmp
    const child = spawn(
      process.execPath,
      [fileURLToPath(new URL('./fixtures/lock-child.ts', import.meta.url)), path],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    const exited = new Promise((resolve) => child.on('exit', resolve))
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => (d.toString().includes('locked') ? resolve() : undefined))
        child.on('exit', () => reject(new Error('lock child exited early')))
      })
      const ram = newRam()
      assert.throws(() => openRawFile(path, { ram, mode: 'rw' }), LockedError)
      openRawFile(path, { ram }).close() // a reader is fine
      child.kill('SIGKILL')
      await exited
      openRawFile(path, { ram, mode: 'rw' }).close()
    } finally {
      child.kill('SIGKILL')
    }
  })
})
