// Progress of a long operation on stderr: a redrawn bar with throughput on a terminal, otherwise a
// plain line at every tenth done (logs and pipes get a readable, bounded trace).
import { formatBytes, formatRate } from './size.ts'

export interface ProgressOptions {
  label: string
  /** Bytes per unit of `done`/`total` (1 when they count bytes; the itemsize when elements). */
  bytesPerUnit?: number
  quiet?: boolean
  stream?: NodeJS.WriteStream
}

const BAR = 24
const REDRAW_MS = 100

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

  constructor(options: ProgressOptions) {
    this.#label = options.label
    this.#unit = options.bytesPerUnit ?? 1
    this.#quiet = options.quiet ?? false
    this.#out = options.stream ?? process.stderr
    this.#tty = this.#out.isTTY === true
  }

  /** The onProgress callback of an array operation. */
  readonly update = (done: number, total: number): void => {
    this.#done = done
    if (this.#quiet || total <= 0) return
    const now = performance.now()
    if (this.#tty) {
      if (now - this.#lastDraw < REDRAW_MS && done < total) return
      this.#lastDraw = now
      const f = Math.min(1, done / total)
      const filled = Math.round(f * BAR)
      const bar = `${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}`
      this.#out.write(
        `\r\x1b[K${this.#label} [${bar}] ${(f * 100).toFixed(0).padStart(3)}%  ${this.#amounts(done, total)}`,
      )
      this.#drawn = true
      return
    }
    const tenth = Math.floor((done / total) * 10)
    if (tenth <= this.#lastTenth) return
    this.#lastTenth = tenth
    this.#out.write(`${this.#label}: ${tenth * 10}% (${this.#amounts(done, total)})\n`)
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
