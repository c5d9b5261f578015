import { IntervalSet } from './intervals.ts'

/** What reclaim gives up at once from a volatile range. */
export type PurgeUnit = 'range' | 'page'

/**
 * Volatile-range state of one FileH (seed 002: file-level vranges, with ashmem's "was purged" answer and
 * MADV_FREE's zero fill). `ranges` holds the volatile pages, each interval carrying the RAM-wide sequence
 * number of its latest mark (reclaim purges the smallest first); `purged` holds the pages purged since
 * they were marked, until markNonVolatile reports and clears them.
 */
export class VolatileState {
  readonly strict: boolean
  readonly purgeUnit: PurgeUnit
  readonly ranges = new IntervalSet()
  readonly purged = new IntervalSet()

  constructor(strict: boolean, purgeUnit: PurgeUnit) {
    this.strict = strict
    this.purgeUnit = purgeUnit
  }
}
