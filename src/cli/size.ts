// Byte sizes as people type them (`256MiB`, `1GiB`, `64KiB`, `4096`) and as the command prints them.
import { UsageError } from './exit.ts'

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
}

/** Parses `256MiB`, `1.5GiB`, `64k` (binary), `1GB` (decimal) or a plain byte count; `what` names the option. */
export function parseSize(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined
  if (!m || unit === undefined) {
    throw new UsageError(`${what}: not a size: ${JSON.stringify(text)} (try 64KiB, 256MiB, 1GiB)`)
  }
  const bytes = Number(m[1]) * unit
  if (!Number.isSafeInteger(bytes)) {
    throw new UsageError(`${what}: ${JSON.stringify(text)} is not a whole number of bytes`)
  }
  return bytes
}

/** `1.0 GiB`, `64 KiB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let u = 0
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  if (u === 0) return `${v} B`
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`
}

/** Throughput as `812 MiB/s`. */
export function formatRate(bytes: number, ms: number): string {
  if (ms <= 0) return '- MiB/s'
  const mibs = bytes / (1024 * 1024) / (ms / 1000)
  return `${mibs >= 100 ? mibs.toFixed(0) : mibs.toFixed(1)} MiB/s`
}

/** Seconds with two decimals. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}
