// Data integrity below SQLite's own checks: every block and file record carries a checksum verified on
// every load. A single bit flipped inside block data (in a segment file, `<db>-seg/`) or an index row
// changed behind the checksum must give ECORRUPT — from a read, and from `bigfile check` — never data
// that matches no committed state.
import assert from 'node:assert/strict'
import { copyFileSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { test } from 'node:test'
import { openDatabase } from '../../src/db/index.ts'
import { rng } from '../helpers/rng.ts'
import { PS, ram, tmpDir } from './helpers.ts'

const BLKSIZE = 4096
const BLOCKS = 16
const FLIPS = 40
const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts')

/** Block contents: seeded random bytes, so any 32 of them in a row occur once in the file. */
function blockData(blk: number): Uint8Array {
  const r = rng(1000 + blk)
  const b = new Uint8Array(BLKSIZE)
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256)
  return b
}

async function makeDb(path: string): Promise<void> {
  const db = await openDatabase(path)
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('f', {
    create: { blksize: BLKSIZE, size: BLKSIZE * BLOCKS, meta: { note: 'RECORD-MARKER-0123456789' } },
  })
  const v = f.mmap(0, (BLKSIZE * BLOCKS) / PS)
  for (let blk = 0; blk < BLOCKS; blk++) v.writeBytes(blk * BLKSIZE, blockData(blk))
  v.unmap()
  await conn.commit()
  await db.close() // the last connection checkpoints the WAL into the main file
}

/** The one segment file of a database made by makeDb. */
const seg = (path: string) => join(`${path}-seg`, '00000001')

/** A copy of the database at `from` (file and segment directory) at `to`, its segment replaced by `bytes`. */
function copyDb(from: string, to: string, bytes?: Buffer): void {
  copyFileSync(from, to)
  cpSync(`${from}-seg`, `${to}-seg`, { recursive: true })
  if (bytes) writeFileSync(seg(to), bytes)
}

/**
 * Flips bit `bit` of byte `at` of block `blk` in a segment's bytes; false if those bytes are not there.
 * Every copy is flipped (a segment holds each version once; a rewritten block twice).
 */
function flip(file: Buffer, blk: number, at: number, bit: number): boolean {
  const needle = blockData(blk).subarray(at, at + 32)
  let n = 0
  for (let pos = file.indexOf(needle); pos >= 0; pos = file.indexOf(needle, pos + 1), n++) {
    file[pos] ^= 1 << bit
  }
  return n > 0
}

/** Reads every block of 'f' through the VM; returns the first error. */
async function readAll(path: string): Promise<unknown> {
  const db = await openDatabase(path, { readOnly: true })
  try {
    const conn = db.connect({ ram: ram() })
    const f = await conn.open('f')
    const v = f.mmap(0, (BLKSIZE * BLOCKS) / PS)
    const buf = new Uint8Array(BLKSIZE)
    for (let blk = 0; blk < BLOCKS; blk++) {
      v.readBytes(blk * BLKSIZE, buf)
      assert.deepEqual(buf, blockData(blk), `block ${blk} read back wrong data without an error`)
    }
    v.unmap()
    return undefined
  } catch (e) {
    return e
  } finally {
    await db.close()
  }
}

test(`${FLIPS} random single-bit flips in block data: every one is ECORRUPT naming file, block and tid`, async (t) => {
  const dir = tmpDir(t)
  const pristine = join(dir, 'pristine.bigfile')
  await makeDb(pristine)
  const original = readFileSync(seg(pristine))
  assert.equal(await readAll(pristine), undefined, 'the undamaged database reads back')
  const r = rng(11)
  const path = join(dir, 'damaged.bigfile')
  let flips = 0
  while (flips < FLIPS) {
    const blk = Math.floor(r() * BLOCKS)
    const at = Math.floor(r() * (BLKSIZE - 32))
    const bit = Math.floor(r() * 8)
    const damaged = Buffer.from(original)
    assert.ok(flip(damaged, blk, at, bit), 'the block lies in the segment whole')
    copyDb(pristine, path, damaged)
    flips++
    const e = (await readAll(path)) as {
      code?: string
      cause?: { code?: string; blk?: number; tid?: number }
    }
    assert.ok(e, `flip ${flips} (block ${blk}, byte ${at}, bit ${bit}) read without an error`)
    // Through the VM the load error wraps the storage's: ELOAD, cause ECORRUPT with block and tid.
    assert.equal(e.code, 'ELOAD')
    assert.equal(e.cause?.code, 'ECORRUPT')
    assert.equal(e.cause?.blk, blk)
    assert.equal(e.cause?.tid, 1)
    assert.match(String((e.cause as Error).message), new RegExp(`block ${blk} of file "f" \\(#1\\) at tid 1`))
  }
  assert.equal(flips, FLIPS)
})

