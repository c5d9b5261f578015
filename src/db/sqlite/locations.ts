// Where recently loaded block versions lie, so that loading a block again (a page dropped and faulted
// back) skips the index query: a direct-mapped table in one Float64Array (nothing allocated per load).
//
// Why it is right: a block version is immutable and never rewritten in place. An entry says "as of any
// snapshot in [tid, atMax] the block is this version (or none, tid = -1)": it was found as the newest
// version <= atMax by a query that ran after every commit <= atMax had committed (atMax <= a head this
// storage saw), and tids are allocated above the head, so no version in (tid, atMax] can appear later.
// A pack may drop the version or move its image to another segment and unlink the old one: a reader whose
// descriptor of the old segment is still open reads the same immutable bytes; one that has to open it
// again finds it gone (SegmentGone), drops the entry and asks the index. A snapshot a pack passed is still
// StaleSnapshotError: the storage checks the cutoff before using an entry (SQLiteStorage#fresh, re-read
// only when PRAGMA data_version says another connection committed). Only whole images, tombstones and
// "never written" are kept (a piece version's chain is read from the index), and every image read is still
// verified against the checksum kept with it.
import type { Tid } from '../storage.ts'

/** No version as of the snapshot: the block reads as zeros. */
export const NONE = -1

const SLOTS = 1 << 14
const W = 9 // file, blk, tid, atMax, kind, seg, off, len, sum

export class Locations {
  readonly #t = new Float64Array(SLOTS * W).fill(-1)

  /** The slot holding (file, blk) valid as of `at`, or -1. */
  find(file: number, blk: number, at: Tid): number {
    const i = slotOf(file, blk)
    const t = this.#t
    return t[i] === file && t[i + 1] === blk && t[i + 2] <= at && at <= t[i + 3] ? i : -1
  }

  put(
    file: number,
    blk: number,
    tid: Tid,
    atMax: Tid,
    kind: number,
    seg: number,
    off: number,
    len: number,
    sum: number,
  ): void {
    const i = slotOf(file, blk)
    const t = this.#t
    t[i] = file
    t[i + 1] = blk
    t[i + 2] = tid
    t[i + 3] = atMax
    t[i + 4] = kind
    t[i + 5] = seg
    t[i + 6] = off
    t[i + 7] = len
    t[i + 8] = sum
  }

  tid(i: number): number {
    return this.#t[i + 2]
  }
  kind(i: number): number {
    return this.#t[i + 4]
  }
  seg(i: number): number {
    return this.#t[i + 5]
  }
  off(i: number): number {
    return this.#t[i + 6]
  }
  len(i: number): number {
    return this.#t[i + 7]
  }
  sum(i: number): number {
    return this.#t[i + 8]
  }

  drop(i: number): void {
    this.#t[i] = -1
  }

  clear(): void {
    this.#t.fill(-1)
  }
}

function slotOf(file: number, blk: number): number {
  return (((Math.imul(file, 0x9e3779b1) ^ Math.imul(blk, 0x85ebca6b)) >>> 0) % SLOTS) * W
}
