/**
 * How a range of a FileH will be accessed (`fileh.advise`), after posix_fadvise / madvise:
 * - `normal`: read-ahead when faults are found to be sequential (the default);
 * - `sequential`: the range will be read in ascending order: read ahead from the first fault, and the
 *   caller says what it has passed with `dontneed` (the array walk does);
 * - `random`: no read-ahead at all;
 * - `dontneed`: the caller has passed these pages: the clean, unpinned ones a sequential stream loaded are
 *   dropped now (pages resident for any other reason stay).
 */
export type Advice = 'normal' | 'sequential' | 'random' | 'dontneed'

/** Read-ahead windows are at most this many bytes, or 4 pages of a bigger page size, and at most an eighth of the frames. */
export const READAHEAD_MAX_BYTES = 2 << 20

/**
 * The read-ahead state of one FileH (Linux's `file_ra_state`, simplified to one stream): where a
 * sequential stream is expected to miss next, and the size of its window, which doubles on every
 * sequential miss from the third on (1, 1, 2, 4, … `cap` pages). A miss elsewhere ends the stream. Plain numbers, no
 * allocation: `plan` is pure, `commit` records what was loaded.
 */
export class Readahead {
  /** Most pages one window loads: max(2 MiB in pages, 4), at most frames / 8; 1 turns read-ahead off. */
  readonly cap: number
  /** The page a sequential stream misses next (-1: none yet). */
  next = -1
  /** The stream's window in pages (0: no stream yet; 1: two adjacent misses, the next one reads ahead). */
  size = 0
  /** The first page of the stream (its length is `next - start`). */
  start = 0
  /** Pages before it have been looked at by drop-behind. */
  behind = 0
  /** The advised range [advStart, advEnd) and its advice; 'normal' outside. */
  advStart = 0
  advEnd = 0
  advice: 'normal' | 'sequential' | 'random' = 'normal'
  /** A window whose load failed: faults in it load one page each (the failure is then the page's own). */
  failStart = 0
  failEnd = 0
  /**
   * The trigger page (Linux's PG_readahead; -1: none): the first page read ahead in the stream's newest
   * window. A fault that reaches it — mapping it, or waiting for its load — starts the next window in the
   * background (asynchronous read-ahead), so the reader finds it loading or loaded. Only used once the
   * file's loads have been seen to be asynchronous (`async`): a synchronous load would block that fault.
   */
  trigger = -1
  /** The file's loads answer asynchronously (seen on a load of this FileH). */
  async = false

  constructor(pagesize: number, frames: number) {
    const pages = Math.max(4, Math.floor(READAHEAD_MAX_BYTES / pagesize))
    this.cap = Math.max(1, Math.min(pages, Math.floor(frames / 8)))
  }

  /** The advice in force at page `pg`. */
  adviceAt(pg: number): 'normal' | 'sequential' | 'random' {
    return pg >= this.advStart && pg < this.advEnd ? this.advice : 'normal'
  }

  /** Whether a miss at `pg` continues the stream: at its next page, or a little past it (pages in between were resident). */
  continues(pg: number): boolean {
    return this.next >= 0 && pg >= this.next && pg <= this.next + this.size
  }

  /**
   * The number of pages to load for a miss at `pg` (the fault's page included; 1: no read-ahead), at most
   * up to `limit` (the end of the mapping or of the advised range). Records nothing.
   */
  plan(pg: number, limit: number): number {
    if (this.cap <= 1 || (pg >= this.failStart && pg < this.failEnd)) return 1
    const advice = this.adviceAt(pg)
    if (advice === 'random') return 1
    let n = 1
    // A second adjacent miss only starts a stream (two random misses are adjacent now and then); the
    // third reads ahead.
    if (this.continues(pg)) n = Math.min(this.size * 2, this.cap)
    else if (advice === 'sequential') n = Math.min(4, this.cap)
    if (advice === 'sequential' && this.advEnd < limit) limit = this.advEnd
    return Math.max(1, Math.min(n, limit - pg))
  }

  /** Records a miss at `pg` that planned `want` pages and loaded `got` of them (from `pg` on). */
  commit(pg: number, want: number, got: number): void {
    if (this.continues(pg)) this.size = Math.max(want, 1)
    else {
      this.start = pg
      this.behind = pg
      this.size = want > 1 ? want : 0
    }
    this.next = pg + got
    this.trigger = got > 1 ? pg + 1 : -1
  }

  /**
   * The number of pages of the next window, read ahead in the background from `next` when a fault
   * reaches the trigger page (0: none), at most up to `limit`: twice the current window, up to `cap`,
   * never past a 'sequential' range, none into a 'random' one or a window that failed.
   */
  planAhead(limit: number): number {
    const pg = this.next
    if (this.cap <= 1 || this.next < 0 || (pg >= this.failStart && pg < this.failEnd)) return 0
    const advice = this.adviceAt(pg)
    if (advice === 'random') return 0
    if (advice === 'sequential' && this.advEnd < limit) limit = this.advEnd
    return Math.max(0, Math.min(this.size * 2, this.cap, limit - pg))
  }

  /** Records a window read ahead in the background from `next`: `want` pages planned, `got` taken. */
  commitAhead(want: number, got: number): void {
    if (got === 0) {
      this.trigger = -1
      return
    }
    this.trigger = this.next
    this.size = want
    this.next += got
  }

  /** Drop-behind at the trigger page `pg` (as `behindEnd` at a miss): the end of [behind, end) to drop. */
  behindEndAhead(pg: number, frames: number): number {
    if (this.adviceAt(pg) !== 'normal' || this.next - this.start <= frames >> 1) return this.behind
    return Math.max(this.behind, pg - this.size)
  }

  /**
   * Drop-behind of a stream nobody declared (no 'sequential' advice, whose caller says what it passed):
   * once the stream is longer than half the frames, the pages it loaded before the previous window may go.
   * Returns the end of the range [behind, end) to drop at a miss at `pg` that continues it (≤ behind: none).
   */
  behindEnd(pg: number, frames: number): number {
    if (!this.continues(pg) || this.adviceAt(pg) !== 'normal') return this.behind
    if (this.next - this.start <= frames >> 1) return this.behind
    return Math.max(this.behind, pg - this.size)
  }

  /** Forgets the stream (a failed window, an invalidation of everything). */
  reset(): void {
    this.next = -1
    this.size = 0
    this.trigger = -1
  }
}
