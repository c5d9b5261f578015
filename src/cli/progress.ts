// Progress of a long operation on stderr: on a terminal, one redrawn line — label, bar, percentage,
// amounts, throughput, ETA, or "committing…" while a commit runs — never wider than the terminal, so it
// never wraps into stale lines; otherwise a plain line at every tenth done (logs and pipes get a
// readable, bounded trace).
import { formatBytes, formatRate } from './size.ts'

export interface ProgressOptions {
  label: string
  /** Bytes per unit of `done`/`total` (1 when they count bytes; the itemsize when elements). */
  bytesPerUnit?: number
  quiet?: boolean
  stream?: NodeJS.WriteStream
}

const BAR = 24
const MIN_BAR = 10
const REDRAW_MS = 100
/** No ETA before this much time and progress: the first rates say little. */
const ETA_AFTER_MS = 1000

export class ProgressLine {
  readonly #label: string
  readonly #unit: number
  readonly #quiet: boolean
  readonly #out: NodeJS.WriteStream
  readonly #tty: boolean
  readonly #t0 = performance.now()
  #lastDraw = 0
  #lastTenth = 0
  #drawn = false
  #done = 0
  #total = 0
  #committing = false

  constructor(options: ProgressOptions) {
    // A name can hold control characters: they must not reach the terminal as commands.
    this.#label = options.label.replace(/\p{Cc}/gu, '?')
    this.#unit = options.bytesPerUnit ?? 1
    this.#quiet = options.quiet ?? false
    this.#out = options.stream ?? process.stderr
    this.#tty = this.#out.isTTY === true
  }

  /** The onProgress callback of an array operation. */
  readonly update = (done: number, total: number): void => {
    this.#done = done
    this.#total = total
    if (this.#quiet || total <= 0) return
    const now = performance.now()
    if (this.#tty) {
      if (!this.#committing && now - this.#lastDraw < REDRAW_MS && done < total) return
      this.#committing = false
      this.#draw(now)
      return
    }
    const tenth = Math.floor((done / total) * 10)
    if (tenth <= this.#lastTenth) return
    this.#lastTenth = tenth
    const eta = this.#eta(now)
    this.#out.write(
      `${this.#label}: ${tenth * 10}% (${this.#amounts(done, total)}${eta ? `, ${eta}` : ''})\n`,
    )
  }

  /**
   * Says "committing…" on the bar until the next update: called just before a commit, which can take a
   * while (it writes every dirty page and syncs) and, synchronous, would otherwise freeze the bar.
   */
  readonly committing = (): void => {
    if (this.#quiet || !this.#tty || this.#total <= 0) return
    this.#committing = true
    this.#draw(performance.now())
  }

  #draw(now: number): void {
    this.#lastDraw = now
    const cols = this.#out.columns > 0 ? this.#out.columns : 80
    this.#out.write(`\r\x1b[K${this.line(cols - 1, now)}`)
    this.#drawn = true
  }

  /**
   * The bar's text in at most `width` columns: what does not fit goes first — the amounts, then the
   * bar shrinks and goes, then the label is shortened; the percentage and ETA / "committing…" stay.
   */
  line(width: number, now = performance.now()): string {
    if (width < 1) return ''
    const done = this.#done
    const total = this.#total
    const f = total > 0 ? Math.min(1, done / total) : 0
    const pct = `${(f * 100).toFixed(0).padStart(3)}%`
    const tail = this.#committing ? 'committing…' : this.#eta(now)
    const amounts = this.#amounts(done, total)
    const bar = (n: number) => {
      const filled = Math.round(f * n)
      return `[${'#'.repeat(filled)}${'-'.repeat(n - filled)}]`
    }
    const join = (...parts: string[]) => parts.filter((s) => s !== '').join('  ')
    const fits = (s: string) => displayWidth(s) <= width
    const head = (b: string) => (b ? `${this.#label} ${b} ${pct}` : `${this.#label} ${pct}`)
    let s = join(head(bar(BAR)), amounts, tail)
    if (fits(s)) return s
    s = join(head(bar(BAR)), tail)
    if (fits(s)) return s
    const room = width - displayWidth(join(head(''), tail)) - 1
    if (room >= MIN_BAR + 2) return join(head(bar(Math.min(BAR, room - 2))), tail)
    const rest = join(pct, tail)
    const labelRoom = width - displayWidth(rest) - 1
    if (labelRoom >= 2) return `${clip(this.#label, labelRoom)} ${rest}`
    return clip(rest, width)
  }

  #eta(now: number): string {
    const done = this.#done
    const ms = now - this.#t0
    if (done <= 0 || done >= this.#total || ms < ETA_AFTER_MS) return ''
    return `ETA ${formatDuration(((this.#total - done) * ms) / done)}`
  }

  #amounts(done: number, total: number): string {
    const b = done * this.#unit
    return `${formatBytes(b)} of ${formatBytes(total * this.#unit)}, ${formatRate(b, performance.now() - this.#t0)}`
  }

  /** Milliseconds since the start. */
  get elapsed(): number {
    return performance.now() - this.#t0
  }

  /** Bytes reported done so far. */
  get bytes(): number {
    return this.#done * this.#unit
  }

  /** Clears the bar (on a terminal); returns the elapsed milliseconds. */
  end(): number {
    if (this.#drawn) this.#out.write('\r\x1b[K')
    this.#drawn = false
    return this.elapsed
  }
}

/** `45s`, `3m05s`, `2h07m`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** Columns a terminal gives `ch`: 2 for East Asian wide and emoji, 0 for combining marks, else 1. */
function charWidth(cp: number): number {
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || cp === 0xfe0f) return 0
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  )
    return 2
  return 1
}

export function displayWidth(s: string): number {
  let w = 0
  for (const ch of s) w += charWidth(ch.codePointAt(0) as number)
  return w
}

/** `s` cut to at most `width` columns, ending in `…` when cut. */
export function clip(s: string, width: number): string {
  if (displayWidth(s) <= width) return s
  let out = ''
  let w = 0
  for (const ch of s) {
    const cw = charWidth(ch.codePointAt(0) as number)
    if (w + cw > width - 1) break
    out += ch
    w += cw
  }
  return `${out}…`
}
