// Space on disk: `stats` counts the block segments (their bytes, the bytes of stored versions, dead
// bytes) and SQLite's free pages; `pack` returns the segments of dropped versions at once and the free
// pages (VACUUM) unless --no-vacuum.
import assert from 'node:assert/strict'
import { statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { openDatabase } from '../../src/db/index.ts'
import { bigfile, tempDir } from './helpers.ts'

const ok = (args: string[]) => {
  const r = bigfile(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r
}
const stats = (db: string) => JSON.parse(ok(['stats', db, '--json']).stdout)
const MiB = 1 << 20

test('stats shows segment bytes; pack returns the space of dropped versions; the data stays', () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  const raw = join(t.dir, 'x.raw')
  // 4 MiB of non-zero data: 64 blocks stored.
  writeFileSync(
    raw,
    new Float64Array(1 << 19).map((_, i) => i + 1),
  )
  ok(['import', db, 'keep', raw, '--dtype', 'f8', '-q'])
  ok(['import', db, 'drop', raw, '--dtype', 'f8', '-q'])
  ok(['rm', db, 'drop'])
  let s = stats(db)
  assert.equal(s.liveBytes, 8 * MiB, 'rm frees nothing until pack')
  assert.equal(s.deadBytes, 0)
  assert.equal(s.segmentBytes, s.segments * 4096 + s.liveBytes)
  assert.match(
    ok(['stats', db]).stdout,
    /^segments +1 file\(s\), 8\.0 MiB \(\d+ bytes\): 8 MiB of block versions, 0 B dead$/m,
  )
  const r = ok(['pack', db, '--no-vacuum'])
  assert.match(r.stdout, /^packed: cutoff tid \d+.*, 64 block versions/)
  s = stats(db)
  // Half the segment was dead: its live half moved to a new segment, the old one unlinked.
  assert.equal(s.liveBytes, 4 * MiB)
  assert.equal(s.segmentBytes, s.segments * 4096 + 4 * MiB)
  assert.equal(ok(['stat', db, 'keep', '--json', '-q']).stdout.includes('"sum":137439215616'), true)
})

test('stats shows free pages; pack returns them to the file system; the data stays', async () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  const raw = join(t.dir, 'x.raw')
  writeFileSync(
    raw,
    new Float64Array(1 << 16).map((_, i) => i + 1),
  )
  ok(['import', db, 'keep', raw, '--dtype', 'f8', '-q'])
  // Pages of SQLite's own: 2,000 file records with 4 KiB of metadata each (8 MiB), then deleted.
  const d = await openDatabase(db)
  let txn = await d.storage.begin()
  const ids: number[] = []
  for (let i = 0; i < 2000; i++)
    ids.push(await txn.createFile({ name: `m${i}`, blksize: 4096, size: 0, meta: { pad: 'x'.repeat(4096) } }))
  await txn.commit()
  txn = await d.storage.begin()
  for (const id of ids) await txn.deleteFile(id)
  await txn.commit()
  await d.close()
  let s = stats(db)
  assert.equal(s.pageSize, 4096)
  assert.equal(s.freePages, 0, 'deleting frees nothing until pack')
  const full = statSync(db).size

  // --no-vacuum: the versions go, their pages stay in the file as free pages.
  let r = ok(['pack', db, '--no-vacuum'])
  assert.doesNotMatch(r.stdout, /vacuum/)
  s = stats(db)
  assert.ok(s.freePages >= 64, `${s.freePages} free pages`)
  assert.equal(statSync(db).size, full)
  assert.match(
    ok(['stats', db]).stdout,
    /^free pages +[\d,]+ of [\d,]+ pages of 4 KiB: [\d.]+ MiB \(bigfile pack returns them\)$/m,
  )

  // pack: the file shrinks by the free pages.
  r = ok(['pack', db])
  assert.match(r.stdout, /^vacuumed: file [\d.]+ MiB -> [\d.]+ [KM]iB$/m)
  assert.match(r.stderr, /^vacuum: rewriting .* without its [\d.]+ MiB of free pages…$/m)
  const after = stats(db)
  assert.equal(after.freePages, 0)
  assert.ok(statSync(db).size <= full - s.freePages * 4096, `${statSync(db).size} of ${full}`)
  assert.equal(after.walBytes, 0)
  assert.equal(after.head, s.head, 'VACUUM adds no transaction')
  assert.equal(ok(['stat', db, 'keep', '--json', '-q']).stdout.includes('"sum":2147516416'), true)

  // Nothing free: nothing to rewrite.
  r = ok(['pack', db])
  assert.doesNotMatch(r.stdout + r.stderr, /vacuum/)
  assert.equal(ok(['pack', db, '-q']).stdout, '')
})
