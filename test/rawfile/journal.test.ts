// The redo journal: only a whole, intact journal is replayed; every proper prefix (a crash while it was
// written) and every single corrupted byte makes it invalid, so the raw file is left untouched.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { CorruptError, RAM } from '../../src/index.ts'
import { nodeIO, openRawFile, type RawIO } from '../../src/rawfile/index.ts'
import { scanJournal } from '../../src/rawfile/journal-replay.ts'
import { JournalWriter } from '../../src/rawfile/journal-writer.ts'
import { pattern, tempDir } from './fixtures/util.ts'

const PS = 4096

/** A RawIO over byte arrays in memory (fd = index), enough for writing and scanning journals. */
function memIO(): RawIO & { files: Uint8Array[] } {
  const files: Uint8Array[] = []
  const grow = (fd: number, end: number) => {
    if (files[fd].length < end) {
      const b = new Uint8Array(end)
      b.set(files[fd])
      files[fd] = b
    }
  }
  return {
    files,
    open: () => files.push(new Uint8Array(0)) - 1,
    close: () => {},
    size: (fd) => files[fd].length,
    read(fd, buf, pos) {
      const src = files[fd].subarray(pos, pos + buf.length)
      buf.set(src)
      return src.length
    },
    write(fd, bufs, pos) {
      for (const b of bufs) {
        grow(fd, pos + b.length)
        files[fd].set(b, pos)
        pos += b.length
      }
    },
    fsync: () => {},
    truncate: (fd, len) => {
      files[fd] = files[fd].slice(0, len)
    },
    unlink: () => {},
    fsyncDir: () => {},
  }
}

const DATA = 8 * PS
const RECORDS: [number, Uint8Array][] = [
  [PS, pattern(PS, 1)],
  [5 * PS + 7, pattern(100, 2)],
  [7 * PS, pattern(PS, 3)],
]

function journalBytes(dataSize = DATA, records = RECORDS): Uint8Array {
  const io = memIO()
  const fd = io.open('j', 'create')
  const w = new JournalWriter(io, fd)
  w.begin(dataSize)
  for (const [pos, data] of records) w.add(pos, data)
  w.finish()
  return io.files[fd]
}

function scan(bytes: Uint8Array) {
  const io = memIO()
  const fd = io.open('j', 'create')
  io.files[fd] = bytes
  return scanJournal(io, fd, bytes.length, 'j')
}

describe('journal format', () => {
  test('a whole journal scans valid, with its records', () => {
    const r = scan(journalBytes())
    assert.ok(r.valid)
    assert.equal(r.dataSize, DATA)
    assert.deepEqual(
      r.records.map((x) => [x.pos, x.len]),
      RECORDS.map(([p, d]) => [p, d.length]),
    )
  })

  test('every proper prefix is invalid (a crash while writing it)', () => {
    const j = journalBytes()
    for (let n = 0; n < j.length; n++) assert.equal(scan(j.subarray(0, n)).valid, false, `prefix ${n}`)
  })

  test('any single corrupted byte makes it invalid (or, in the version field, a CorruptError)', () => {
    const j = journalBytes()
    fc.assert(
      fc.property(fc.nat(j.length - 1), fc.integer({ min: 1, max: 255 }), (at, x) => {
        const b = j.slice()
        b[at] ^= x
        if (at >= 8 && at < 12) {
          assert.throws(() => scan(b), CorruptError)
          return
        }
        const r = scan(b)
        assert.equal(r.valid, false, `byte ${at} ^ ${x}: ${r.valid}`)
      }),
      { numRuns: 2000 },
    )
  })

  test('the trailer of one journal does not seal another (nonce)', () => {
    const a = journalBytes()
    const b = journalBytes()
    const mixed = a.slice()
    mixed.set(b.subarray(b.length - 56), a.length - 56)
    assert.equal(scan(mixed).valid, false)
  })

  test('records outside the declared file size are refused', () => {
    assert.equal(scan(journalBytes(PS, [[PS - 10, pattern(20, 5)]])).valid, false)
  })
})

describe('recovery on open', () => {
  function crashed(journal: Uint8Array) {
    const tmp = tempDir()
    const path = tmp.path('data.bin')
    const before = pattern(DATA, 9)
    writeFileSync(path, before)
    writeFileSync(`${path}.bigfile-journal`, journal)
    const after = before.slice()
    for (const [pos, data] of RECORDS) after.set(data, pos)
    return { tmp, path, before, after }
  }
  const ram = new RAM({ pagesize: PS, capacity: 10 * PS })
  const disk = (p: string) => new Uint8Array(readFileSync(p))

  for (const mode of ['rw', 'r'] as const) {
    test(`${mode}: a valid journal is replayed and emptied; a torn one is dropped`, () => {
      {
        const { tmp, path, after } = crashed(journalBytes())
        using _ = tmp
        const rf = openRawFile(path, { ram, mode })
        assert.equal(rf.recovery, 'replayed')
        assert.deepEqual(disk(path), after)
        assert.deepEqual(rf.mmap().readBytes(0, new Uint8Array(DATA)), after)
        rf[Symbol.dispose]()
        if (mode === 'r') assert.equal(readFileSync(`${path}.bigfile-journal`).length, 0)
      }
      {
        const j = journalBytes()
        const { tmp, path, before } = crashed(j.subarray(0, j.length - 1))
        using _ = tmp
        using rf = openRawFile(path, { ram, mode })
        assert.equal(rf.recovery, 'discarded')
        assert.deepEqual(disk(path), before)
      }
    })
  }

  test('garbage after a valid trailer does not stop the replay', () => {
    const j = journalBytes()
    const g = new Uint8Array(j.length + 30).fill(0xee)
    g.set(j)
    const { tmp, path, after } = crashed(g)
    using _ = tmp
    using rf = openRawFile(path, { ram, mode: 'rw' })
    assert.equal(rf.recovery, 'replayed')
    assert.deepEqual(disk(path), after)
  })

  test('a journal for a file of another size is CorruptError, and nothing is applied', () => {
    const { tmp, path, before } = crashed(journalBytes(DATA + PS))
    using _ = tmp
    assert.throws(
      () => openRawFile(path, { ram, mode: 'rw' }),
      (e: unknown) =>
        e instanceof CorruptError &&
        /written for a raw file of 36864 bytes, but the file has 32768/.test(e.message),
    )
    assert.deepEqual(disk(path), before)
    // The lock was released: the user can move the journal away and open.
    nodeIO.unlink(`${path}.bigfile-journal`)
    openRawFile(path, { ram, mode: 'rw' }).close()
  })

  test('a reader does not replay under a live writer (the journal is its commit in flight)', () => {
    const { tmp, path, before, after } = crashed(new Uint8Array(0))
    using _ = tmp
    using w = openRawFile(path, { ram, mode: 'rw' })
    writeFileSync(`${path}.bigfile-journal`, journalBytes())
    using r = openRawFile(path, { ram })
    assert.equal(r.recovery, 'none')
    assert.deepEqual(disk(path), before)
    assert.ok(after)
    assert.equal(w.recovery, 'none')
  })
})
