// The progress line's layout on a terminal of any width, its ETA and "committing…", through a stream
// that says it is a terminal of a given width (test/cli/terminal.test.ts runs the real command in a
// pseudo-terminal).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { clip, displayWidth, formatDuration, ProgressLine } from '../../src/cli/progress.ts'

/** A stand-in for process.stderr on a terminal `columns` wide, keeping what is written. */
function terminal(columns: number, isTTY = true) {
  const writes: string[] = []
  const stream = { isTTY, columns, write: (s: string) => writes.push(s) > 0 }
  return { stream: stream as unknown as NodeJS.WriteStream, writes }
}

/** What each redraw leaves on the line: the text after the last `\r\x1b[K`. */
function redraws(writes: readonly string[]): string[] {
  return writes.map((w) => {
    assert.ok(w.startsWith('\r\x1b[K'), JSON.stringify(w))
    assert.ok(!w.includes('\n'), 'a redraw never starts a new line')
    return w.slice(4)
  })
}

test('the line fits every width: amounts go first, then the bar, then the label shrinks', () => {
  for (const label of [
    'import a',
    `import ${'x'.repeat(80)}`,
    'import 数据数据数据数据数据数据',
    'stat 📈📈📈📈📈📈📈',
  ]) {
    const bar = new ProgressLine({ label, bytesPerUnit: 8, stream: terminal(80).stream })
    bar.update(512, 1024)
    for (let width = 1; width <= 140; width++) {
      const s = bar.line(width, performance.now() + 5000)
      assert.ok(displayWidth(s) <= width, `${JSON.stringify(s)} is wider than ${width}`)
      if (width >= 20) assert.match(s, / 50%/, `${width}: the percentage stays`)
      if (width >= 28) assert.match(s, /ETA \d+s/, `${width}: the ETA stays`)
    }
  }
  const bar = new ProgressLine({ label: 'import a', stream: terminal(200).stream })
  bar.update(250, 1000)
  // Wide enough for everything: label, the 24-column bar, percentage, amounts, rate, ETA.
  assert.match(bar.line(199), /^import a \[#{6}-{18}\] {2}25% {2}250 B of 1000 B, [\d.]+ MiB\/s$/)
  assert.match(bar.line(199, performance.now() + 3000), / {2}ETA 9s$/)
  // Narrower: the amounts go, the bar shrinks, then goes, then the label is cut with "…".
  const later = performance.now() + 3000
  assert.equal(bar.line(48, later), 'import a [######------------------]  25%  ETA 9s')
  assert.equal(bar.line(40, later), 'import a [####------------]  25%  ETA 9s')
  assert.equal(bar.line(30, later), 'import a  25%  ETA 9s')
  assert.equal(bar.line(18, later), 'impo…  25%  ETA 9s')
  assert.equal(bar.line(10, later), ' 25%  ETA…')
})

test('a terminal gets one redrawn line, clipped to its width; "committing…" shows at once', () => {
  const t = terminal(60)
  const bar = new ProgressLine({ label: `import ${'n'.repeat(100)}`, stream: t.stream })
  bar.update(10, 100)
  bar.committing()
  bar.update(20, 100) // right after the commit: drawn at once, replacing "committing…"
  bar.update(30, 100) // within the redraw interval: not drawn
  bar.update(100, 100) // the end is always drawn
  const lines = redraws(t.writes)
  assert.equal(lines.length, 4)
  for (const s of lines) assert.ok(displayWidth(s) <= 59, `${JSON.stringify(s)} wraps at 60 columns`)
  assert.match(lines[1], / 10% {2}committing…$/)
  assert.match(lines[2], / 20%/)
  assert.doesNotMatch(lines[2], /committing/)
  assert.match(lines[3], /100%$/)
  bar.end()
  assert.equal(t.writes.at(-1), '\r\x1b[K', 'end clears the line')
})

test('a name with control characters cannot write terminal commands', () => {
  const t = terminal(80)
  const bar = new ProgressLine({ label: 'import a\x1b[2J\rb\n', stream: t.stream })
  bar.update(1, 2)
  assert.equal(redraws(t.writes)[0].split('  ')[0], 'import a?[2J?b? [############------------]')
})

test('no terminal: a line at every tenth, with the ETA once known; no "committing…" lines', () => {
  const t = terminal(0, false)
  const bar = new ProgressLine({ label: 'stat a', stream: t.stream })
  for (let d = 0; d <= 100; d += 5) {
    bar.update(d, 100)
    bar.committing()
  }
  assert.equal(t.writes.length, 10)
  assert.match(t.writes[0], /^stat a: 10% \(10 B of 100 B, [\d.]+ MiB\/s\)\n$/)
  assert.match(t.writes[9], /^stat a: 100% /)
  assert.ok(t.writes.every((w) => !w.includes('committing')))
})

test('quiet: nothing at all', () => {
  const t = terminal(80)
  const bar = new ProgressLine({ label: 'x', quiet: true, stream: t.stream })
  bar.update(1, 2)
  bar.committing()
  bar.end()
  assert.deepEqual(t.writes, [])
})

test('durations, widths and clipping', () => {
  assert.equal(formatDuration(0), '0s')
  assert.equal(formatDuration(44_600), '45s')
  assert.equal(formatDuration(185_000), '3m05s')
  assert.equal(formatDuration(7_620_000), '2h07m')
  assert.equal(displayWidth('abc'), 3)
  assert.equal(displayWidth('数据'), 4)
  assert.equal(displayWidth('e\u0301'), 1)
  assert.equal(clip('abcdef', 4), 'abc…')
  assert.equal(clip('数据数据', 5), '数据…')
  assert.equal(clip('abc', 3), 'abc')
})