test('bigfile check: exit 0 on an intact database, 1 naming the block on a damaged one', async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'c.bigfile')
  await makeDb(path)
  const { spawnSync } = await import('node:child_process')
  const run = (p: string) => spawnSync(process.execPath, [MAIN, 'check', p], { encoding: 'utf8' })
  const ok = run(path)
  assert.equal(ok.status, 0, ok.stderr)
  assert.match(ok.stdout, new RegExp(`checked ${BLOCKS} block versions`))
  const original = readFileSync(seg(path))
  const r = rng(12)
  for (let i = 0; i < 4; i++) {
    const blk = Math.floor(r() * BLOCKS)
    const damaged = Buffer.from(original)
    assert.ok(flip(damaged, blk, 100 + i, i))
    const p = join(dir, `d${i}.bigfile`)
    copyDb(path, p, damaged)
    const bad = run(p)
    assert.equal(bad.status, 1, `${bad.stdout}${bad.stderr}`)
    assert.match(bad.stderr, new RegExp(`block ${blk} of file "f" \\(#1\\) at tid 1 fails its checksum`))
    assert.match(bad.stderr, /1 damaged block/)
  }
})

test('Database.check: every damaged version is found, progress reaches the total', async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'v.bigfile')
  await makeDb(path)
  const damaged = Buffer.from(readFileSync(seg(path)))
  for (const blk of [3, 9]) assert.ok(flip(damaged, blk, 7, 4))
  writeFileSync(seg(path), damaged)
  const db = await openDatabase(path, { readOnly: true })
  t.after(() => db.close())
  const seen: number[] = []
  const r = await db.check({ onProgress: (p) => seen.push(p.bytes) })
  assert.equal(r.blocks, BLOCKS)
  assert.equal(r.records, 1)
  assert.equal(r.bytes, BLOCKS * BLKSIZE)
  assert.deepEqual(
    r.damage.map((d) => [d.code, d.blk, d.tid]),
    [
      ['ECORRUPT', 3, 1],
      ['ECORRUPT', 9, 1],
    ],
  )
  assert.equal(seen.at(-1), BLOCKS * BLKSIZE)
})

test('a flipped bit in a file record is ECORRUPT on open, not a wrong name or meta', async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'r.bigfile')
  await makeDb(path)
  const bytes = Buffer.from(readFileSync(path))
  let n = 0
  for (let pos = bytes.indexOf('RECORD-MARKER'); pos >= 0; pos = bytes.indexOf('RECORD-MARKER', pos + 1), n++)
    bytes[pos + 5] ^= 0x01
  assert.ok(n > 0)
  writeFileSync(path, bytes)
  const db = await openDatabase(path, { readOnly: true })
  t.after(() => db.close())
  await assert.rejects(db.files(), { code: 'ECORRUPT', message: /the record of file #1 at tid 1/ })
  await assert.rejects(db.stat('f'), { code: 'ECORRUPT' })
  const r = await db.check()
  assert.deepEqual(
    r.damage.map((d) => [d.blk, d.tid]),
    [[undefined, 1]],
  )
})

test('a block moved to another key fails its checksum (the key is part of the sum)', async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'k.bigfile')
  await makeDb(path)
  const raw = new DatabaseSync(path)
  raw.exec(
    'UPDATE blocks SET (seg, off, len) = (SELECT seg, off, len FROM blocks WHERE blk = 2) WHERE blk = 5',
  )
  raw.close()
  const e = (await readAll(path)) as { cause?: { code?: string; blk?: number } }
  assert.equal(e.cause?.code, 'ECORRUPT')
  assert.equal(e.cause?.blk, 5)
})

