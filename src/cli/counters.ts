// Counters as one line of text, generic over the object: a counter added to the RAM's counters or stats
// (spills, waits, ...) shows up in `bigfile demo` and `bigfile bench` without an edit here.
import { formatBytes } from './size.ts'

export interface CounterOptions {
  /** Keys left out (fields shown elsewhere, or settings rather than counts). */
  omit?: readonly string[]
  /** Also list counters that are 0 (default: left out). */
  zeros?: boolean
}

/**
 * `8,192 faults, 4,096 loads, 256 MiB loaded`: every numeric field of `c` in its order, its name in
 * words (`spillReads` → `spill reads`); a field named with "bytes" is a size, without that word
 * (`bytesLoaded` → `256 MiB loaded`). '' when nothing is left to show.
 */
export function formatCounters(c: object, options: CounterOptions = {}): string {
  const omit = new Set(options.omit)
  const parts: string[] = []
  for (const [key, v] of Object.entries(c)) {
    if (typeof v !== 'number' || omit.has(key) || (v === 0 && !options.zeros)) continue
    const words = key
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .split(' ')
    const bytes = words.includes('bytes')
    const name = words.filter((w) => w !== 'bytes').join(' ')
    parts.push(`${bytes ? formatBytes(v) : v.toLocaleString('en-US')} ${name}`)
  }
  return parts.join(', ')
}

/** RAMStats fields the budget line shows itself (settings and occupancy); any other is a counter. */
const RAM_SETTINGS = ['pagesize', 'capacity', 'frames', 'reserve', 'used', 'free', 'usedBytes', 'maxLoads']

interface RAMLike {
  readonly counters: { snapshot(): object }
  stats(): { capacity: number; usedBytes: number }
}

/**
 * The two lines `bigfile demo` and `bigfile bench` end with: the page counters, and the budget with
 * whatever else the RAM's stats count (the spill, ...).
 */
export function ramReport(ram: RAMLike): string[] {
  const s = ram.stats()
  const more = formatCounters(s, { omit: RAM_SETTINGS })
  return [
    `pages: ${formatCounters(ram.counters.snapshot()) || 'none touched'}`,
    `RAM budget ${formatBytes(s.capacity)} (${formatBytes(s.usedBytes)} in use at the end)${more ? `; ${more}` : ''}`,
  ]
}
