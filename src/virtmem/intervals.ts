/** A half-open page range [start, end) carrying a number (for volatile ranges: the mark sequence). */
export interface Interval {
  start: number
  end: number
  value: number
}

/**
 * A set of disjoint, non-adjacent half-open intervals kept sorted by start. Adding merges overlapping and
 * adjacent intervals (the merged one takes the largest value); removing splits. Lookups are binary searches.
 */
export class IntervalSet {
  readonly #list: Interval[] = []

  get size(): number {
    return this.#list.length
  }

  /** A copy of the intervals, in order. */
  toArray(): Interval[] {
    return this.#list.map((i) => ({ ...i }))
  }

  /** Index of the first interval whose end is > pos (it may start after pos). */
  #firstEndingAfter(pos: number): number {
    let lo = 0
    let hi = this.#list.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.#list[mid].end > pos) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  contains(pos: number): boolean {
    const i = this.#firstEndingAfter(pos)
    return i < this.#list.length && this.#list[i].start <= pos
  }

  /** The interval holding pos, or undefined. */
  find(pos: number): Interval | undefined {
    const i = this.#firstEndingAfter(pos)
    const it = this.#list[i]
    return it !== undefined && it.start <= pos ? it : undefined
  }

  overlaps(start: number, end: number): boolean {
    const i = this.#firstEndingAfter(start)
    return i < this.#list.length && this.#list[i].start < end
  }

  add(start: number, end: number, value: number): void {
    if (start >= end) return
    // Intervals touching [start, end) — adjacent ones included — are merged into it.
    let i = this.#firstEndingAfter(start - 1)
    let s = start
    let e = end
    let v = value
    let n = 0
    for (let j = i; j < this.#list.length && this.#list[j].start <= end; j++, n++) {
      const it = this.#list[j]
      s = Math.min(s, it.start)
      e = Math.max(e, it.end)
      v = Math.max(v, it.value)
    }
    if (i > this.#list.length) i = this.#list.length
    this.#list.splice(i, n, { start: s, end: e, value: v })
  }

  remove(start: number, end: number): void {
    if (start >= end) return
    const i = this.#firstEndingAfter(start)
    const pieces: Interval[] = []
    let n = 0
    for (let j = i; j < this.#list.length && this.#list[j].start < end; j++, n++) {
      const it = this.#list[j]
      if (it.start < start) pieces.push({ start: it.start, end: start, value: it.value })
      if (it.end > end) pieces.push({ start: end, end: it.end, value: it.value })
    }
    if (n > 0) this.#list.splice(i, n, ...pieces)
  }

  clear(): void {
    this.#list.length = 0
  }
}
