// Bad-input corpus, storage part: damaged databases and damaged raw-file journals, generated here from
// fixed seeds. Every case names the outcome it must give — a typed error code, or for a journal the
// recovery it must choose — and leaves nothing behind: no new file beside SQLite's own -wal/-shm pair of
// a database it could open, and the damaged input itself unchanged (a read-only open never writes).
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, test } from 'node:test'
import { openDatabase } from '../../src/db/index.ts'
import { nodeIO, openRawFile } from '../../src/rawfile/index.ts'
import { JournalWriter } from '../../src/rawfile/journal-writer.ts'
import { RAM } from '../../src/virtmem/ram.ts'
import { PS, ram, tmpDir } from '../db/helpers.ts'
import { rng } from '../helpers/rng.ts'

const SEED = 20261128
const BLKSIZE = 4096
const BLOCKS = 16

// ---------------------------------------------------------------- databases

interface DbCase {
  name: string
  /**
   * Makes the damaged file at `path` from the pristine database's bytes; its segment directory holds the
   * pristine segment already (`segment` is its path).
   */
  make(path: string, pristine: Buffer, segment: string): void
  /** The code the first failing step (open, list, read every block, check) must give. */
  code: string
}

function blockData(blk: number): Uint8Array {
  const r = rng(SEED + blk)
  const b = new Uint8Array(BLKSIZE)
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256)
  return b
}

async function makePristine(path: string): Promise<void> {
  const db = await openDatabase(path)
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('f', { create: { blksize: BLKSIZE, size: BLKSIZE * BLOCKS } })
  const v = f.mmap(0, (BLKSIZE * BLOCKS) / PS)
  for (let blk = 0; blk < BLOCKS; blk++) v.writeBytes(blk * BLKSIZE, blockData(blk))
  v.unmap()
  await conn.commit()
  await db.close()
}

/** Flips a bit at byte `at` of block `blk` in every copy of it in a segment (see test/db/integrity). */
function flipBlock(file: Buffer, blk: number, at: number, bit: number): boolean {
  const needle = blockData(blk).subarray(at, at + 32)
  let n = 0
  for (let p = file.indexOf(needle); p >= 0; p = file.indexOf(needle, p + 1), n++) file[p] ^= 1 << bit
  return n > 0
}

function withSql(path: string, pristine: Buffer, sql: string): void {
  writeFileSync(path, pristine)
  const d = new DatabaseSync(path)
  d.exec(sql)
  d.close()
}

function dbCases(): DbCase[] {
  const r = rng(SEED)
  const cases: DbCase[] = [
    { name: 'empty file', make: (p) => writeFileSync(p, ''), code: 'ECORRUPT' },
    { name: 'a directory', make: (p) => mkdirSync(p), code: 'ECORRUPT' },
    { name: 'text', make: (p) => writeFileSync(p, 'not a database\n'.repeat(50)), code: 'ECORRUPT' },
    {
      name: 'SQLite magic, then garbage',
      make: (p) => {
        const b = Buffer.alloc(4096)
        for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256)
        b.write('SQLite format 3\0', 0, 'latin1')
        writeFileSync(p, b)
      },
      code: 'ECORRUPT',
    },
    {
      name: 'another SQLite database',
      make: (p) => {
        const d = new DatabaseSync(p)
        d.exec('CREATE TABLE t (x)')
        d.close()
      },
      code: 'ECORRUPT',
    },
    {
      name: 'application_id changed',
      make: (p, b) => withSql(p, b, 'PRAGMA application_id = 7'),
      code: 'ECORRUPT',
    },
    { name: 'format version 1', make: (p, b) => withSql(p, b, 'PRAGMA user_version = 1'), code: 'EVERSION' },
    {
      name: 'format version 99',
      make: (p, b) => withSql(p, b, 'PRAGMA user_version = 99'),
      code: 'EVERSION',
    },
    {
      name: 'a record checksum changed',
      make: (p, b) => withSql(p, b, 'UPDATE file_versions SET sum = sum + 1'),
      code: 'ECORRUPT',
    },
    {
      name: 'a block tombstoned behind the checksum',
      make: (p, b) =>
        withSql(p, b, 'UPDATE blocks SET kind = 0, seg = NULL, off = NULL, len = NULL WHERE blk = 3'),
      code: 'ECORRUPT',
    },
    {
      name: 'a block pointed past its segment',
      make: (p, b) => withSql(p, b, 'UPDATE blocks SET off = off + 1000000 WHERE blk = 5'),
      code: 'ECORRUPT',
    },
    {
      name: 'the segment replaced by one of another database',
      make: (p, b, segment) => {
        writeFileSync(p, b)
        const d = Buffer.from(readFileSync(segment))
        d[40] ^= 1 // inside the database's uuid in the header
        writeFileSync(segment, d)
      },
      code: 'ECORRUPT',
    },
    {
      name: 'the segment directory replaced by a file',
      make: (p, b) => {
        writeFileSync(p, b)
        rmSync(`${p}-seg`, { recursive: true })
        writeFileSync(`${p}-seg`, 'x')
      },
      code: 'ECORRUPT',
    },
  ]
  for (let i = 0; i < 6; i++) {
    const pages = 1 + Math.floor(r() * 8)
    const extra = Math.floor(r() * 3) * 1000
    cases.push({
      name: `truncated to ${pages} pages${extra ? ` + ${extra} bytes` : ''}`,
      make: (p, b) => writeFileSync(p, b.subarray(0, Math.min(b.length - 4096, pages * 4096) + extra)),
      code: 'ECORRUPT',
    })
  }
  for (let i = 0; i < 12; i++) {
    const blk = Math.floor(r() * BLOCKS)
    const at = Math.floor(r() * (BLKSIZE - 32))
    const bit = Math.floor(r() * 8)
    cases.push({
      name: `bit ${bit} of byte ${at} of block ${blk} flipped`,
      make: (p, b, segment) => {
        writeFileSync(p, b)
        const d = Buffer.from(readFileSync(segment))
        assert.ok(flipBlock(d, blk, at, bit), 'the block bytes lie in the segment')
        writeFileSync(segment, d)
      },
      code: 'ECORRUPT',
    })
  }
  return cases
}

