// The real command on a real (pseudo-)terminal 60 columns wide, through script(1): the progress bar
// stays on one line no wider than the terminal, says "committing…" at each commit, and is cleared.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { displayWidth } from '../../src/cli/progress.ts'
import { MAIN, tempDir } from './helpers.ts'

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout?.includes('util-linux')

/** Runs `bigfile args` in a pseudo-terminal of `cols` columns; what the terminal received. */
function inTerminal(cols: number, args: readonly string[]): { code: number | null; screen: string } {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`
  const cmd = `stty cols ${cols} rows 24; ${[process.execPath, MAIN, ...args].map(quote).join(' ')}`
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
    encoding: 'utf8',
    env: { ...process.env, BIGFILE_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  return { code: r.status, screen: r.stdout }
}

test('import on a 60-column terminal: one bar line, never wider, "committing…" at commits', {
  skip: hasScript ? false : 'needs script(1) from util-linux for a pseudo-terminal',
}, () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  const file = join(t.dir, 'zeros.raw')
  writeFileSync(file, new Uint8Array(24 << 20))
  const name = `an_array_with_a_name_longer_than_the_terminal_${'x'.repeat(40)}`
  // Read in pieces of one 1 MiB block, a commit after each: 23 on the way, one at the end.
  const args = ['import', db, name, file, '--dtype', 'u1', '--blksize', '1MiB', '--ram', '8MiB']
  args.push('--commit-every', '1MiB')
  const r = inTerminal(60, args)
  assert.equal(r.code, 0, r.screen)
  // The terminal's lines (script turns \n into \r\n); every redraw is a \r + erase-line.
  const lines = r.screen.split('\r\n').filter((l) => l !== '')
  assert.equal(lines.length, 1, `the bar left no stale lines: ${JSON.stringify(lines.slice(0, 3))}`)
  const draws = lines[0].split('\r\x1b[K')
  const report = draws.pop() as string
  assert.match(report, /^imported an_array_with_a_name/, 'the bar was cleared before the report')
  const bars = draws.filter((d) => d !== '')
  assert.ok(bars.length >= 24, `${bars.length} redraws`)
  for (const b of bars) {
    assert.ok(!b.includes('\r'), JSON.stringify(b))
    assert.ok(displayWidth(b) <= 59, `${JSON.stringify(b)} does not fit 60 columns`)
    assert.match(b, /^import an_array_with_a_name.*…? +\d+%/)
  }
  const commits = bars.filter((b) => b.endsWith('committing…')).length
  assert.equal(commits, 24, 'each commit is shown')
})