test('a database of another format version is a typed EVERSION error', async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'old.bigfile')
  await makeDb(path)
  for (const v of [1, 2, 4]) {
    const raw = new DatabaseSync(path)
    raw.exec(`PRAGMA user_version = ${v}`)
    raw.close()
    const copy = join(dir, `v${v}.bigfile`)
    copyDb(path, copy)
    for (const readOnly of [false, true]) {
      await assert.rejects(openDatabase(copy, { readOnly }), (e: { code?: string; found?: number }) => {
        assert.equal(e.code, 'EVERSION')
        assert.equal(e.found, v)
        return true
      })
    }
  }
})

test('a segment cut short, a kind this version does not know, a missing segment directory: ECORRUPT', async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 's.bigfile')
  await makeDb(path)
  // Cut inside block 9 (images lie in block order after the 4096-byte header).
  const cut = join(dir, 'cut.bigfile')
  copyDb(path, cut, readFileSync(seg(path)).subarray(0, 4096 + 9 * BLKSIZE + 100))
  const e = (await readAll(cut)) as { cause?: { code?: string; blk?: number; tid?: number } }
  assert.equal(e.cause?.code, 'ECORRUPT')
  assert.equal(e.cause?.blk, 9)
  assert.equal(e.cause?.tid, 1)
  const db = await openDatabase(cut, { readOnly: true })
  const r = await db.check()
  await db.close()
  assert.deepEqual(
    r.damage.map((d) => d.blk),
    [9, 10, 11, 12, 13, 14, 15],
  )
  // An index row of a kind reserved for later formats is refused, never read as data.
  const kind = join(dir, 'kind.bigfile')
  copyDb(path, kind)
  const raw = new DatabaseSync(kind)
  raw.exec('UPDATE blocks SET kind = 3 WHERE blk = 4')
  raw.close()
  const k = (await readAll(kind)) as { cause?: { code?: string; message?: string } }
  assert.equal(k.cause?.code, 'ECORRUPT')
  assert.match(String(k.cause?.message), /block 4 of file #1 at tid 1 is stored as kind 3/)
  // An image relabelled as a piece record: read as one, it fails (malformed, or the block's sum).
  const relabel = join(dir, 'relabel.bigfile')
  copyDb(path, relabel)
  const raw2 = new DatabaseSync(relabel)
  raw2.exec('UPDATE blocks SET kind = 2 WHERE blk = 6')
  raw2.close()
  const p = (await readAll(relabel)) as { cause?: { code?: string } }
  assert.equal(p.cause?.code, 'ECORRUPT')
  // The database copied without its segment directory: refused at open, saying what is missing.
  const alone = join(dir, 'alone.bigfile')
  copyFileSync(path, alone)
  for (const readOnly of [false, true]) {
    await assert.rejects(openDatabase(alone, { readOnly }), {
      code: 'ECORRUPT',
      message: /alone\.bigfile-seg is missing/,
    })
  }
})

test('a database written by format 2 (test/corpus/format2.sqlite, block BLOBs in SQLite) is EVERSION, untouched', async (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'format2.bigfile')
  copyFileSync(join(import.meta.dirname, '..', 'corpus', 'format2.sqlite'), path)
  const bytes = readFileSync(path)
  for (const readOnly of [true, false]) {
    await assert.rejects(
      openDatabase(path, { readOnly }),
      (e: { code?: string; found?: number; expected?: number; message?: string }) => {
        assert.equal(e.code, 'EVERSION')
        assert.equal(e.found, 2)
        assert.equal(e.expected, 3)
        assert.match(String(e.message), /format version 2; this bigfile reads version 3 only/)
        return true
      },
    )
  }
  assert.deepEqual(readFileSync(path), bytes, 'the old file is not converted or written')
  assert.ok(!existsSync(`${path}-seg`), 'no segment directory')
})