/** Open read-only, list, read every block, check: the first error's code (a load error: its cause's). */
async function outcome(path: string): Promise<string> {
  let db: Awaited<ReturnType<typeof openDatabase>> | undefined
  try {
    db = await openDatabase(path, { readOnly: true })
    await db.files()
    const conn = db.connect({ ram: ram() })
    const f = await conn.open('f')
    const v = f.mmap(0, (BLKSIZE * BLOCKS) / PS)
    try {
      const buf = new Uint8Array(BLKSIZE)
      for (let blk = 0; blk < BLOCKS; blk++) {
        v.readBytes(blk * BLKSIZE, buf)
        assert.deepEqual(buf, blockData(blk), `block ${blk}: wrong data without an error`)
      }
    } finally {
      v.unmap()
    }
    const r = await db.check()
    if (r.damage.length > 0) return `check:${r.damage[0].code}`
    return 'ok'
  } catch (e) {
    const err = e as { code?: string; cause?: { code?: string } }
    if (err.code === 'ELOAD' && err.cause?.code) return err.cause.code
    if (typeof err.code === 'string' && err.code !== 'ERR_ASSERTION') return err.code
    throw e
  } finally {
    await db?.close()
  }
}

describe('corpus: damaged databases', () => {
  test(`every case gives its typed error, and leaves nothing behind (seed ${SEED})`, async (t) => {
    const dir = tmpDir(t)
    const pristinePath = join(dir, 'pristine.db')
    await makePristine(pristinePath)
    const pristine = readFileSync(pristinePath)
    assert.equal(await outcome(pristinePath), 'ok')
    const cases = dbCases()
    t.diagnostic(`${cases.length} damaged databases`)
    for (const [i, c] of cases.entries()) {
      const cdir = join(dir, `case${i}`)
      mkdirSync(cdir)
      const path = join(cdir, 'd.db')
      cpSync(`${pristinePath}-seg`, `${path}-seg`, { recursive: true })
      c.make(path, pristine, join(`${path}-seg`, '00000001'))
      const before = readdirSync(cdir).sort()
      const bytes = before.includes('d.db') && !c.name.includes('directory') ? readFileSync(path) : undefined
      const got = await outcome(path)
      // A flipped block is found by the read (ECORRUPT); `check:ECORRUPT` would mean the read missed it.
      assert.equal(got, c.code, `case ${i} (${c.name})`)
      const after = readdirSync(cdir)
        .filter((f) => f !== 'd.db-wal' && f !== 'd.db-shm')
        .sort()
      assert.deepEqual(after, before, `case ${i} (${c.name}) left a file behind`)
      if (bytes) assert.deepEqual(readFileSync(path), bytes, `case ${i} (${c.name}) wrote the database`)
    }
  })
})

// ---------------------------------------------------------------- raw-file journals

const RPS = 4096
const DATA = 8 * RPS

