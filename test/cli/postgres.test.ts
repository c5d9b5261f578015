// The CLI on a PostgreSQL URL: the same commands through the same opener as for a file.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { postgres, postgresEnabled } from '../helpers/storages.ts'
import { bigfileAsync, oneErrorLine, tempDir } from './helpers.ts'

const skip = !postgresEnabled && 'BIGFILE_TEST_POSTGRES=0'

test('import, ls, info, export, stats, pack on postgres://', { skip }, async (t) => {
  const url = await postgres.location(t)
  using tmp = tempDir()
  const ok = async (args: string[]) => {
    const r = await bigfileAsync(args)
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
    return r
  }
  const src = join(tmp.dir, 'in.raw')
  const data = new Int32Array(100_000).map((_, i) => i * 3 - 7)
  writeFileSync(src, data)
  // ls on a database without the schema: nothing is created, the command says so
  const missing = await bigfileAsync(['ls', url])
  assert.notEqual(missing.code, 0)
  assert.match(oneErrorLine(missing), /no bigfile schema/)
  await ok(['import', url, 'x', src, '--dtype', 'int32', '--shape', '1000,100', '--blksize', '16KiB'])
  assert.match((await ok(['ls', url])).stdout, /^x\b.*int32/m)
  assert.match((await ok(['info', url, 'x'])).stdout, /1000/)
  const out = join(tmp.dir, 'out.raw')
  await ok(['export', url, 'x', out])
  assert.deepEqual(readFileSync(out), Buffer.from(data.buffer))
  const stats = JSON.parse((await ok(['stats', url, '--json'])).stdout)
  assert.equal(stats.files, 1)
  assert.ok(stats.head >= 1)
  await ok(['pack', url])
  const wrong = new URL(url)
  wrong.password = 'wrong'
  const denied = await bigfileAsync(['ls', wrong.toString()])
  assert.notEqual(denied.code, 0)
  assert.match(oneErrorLine(denied), /refused the credentials/)
  assert.doesNotMatch(denied.stderr, /wrong/, 'no password in messages')
})
