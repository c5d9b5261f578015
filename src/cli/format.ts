// Plain-text output helpers for the listing commands.

/** Prints rows as an aligned table: the first column left-aligned, the others right-aligned. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const all = [header, ...rows]
  const w = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? '').length)))
  const line = (r: readonly string[]) =>
    r
      .map((s, c) => (c === 0 ? s.padEnd(w[c]) : s.padStart(w[c])))
      .join('  ')
      .trimEnd()
  console.log(line(header))
  for (const r of rows) console.log(line(r))
}

/** Prints `key  value` pairs with the keys aligned. */
export function printFields(fields: readonly (readonly [string, string])[]): void {
  const w = Math.max(...fields.map(([k]) => k.length))
  for (const [k, v] of fields) console.log(`${k.padEnd(w)}  ${v}`)
}
