// The examples must keep running: each is executed as a user would run it.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'

const root = join(import.meta.dirname, '..')
const run = (file: string, env: Record<string, string> = {}) =>
  execFileSync(process.execPath, [join(root, file)], { encoding: 'utf8', env: { ...process.env, ...env } })

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
