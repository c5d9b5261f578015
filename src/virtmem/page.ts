import type { FileH } from './fileh.ts'

/**
 * Page states. A page that is not resident has no Page object at all and reads as EMPTY.
 *
 *   EMPTY → LOADING → LOADED ⇄ DIRTY → (dropped) EMPTY
 *   LOADING → LOADING_INVALIDATED when an invalidation lands mid-load: the load's data is dropped.
 *   DIRTY → SPILLED (its image in the RAM's spill file, no frame, no Page object) → DIRTY on the next
 *   fault, or → EMPTY when written out and marked stored, discarded or invalidated.
 */
export const PageState = {
  /** Not resident (no frame) and not spilled: the next access loads it. */
  EMPTY: 'EMPTY',
  /** A frame is bound and its load is in progress. */
  LOADING: 'LOADING',
  /** Invalidated while loading: the load's data will be dropped. */
  LOADING_INVALIDATED: 'LOADING_INVALIDATED',
  /** Resident and clean: same as the stored data, mapped read-only. */
  LOADED: 'LOADED',
  /** Resident and written to since its load or last writeout. */
  DIRTY: 'DIRTY',
  /** Dirty, held in the RAM's spill file with no frame. */
  SPILLED: 'SPILLED',
} as const
/** One of the `PageState` values. */
export type PageState = (typeof PageState)[keyof typeof PageState]

/** Outcome of a load shared by every fault waiting on it: an error, or undefined when it went through. */
export type LoadOutcome = Error | undefined

/** One resident page of a FileH, backed by one RAM frame. */
export class Page {
  /** The file handle the page belongs to. */
  readonly fileh: FileH
  /** The page's number in its file. */
  readonly pgoffset: number
  /** The RAM frame holding the page. */
  readonly frame: number
  /** LOADING, LOADING_INVALIDATED, LOADED or DIRTY (a Page object exists only while resident). */
  state: PageState = PageState.LOADING
  /** Number of VMAs whose page table maps this page. */
  mapcount = 0
  /** Number of live pins (zero-copy views, in-flight storeblk): a pinned frame is never reused. */
  pincount = 0
  /** Pins taken for writing: their views write without faults, so a write freeze must wait for them. */
  wpincount = 0
  /** When it last became dirty (RAM-wide order): the spill takes the oldest dirty pages first. */
  dirtySeq = 0
  /** Dropped from its FileH while pinned: the frame goes back to RAM at the last unpin. */
  detached = false
  /**
   * Completion of the load in progress, shared by every waiter. While the page is LOADING, `undefined`
   * means the load is a synchronous loadblk that has not returned: it is up this very call stack (a
   * re-entrant fault of the page from inside its own loadblk), so waiting would never end — the fault
   * throws DeadlockError instead.
   */
  loading: Promise<LoadOutcome> | undefined = undefined
  /**
   * Faults waiting on this load that want the page pinned: a successful load pins it once for each, in the
   * same step that makes it LOADED, so no reclaim can come between the load and their use of the frame.
   */
  loadPins = 0
  /** Pins held by calls that are waiting for a frame themselves (they will not release them meanwhile). */
  waitPins = 0
  /**
   * Pins held by live Pin objects: released when user code says so, which may be never while this very
   * call waits (a caller holding a pin and faulting), so a fault does not wait for them.
   */
  userPins = 0
  /** The load went through (the page became LOADED): the `loadPins` were handed out. */
  loadOk = false
  /** Loaded by read-ahead and not yet used by a fault: reclaim gives it no second chance. */
  readahead = false
  /** Loaded by a sequential stream (a read-ahead window, or under 'sequential' advice): drop-behind may free it once passed. */
  seq = false

  constructor(fileh: FileH, pgoffset: number, frame: number) {
    this.fileh = fileh
    this.pgoffset = pgoffset
    this.frame = frame
  }
}
