// escapeControl: what human output shows for names and paths (issue 11 item 6).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { escapeControl } from '../../src/cli/format.ts'

test('escapeControl shows controls as escapes and leaves everything else alone', () => {
  assert.equal(
    escapeControl('plain name, ünïcode 😀 and \\ backslash'),
    'plain name, ünïcode 😀 and \\ backslash',
  )
  assert.equal(escapeControl('a\nb\tc\rd'), 'a\\nb\\tc\\rd')
  assert.equal(escapeControl('\x00\x1b[31m\x7f'), '\\x00\\x1b[31m\\x7f')
  assert.equal(escapeControl('\x9b2J'), '\\x9b2J') // C1 CSI
  assert.equal(escapeControl('abc\u202edef\u2028\u2066'), 'abc\\u{202e}def\\u{2028}\\u{2066}')
  for (let c = 0; c < 0x20; c++)
    assert.doesNotMatch(escapeControl(`x${String.fromCharCode(c)}y`), /[^\x20-\x7e]/)
})
