/** Event counters, kept per RAM (all files) and per FileH. Plain numbers: cheap to bump and to snapshot. */
export class Counters {
  /** Every page fault taken: a miss or a write to a read-only entry, whether it loaded or only mapped. */
  faults = 0
  /** Blocks loaded: a `loadblk` call each, or their part of a `loadblks`; read-ahead included. */
  loads = 0
  /** `storeblk` calls. */
  stores = 0
  /** Clean pages dropped by reclaim. */
  reclaims = 0
  /** Pages of volatile ranges dropped by reclaim (dirty ones lose their data: they were purged). */
  purges = 0
  /** Pages dropped by invalidate, discard or close. */
  drops = 0
  /** Of `loads`, the blocks loaded ahead of use by sequential read-ahead (no fault asked for them yet). */
  readahead = 0
  /** `loadblks` calls: I/Os of several adjacent blocks at once (read-ahead coalesced with the fault's block). */
  multiLoads = 0
  /** Read-ahead windows started in the background, by a fault reaching a stream's trigger page (asynchronous loads only). */
  readaheadAsync = 0
  /** Read-ahead pages dropped before any fault used them (read-ahead that was wasted). */
  readaheadUnused = 0
  /** Clean pages a sequential walk had passed, dropped at once so the walk reuses its own frames. */
  dropBehind = 0
  /** Bytes read by loads, read-ahead included. */
  bytesLoaded = 0
  /** Bytes written by `storeblk` calls. */
  bytesStored = 0
  /** Times a fault waited in the FIFO for a frame or a load slot (one fault may wait more than once). */
  waits = 0
  /** Milliseconds faults spent waiting there, summed. */
  waitMs = 0
  /** Dirty pages written to the spill file (their frames freed). */
  spills = 0
  /** Spilled pages read back, by a fault or a writeout. */
  spillReads = 0
  /** Bytes written to the spill file. */
  bytesSpilled = 0
  /** Bytes read back from the spill file. */
  bytesSpillRead = 0

  /** A plain copy of every counter now. */
  snapshot(): CountersSnapshot {
    return { ...this }
  }
}

/** The counters at one moment, as returned by `counters.snapshot()`. */
export type CountersSnapshot = {
  readonly [K in keyof Counters as Counters[K] extends number ? K : never]: number
}
