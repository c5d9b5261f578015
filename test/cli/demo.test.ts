// The demo (npm start) and the short bench, with small sizes.
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { test } from 'node:test'
import { bigfile, tempDir } from './helpers.ts'

test('demo with small sizes verifies, cleans up and exits 0', () => {
  using t = tempDir()
  const r = bigfile(['demo', '--data', '32MiB', '--ram', '16MiB', '-q'], { TMPDIR: t.dir })
  assert.equal(r.code, 0, r.stderr)
  assert.match(
    r.stdout,
    /^bigfile demo: 32 MiB of float64 \(4,194,304 elements\) in 64 KiB blocks through 16 MiB of RAM/,
  )
  assert.match(r.stdout, /^fill, .* per commit \(\d+ commits\) +[\d.]+ s/m)
  assert.match(r.stdout, /^sequential sum .* == formula$/m)
  assert.match(r.stdout, /^1,000 random changes \+ commit +[\d.]+ s +\d+ distinct elements/m)
  assert.match(r.stdout, /^reopen \+ verify .* == expected$/m)
  assert.match(r.stdout, /^pages: [\d,]+ faults, [\d,]+ loads, [\d,]+ stores, .* loaded, .* stored$/m)
  assert.match(r.stdout, /^RAM budget 16 MiB \(.* in use at the end\)/m)
  assert.match(r.stdout, /^peak memory: RSS \d+ MiB \(sampled\), maxRSS \d+ MiB \(kernel\)$/m)
  assert.match(r.stdout, /^ok$/m)
  assert.equal(r.stderr, '')
  assert.deepEqual(readdirSync(t.dir), [], 'the temporary database is removed')
})

test('bench: phase times; scattered changes beyond the budget spill and complete', () => {
  let r = bigfile(['bench', '--data', '16MiB', '--ram', '8MiB', '--reads', '2000', '--changes', '50'])
  assert.equal(r.code, 0, r.stderr)
  for (const phase of [
    'fill, [\\d.]+ MiB per commit',
    'sequential sum',
    '2,000 random reads',
    '50 random changes \\+ commit',
  ]) {
    assert.match(r.stdout, new RegExp(`^${phase} +[\\d.]+ s +maxRSS \\d+ MiB`, 'm'))
  }
  assert.doesNotMatch(r.stdout, /ENOMEM/)
  // 1,000 changes over 256 pages of 64 KiB cannot all stay dirty in 1 MiB: they spill, and commit.
  r = bigfile(['bench', '--data', '16MiB', '--ram', '1MiB', '--reads', '100', '--changes', '1000'])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /^1,000 random changes \+ commit +[\d.]+ s/m)
  assert.doesNotMatch(r.stdout, /ENOMEM/)
})
