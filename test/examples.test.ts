// The examples must keep running: each is executed as a user would run it.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'

const root = join(import.meta.dirname, '..')
const run = (file: string, env: Record<string, string> = {}) =>
  execFileSync(process.execPath, [join(root, file)], { encoding: 'utf8', env: { ...process.env, ...env } })
/** An example that imports 'bigfile' as a user does, resolved to this checkout's sources. */
const runAsUser = (file: string) =>
  execFileSync(
    process.execPath,
    ['--import', join(root, 'scripts/bigfile-from-source.ts'), join(root, file)],
    {
      encoding: 'utf8',
    },
  )

test('the virtmem demo (npm start) verifies its data', () => {
  const out = run('examples/virtmem-demo.ts', { DEMO_DATA_MIB: '32', DEMO_RAM_MIB: '4' })
  assert.match(out, /sum \d+ == formula/)
  assert.match(out, /^ok$/m)
})

test('the decoded-chunk cache regenerates what was purged', () => {
  const out = run('examples/decoded-cache.ts')
  const m = out.match(/(\d+) chunk uses, (\d+) decodes, (\d+) pages purged/)
  assert.ok(m, out)
  const [uses, decodes, purged] = m.slice(1).map(Number)
  assert.equal(uses, 400)
  assert.ok(purged > 0, 'the RAM budget forced purges')
  assert.ok(decodes > 64 && decodes < uses, `decodes ${decodes}: regenerated after purges, reused otherwise`)
})

test('the BigArray example: views, read()/write(), nested append, generics', () => {
  const out = runAsUser('examples/bigarray.ts')
  assert.match(out, /^sum 55000001\.5 mean 13\.750000375$/m)
  assert.match(out, /^read \[ 2, 4 \] \[ 4, 1 \] Float32Array\(8\)/m)
  assert.match(out, /^shape after append \[ 1000002, 4 \]$/m)
  assert.match(out, /^last element 8$/m)
  assert.match(out, /^ids sum 60n$/m)
})

test('the database example: snapshots, sync, abort', () => {
  const out = runAsUser('examples/database.ts')
  assert.match(out, /^reader at 0 files \[\]$/m)
  assert.match(out, /^reader at 1 reads 42 meta \{ kind: 'counters' \}$/m)
  assert.match(out, /^after abort 42$/m)
})

test('the memmap example: a raw file and an .npy changed in place', () => {
  const out = runAsUser('examples/memmap.ts')
  assert.match(out, /^raw \[ 100001 \] sum 150001\.5$/m)
  assert.match(out, /^last value on disk 99$/m)
  assert.match(out, /^first row now 255 second row max 255$/m)
})

test('the conflict-retry example loses no increment', () => {
  const out = runAsUser('examples/conflict-retry.ts')
  const m = out.match(/^100 transactions in (\d+) attempts \((\d+) retried\)$/m)
  assert.ok(m, out)
  assert.ok(Number(m[2]) > 0, 'the workers did conflict')
  assert.match(out, /^total 100 == 100: true$/m)
})
