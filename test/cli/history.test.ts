// bigfile log and --at: the commit log printed, and a past version exported byte-identically.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { BigArray } from '../../src/array/index.ts'
import { openDatabase, RAM } from '../../src/index.ts'
import { bigfile, oneErrorLine, tempDir } from './helpers.ts'

const ok = (args: string[]) => {
  const r = bigfile(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** Little-endian bytes of an int32 array. */
const bytesOf = (a: Int32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)

test('log prints the commits; export --at writes a past version byte-identically', async () => {
  using t = tempDir()
  const db = join(t.dir, 'h.bigfile')
  const n = 50_000 // 200 KB of int32: 4 blocks of 64 KiB
  const v1 = Int32Array.from({ length: n }, (_, i) => i)
  const v2 = v1.map((x, i) => (i % 3 === 0 ? -x : x))
  const v3 = new Int32Array(n + 10).fill(7)
  {
    const d = await openDatabase(db)
    const conn = d.connect({ ram: new RAM({ capacity: 32 << 20 }) })
    const a = await BigArray.create(conn, 'a', { dtype: 'int32', shape: [n] })
    await a.copyFrom(v1)
    assert.equal(await conn.commit(), 1)
    await d.close()
  }
  // the head export of version 1, made while it was the head
  ok(['export', db, 'a', join(t.dir, 'head1.raw'), '-q'])
  ok(['export', db, 'a', join(t.dir, 'head1.npy'), '-q'])
  {
    const d = await openDatabase(db)
    const conn = d.connect({ ram: new RAM({ capacity: 32 << 20 }) })
    const a = await BigArray.open(conn, 'a')
    await a.copyFrom(v2)
    assert.equal(await conn.commit(), 2)
    await a.resize([n + 10])
    await a.fill(7)
    assert.equal(await conn.commit(), 3)
    await d.close()
  }
  ok(['create', db, 'b', '--dtype', 'int8', '--shape', '4']) // tid 4

  // log: the table, newest first, and the same as JSON
  const table = ok(['log', db]).trimEnd().split('\n')
  assert.match(table[0], /^TID +TIME +NAME +BLOCKS +CHANGE$/)
  assert.equal(table.length, 5)
  assert.match(table[1], /^4 +\d{4}-\d\d-\d\dT[\d:.]+Z +b +0 +record$/)
  assert.match(table[2], /^3 +\S+ +a +4 +record$/) // resized: record; 4 blocks written
  assert.match(table[3], /^2 +\S+ +a +4 +-$/)
  assert.match(table[4], /^1 +\S+ +a +4 +record$/)
  const json = JSON.parse(ok(['log', db, '--json'])) as {
    tid: number
    time: string
    files: { name: string; blocks: number[]; record: boolean; deleted: boolean }[]
  }[]
  assert.deepEqual(
    json.map((c) => [c.tid, c.files.map((f) => [f.name, f.blocks.length, f.record, f.deleted])]),
    [
      [4, [['b', 0, true, false]]],
      [3, [['a', 4, true, false]]],
      [2, [['a', 4, false, false]]],
      [1, [['a', 4, true, false]]],
    ],
  )
  const times = json.map((c) => Date.parse(c.time))
  for (let i = 1; i < times.length; i++)
    assert.ok(times[i - 1] >= times[i], 'newest first, times never go back')
  assert.deepEqual(
    (JSON.parse(ok(['log', db, 'a', '--limit', '2', '--json'])) as { tid: number }[]).map((c) => c.tid),
    [3, 2],
  )
  assert.equal(ok(['log', db, 'b', '--limit', '1']).trimEnd().split('\n').length, 2)

  // export --at TID and --at TIME
  ok(['export', db, 'a', join(t.dir, 'at1.raw'), '--at', '1', '-q'])
  ok(['export', db, 'a', join(t.dir, 'at1.npy'), '--at', '1', '-q'])
  assert.deepEqual(readFileSync(join(t.dir, 'at1.raw')), readFileSync(join(t.dir, 'head1.raw')))
  assert.deepEqual(readFileSync(join(t.dir, 'at1.raw')), bytesOf(v1))
  assert.deepEqual(readFileSync(join(t.dir, 'at1.npy')), readFileSync(join(t.dir, 'head1.npy')))
  // tid 2 committed after two exports ran in child processes: its time is later than tid 1's
  const time1 = json[3].time
  ok(['export', db, 'a', join(t.dir, 'time1.raw'), '--at', time1, '-q'])
  assert.deepEqual(readFileSync(join(t.dir, 'time1.raw')), bytesOf(v1))
  ok(['export', db, 'a', join(t.dir, 'at2.raw'), '--at', '2', '-q'])
  assert.deepEqual(readFileSync(join(t.dir, 'at2.raw')), bytesOf(v2))
  ok(['export', db, 'a', join(t.dir, 'head.raw'), '-q'])
  assert.deepEqual(readFileSync(join(t.dir, 'head.raw')), bytesOf(v3))

  // ls and info --at
  assert.deepEqual(
    (JSON.parse(ok(['ls', db, '--json', '--at', '3'])) as { name: string }[]).map((f) => f.name),
    ['a'],
  )
  assert.match(ok(['info', db, 'a', '--at', '2']), /^shape +50000$/m)
  assert.match(ok(['info', db, 'a']), /^shape +50010$/m)

  // mistakes: not a tid or time (2), past the head or missing at that tid (3), packed away (1)
  let r = bigfile(['info', db, 'a', '--at', 'yesterday'])
  assert.equal(r.code, 2)
  assert.match(oneErrorLine(r), /--at/)
  r = bigfile(['info', db, 'a', '--at', '9'])
  assert.equal(r.code, 3)
  assert.match(oneErrorLine(r), /no commit 9 yet/)
  r = bigfile(['info', db, 'b', '--at', '3'])
  assert.equal(r.code, 3)
  r = bigfile(['log', db, 'x', 'y'])
  assert.equal(r.code, 2)
  assert.match(ok(['pack', db, '--keep', '1']), /cutoff tid 3 \(tids 3\.\.4 stay readable\)/)
  r = bigfile(['export', db, 'a', join(t.dir, 'gone.raw'), '--at', '2'])
  assert.equal(r.code, 1)
  assert.match(oneErrorLine(r), /older than the pack cutoff 3/)
  assert.deepEqual(
    (JSON.parse(ok(['log', db, '--json'])) as { tid: number }[]).map((c) => c.tid),
    [4, 3],
  )
})

test('show and stat --at read a past version', async () => {
  using t = tempDir()
  const db = join(t.dir, 's.bigfile')
  {
    const d = await openDatabase(db)
    const conn = d.connect({ ram: new RAM({ capacity: 8 << 20 }) })
    const a = await BigArray.create(conn, 'a', { dtype: 'int32', shape: [4] })
    await a.copyFrom(Int32Array.of(1, 2, 3, 4))
    assert.equal(await conn.commit(), 1)
    await a.copyFrom(Int32Array.of(10, 20, 30, 40))
    assert.equal(await conn.commit(), 2)
    await d.close()
  }
  assert.equal(ok(['show', db, 'a']).trim(), '[10 20 30 40]')
  assert.equal(ok(['show', db, 'a', '--at', '1']).trim(), '[1 2 3 4]')
  const past = JSON.parse(ok(['stat', db, 'a', '--at', '1', '--json', '-q'])) as { sum: number; max: number }
  assert.equal(past.sum, 10)
  assert.equal(past.max, 4)
  const now = JSON.parse(ok(['stat', db, 'a', '--json', '-q'])) as { sum: number }
  assert.equal(now.sum, 100)
})
