// Peak memory of this process: RSS sampled on a timer and at progress callbacks (a synchronous loop
// starves the timer), plus the kernel's own high-water mark (maxRSS), which no sampling can miss.

export class MemorySampler implements Disposable {
  #peak = 0
  readonly #timer: NodeJS.Timeout

  constructor(intervalMs = 50) {
    this.sample()
    this.#timer = setInterval(() => this.sample(), intervalMs)
    this.#timer.unref()
  }

  /** Takes one sample now; cheap enough to call from progress callbacks. */
  readonly sample = (): void => {
    const rss = process.memoryUsage.rss()
    if (rss > this.#peak) this.#peak = rss
  }

  /** The highest RSS sampled, in bytes. */
  get peakRss(): number {
    return this.#peak
  }

  /** The kernel's peak resident set of the whole process so far, in bytes. */
  static maxRss(): number {
    return process.resourceUsage().maxRSS * 1024
  }

  [Symbol.dispose](): void {
    clearInterval(this.#timer)
  }
}