interface JournalCase {
  name: string
  /** Writes the journal file (or whatever stands at its name). */
  make(jpath: string, valid: Buffer): void
  /** 'replayed' / 'discarded' (the recovery it must choose), or an error code. */
  want: string
}

function dataBytes(seed: number): Buffer {
  const r = rng(seed)
  const b = Buffer.alloc(DATA)
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256)
  return b
}

/** A sealed journal that writes blocks 1 and 5 of a DATA-byte raw file (from a crash after its commit point). */
function validJournal(dir: string, dataSize = DATA): Buffer {
  const jpath = join(dir, 'j.tmp')
  const fd = nodeIO.open(jpath, 'create', { mode: 0o600 })
  const w = new JournalWriter(nodeIO, fd)
  w.begin(dataSize)
  const fresh = dataBytes(SEED + 1)
  w.add(1 * RPS, fresh.subarray(1 * RPS, 2 * RPS))
  w.add(5 * RPS, fresh.subarray(5 * RPS, 6 * RPS))
  w.finish()
  nodeIO.close(fd)
  const b = readFileSync(jpath)
  rmSync(jpath)
  return b
}

function journalCases(dir: string): JournalCase[] {
  const r = rng(SEED + 7)
  const cases: JournalCase[] = [
    { name: 'intact', make: (j, v) => writeFileSync(j, v), want: 'replayed' },
    { name: 'empty', make: (j) => writeFileSync(j, ''), want: 'none' },
    {
      name: 'written for a file of another size',
      make: (j) => writeFileSync(j, validJournal(dir, DATA + RPS)),
      want: 'ECORRUPT',
    },
    { name: 'a directory', make: (j) => mkdirSync(j), want: 'ECORRUPT' },
    {
      name: 'garbage',
      make: (j) => {
        const b = Buffer.alloc(3000)
        for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256)
        writeFileSync(j, b)
      },
      want: 'discarded',
    },
  ]
  for (let i = 0; i < 8; i++) {
    const cut = Math.floor(r() * 2 * RPS)
    cases.push({
      name: `cut at ${cut} bytes`,
      make: (j, v) => writeFileSync(j, v.subarray(0, cut)),
      want: 'discarded',
    })
  }
  for (let i = 0; i < 16; i++) {
    const frac = r()
    const bit = Math.floor(r() * 8)
    cases.push({
      name: `bit ${bit} flipped at ${(frac * 100).toFixed(1)}% of it`,
      make: (j, v) => {
        const d = Buffer.from(v)
        d[Math.floor(frac * d.length)] ^= 1 << bit
        writeFileSync(j, d)
      },
      want: 'discarded',
    })
  }
  return cases
}

describe('corpus: damaged raw-file journals', () => {
  test(`a damaged journal is discarded whole or refused, never half-applied (seed ${SEED})`, (t) => {
    const dir = tmpDir(t)
    const valid = validJournal(dir)
    const old = dataBytes(SEED)
    const fresh = Buffer.from(old)
    dataBytes(SEED + 1).copy(fresh, 1 * RPS, 1 * RPS, 2 * RPS)
    dataBytes(SEED + 1).copy(fresh, 5 * RPS, 5 * RPS, 6 * RPS)
    const cases = journalCases(dir)
    t.diagnostic(`${cases.length} damaged journals`)
    for (const [i, c] of cases.entries()) {
      const cdir = join(dir, `j${i}`)
      mkdirSync(cdir)
      const path = join(cdir, 'data.bin')
      writeFileSync(path, old)
      const jpath = `${path}.bigfile-journal`
      c.make(jpath, valid)
      let got: string
      try {
        const f = openRawFile(path, { ram: new RAM({ pagesize: RPS, capacity: 18 * RPS }), mode: 'rw' })
        got = f.recovery
        f.close()
      } catch (e) {
        got = (e as { code?: string }).code ?? String(e)
      }
      assert.equal(got, c.want, `case ${i} (${c.name})`)
      const data = readFileSync(path)
      if (got === 'replayed') assert.deepEqual(data, fresh, `case ${i}: replayed whole`)
      else assert.deepEqual(data, old, `case ${i} (${c.name}): the data file was touched`)
      // Nothing left behind: a successful open removes its journal at close; a refused one leaves the
      // damaged input as it was (only the lock file, which always stays, may be new).
      const left = readdirSync(cdir).sort()
      const expect = got.startsWith('E') ? ['data.bin', 'data.bin.bigfile-journal'] : ['data.bin']
      assert.deepEqual(
        left.filter((x) => x !== 'data.bin.bigfile-lock'),
        expect,
        `case ${i} (${c.name})`,
      )
    }
  })
})
