// create / info / ls / rm / stats / pack on a temporary database, through the real command.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { bigfile, tempDir } from './helpers.ts'

const ok = (args: string[]) => {
  const r = bigfile(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

test('create, info, ls, rm round trip', () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  assert.match(
    ok([
      'create',
      db,
      'emb',
      '--dtype',
      'float32',
      '--shape',
      '1000,64',
      '--order',
      'F',
      '--blksize',
      '16KiB',
    ]),
    /created emb: float32 \[1000,64\] order F/,
  )
  ok(['create', db, 'ts', '--dtype', 'int64', '--shape', '500'])

  const info = ok(['info', db, 'emb'])
  assert.match(info, /^dtype +float32$/m)
  assert.match(info, /^shape +1000,64$/m)
  assert.match(info, /^order +F$/m)
  assert.match(info, /^blksize +16 KiB$/m)
  assert.match(info, /^size +250 KiB \(256000 bytes\)$/m)
  assert.match(info, /^meta +\{"bigarray":1/m)
  const rec = JSON.parse(ok(['info', db, 'ts', '--json']))
  assert.deepEqual(rec.meta, { bigarray: 1, dtype: 'int64', shape: [500], order: 'C' })
  assert.equal(rec.size, 4000)

  const ls = ok(['ls', db])
  assert.match(ls, /^NAME +DTYPE +SHAPE +ORDER +BLKSIZE +SIZE$/m)
  assert.match(ls, /^emb +float32 +1000,64 +F +16 KiB +250 KiB$/m)
  assert.match(ls, /^ts +int64 +500 +C +64 KiB +3.9 KiB$/m)
  assert.deepEqual(
    JSON.parse(ok(['ls', db, '--json'])).map((f: { name: string }) => f.name),
    ['emb', 'ts'],
  )

  assert.match(ok(['rm', db, 'emb']), /removed emb/)
  assert.deepEqual(
    JSON.parse(ok(['ls', db, '--json'])).map((f: { name: string }) => f.name),
    ['ts'],
  )
  assert.equal(bigfile(['info', db, 'emb']).code, 3)
})

test('stats and pack', () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  ok(['create', db, 'a', '--dtype', 'uint8', '--shape', '100'])
  ok(['create', db, 'b', '--dtype', 'float64', '--shape', '10,10'])
  ok(['rm', db, 'a'])
  const s = JSON.parse(ok(['stats', db, '--json']))
  assert.equal(s.files, 1)
  assert.equal(s.arrays, 1)
  assert.equal(s.bytes, 800)
  assert.equal(s.head, 3)
  assert.ok(s.dbFileBytes > 0)
  assert.match(ok(['stats', db]), /^head tid +3$/m)
  assert.match(
    ok(['pack', db, '--keep', '1']),
    /^packed: cutoff tid 2 \(tids 2\.\.3 stay readable\), \d+ block versions and \d+ records removed$/m,
  )
  assert.match(ok(['pack', db]), /cutoff tid 3/)
})
