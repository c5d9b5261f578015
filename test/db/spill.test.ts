// Transactions bigger than the RAM budget: dirty pages spill, commit streams them, abort drops them.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { openDatabase } from '../../src/db/index.ts'
import { openRawFile } from '../../src/rawfile/index.ts'
import { RAM } from '../../src/virtmem/ram.ts'
import { rng } from '../helpers/rng.ts'
import { tmpDir } from './helpers.ts'

const PS = 64 << 10
const FRAMES = 16 // a 1 MiB budget (+ 2 reserve frames)
const PAGES = 16 * FRAMES // a 16 MiB file: the transaction is 16× the budget

function newRam(spillDir: string): RAM {
  return new RAM({ pagesize: PS, capacity: (FRAMES + 2) * PS, spillDir })
}

/** The value generation `gen` gives word `w` (a float64 index) of page `pg`. */
const value = (gen: number, pg: number, w: number) => gen * 1e6 + pg * 1000 + (w % 997)

/** Writes generation `gen` to every page, then `scatter` random words (gen + 0.5) on top; returns them. */
function writeGeneration(
  vma: { writeBytes(off: number, b: Uint8Array): void; setFloat64(off: number, v: number): void },
  gen: number,
  scatter: number,
  seed: number,
): Map<number, number> {
  const page = new Float64Array(PS / 8)
  for (let pg = 0; pg < PAGES; pg++) {
    for (let w = 0; w < page.length; w++) page[w] = value(gen, pg, w)
    vma.writeBytes(pg * PS, new Uint8Array(page.buffer))
  }
  const r = rng(seed)
  const changed = new Map<number, number>()
  for (let i = 0; i < scatter; i++) {
    const word = Math.floor(r() * PAGES * (PS / 8))
    changed.set(word, gen + 0.5 + i)
    vma.setFloat64(word * 8, gen + 0.5 + i)
  }
  return changed
}

function check(
  vma: { getFloat64(off: number): number },
  gen: number,
  changed: Map<number, number>,
  what: string,
): void {
  for (let pg = 0; pg < PAGES; pg++) {
    for (const w of [0, 1, 4095, PS / 8 - 1]) {
      const word = pg * (PS / 8) + w
      assert.equal(
        vma.getFloat64(word * 8),
        changed.get(word) ?? value(gen, pg, w),
        `${what}: page ${pg} word ${w}`,
      )
    }
  }
  for (const [word, v] of changed) assert.equal(vma.getFloat64(word * 8), v, `${what}: word ${word}`)
}

/** A new database with file 'data' of PAGES pages, mapped whole, over a RAM spilling into the test's dir. */
async function openData(t: Parameters<typeof tmpDir>[0]) {
  const dir = tmpDir(t)
  const path = join(dir, 'x.bigfile')
  const ram = newRam(dir)
  const db = await openDatabase(path)
  const conn = db.connect({ ram })
  const f = await conn.open('data', { create: { blksize: PS, size: PAGES * PS } })
  return { dir, path, ram, db, conn, f, vma: f.mmap(0, PAGES) }
}

/** Reopens the database in a fresh RAM and checks generation `gen` with `changed` on top. */
async function checkReopened(path: string, dir: string, gen: number, changed: Map<number, number>) {
  const db = await openDatabase(path)
  const g = await db.connect({ ram: newRam(dir) }).open('data')
  const vma = g.mmap(0, PAGES)
  check(vma, gen, changed, 'reopened')
  vma.unmap()
  await db.close()
}

test('SQLite: a transaction 16× the budget (fill, scattered writes) commits whole; reopened, every page is right', async (t) => {
  const { dir, path, ram, db, conn, f, vma } = await openData(t)
  const changed = writeGeneration(vma, 1, 2000, 7)
  const s = ram.stats()
  assert.ok(s.spilled >= PAGES - FRAMES, `most pages are in the spill (${s.spilled})`)
  assert.ok(s.used <= FRAMES)
  assert.deepEqual(f.fileh.dirtyPages().length, PAGES)
  await conn.commit()
  assert.equal(ram.stats().spilled, 0, 'commit frees every slot')
  assert.equal(f.fileh.isDirty(), false)
  assert.ok(ram.counters.spills > 0 && ram.counters.spillReads > 0)
  check(vma, 1, changed, 'after commit')
  vma.unmap()
  await db.close()
  await checkReopened(path, dir, 1, changed)
})

test('SQLite: the same transaction aborted leaves the old data, in this process and after reopening', async (t) => {
  const { dir, path, ram, db, conn, vma } = await openData(t)
  const old = writeGeneration(vma, 1, 100, 1)
  await conn.commit()
  writeGeneration(vma, 2, 2000, 2)
  assert.ok(ram.stats().spilled > 0)
  await conn.abort()
  assert.equal(ram.stats().spilled, 0, 'abort frees every slot')
  check(vma, 1, old, 'after abort')
  vma.unmap()
  await db.close()
  await checkReopened(path, dir, 1, old)
})

test('raw file: a commit 16× the budget streams the spilled pages through its journal, synchronously', (t) => {
  const dir = tmpDir(t)
  const path = join(dir, 'data.raw')
  writeFileSync(path, new Uint8Array(PAGES * PS))
  const ram = newRam(dir)
  {
    using raw = openRawFile(path, { ram, mode: 'rw' })
    const vma = raw.fileh.mmap(0, PAGES)
    const changed = writeGeneration(vma, 3, 500, 3)
    assert.ok(ram.stats().spilled > 0)
    raw.commit()
    assert.equal(ram.stats().spilled, 0)
    check(vma, 3, changed, 'after commit')
    vma.unmap()
  }
  using raw = openRawFile(path, { ram: newRam(dir) })
  const vma = raw.fileh.mmap(0, PAGES)
  for (let pg = 0; pg < PAGES; pg += 17) assert.equal(vma.getFloat64(pg * PS + 8), value(3, pg, 1))
  vma.unmap()
})
