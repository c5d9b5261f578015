// Plain-text output helpers for the commands' human output. Names and paths are data: a newline in one
// must not forge a row, an escape sequence must not reach the terminal. Every table cell and field value
// goes through escapeControl (--json output is JSON, already safe).

// C0 and C1 controls, DEL, line/paragraph separators and the bidirectional overrides (which reorder
// what follows them on screen).
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/**
 * `s` with every control character shown as an escape: `\n`, `\r`, `\t`, `\xHH` (C0, DEL, C1) or
 * `\u{HHHH}` (separators, bidi controls). Everything else, backslashes included, is unchanged: the
 * result is for people; scripts read `--json`.
 */
export function escapeControl(s: string): string {
  return s.replace(CONTROL, (c) => {
    const named = NAMED[c]
    if (named) return named
    const n = c.charCodeAt(0)
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`
  })
}

/** Prints rows as an aligned table: the first column left-aligned, the others right-aligned. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const all = [header, ...rows].map((r) => r.map(escapeControl))
  const w = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)))
  const line = (r: readonly string[]) =>
    r
      .map((s, c) => (c === 0 ? s.padEnd(w[c]) : s.padStart(w[c])))
      .join('  ')
      .trimEnd()
  for (const r of all) console.log(line(r))
}

/** Prints `key  value` pairs with the keys aligned. */
export function printFields(fields: readonly (readonly [string, string])[]): void {
  const w = Math.max(...fields.map(([k]) => k.length))
  for (const [k, v] of fields) console.log(`${escapeControl(k).padEnd(w)}  ${escapeControl(v)}`)
}
