// A VMA's page table, sparse: its memory follows the pages mapped, not the range (wendelin's pagemap is a
// radix tree for the same reason). Two levels: leaves of LEAF entries, allocated when a page of theirs is
// mapped and freed when their last page is unmapped; a dense directory for the first NEAR leaves (the range
// the hit path covers) and a Map for leaves beyond it, so that even 2^38 pages cost nothing until touched.

import { InvalidArgumentError, OutOfRangeError } from '../errors.ts'

/** log2 of the entries per leaf. */
export const LEAF_BITS = 9
/** Entries per leaf: 512 (2 KiB), as wendelin's pagemap levels. */
export const LEAF = 1 << LEAF_BITS
/** `i & LEAF_MASK` is page i's slot in its leaf. */
export const LEAF_MASK = LEAF - 1
/**
 * Leaves in the dense directory: 2048 cover 2^20 pages, the first 4 GiB of a VMA of 4 KiB pages (more for
 * bigger pages), which is all the hit path reaches (it shifts 32-bit offsets). At most 16 KiB of pointers.
 */
const NEAR = 2048

/**
 * The one leaf every unallocated directory slot points to: all -1, never written (set() replaces it first),
 * so a lookup is two loads and no test for a missing leaf.
 */
const EMPTY: Int32Array = new Int32Array(LEAF + 1).fill(-1)
EMPTY[LEAF] = 0

/**
 * Entry i is `frame * 2 + writable` when page i is mapped, else -1. A leaf holds LEAF entries and, in its
 * extra last slot, how many of them are mapped (indexes stay below LEAF, so lookups never see it).
 */
export class PageTable {
  /** Number of entries (the VMA's pglen). */
  readonly length: number
  /**
   * @internal The dense directory, for the VMA's hit path: page i < near.length * LEAF has its entry at
   * `near[i >>> LEAF_BITS][i & LEAF_MASK]`. Its array never changes; its slots do.
   */
  readonly near: Int32Array[]
  /** Leaves past the dense directory, by leaf number. */
  readonly #far = new Map<number, Int32Array>()
  #mapped = 0
  #leaves = 0

  constructor(length: number) {
    this.length = length
    this.near = new Array<Int32Array>(Math.min(Math.ceil(length / LEAF), NEAR)).fill(EMPTY)
  }

  /** How many entries are mapped. */
  get mapped(): number {
    return this.#mapped
  }

  /** How many leaves are allocated (each LEAF + 1 int32s): the table's memory, beyond its directory. */
  get leaves(): number {
    return this.#leaves
  }

  /** Entry i, or -1 when page i is not mapped (also for any i outside [0, length)). */
  get(i: number): number {
    if (i >>> 0 === i && i < LEAF * NEAR) {
      const leaf = this.near[i >>> LEAF_BITS]
      return leaf === undefined ? -1 : leaf[i & LEAF_MASK]
    }
    return this.#getFar(i)
  }

  #getFar(i: number): number {
    if (!(Number.isInteger(i) && i >= 0 && i < this.length)) return -1
    const k = Math.floor(i / LEAF)
    const leaf = this.#far.get(k)
    return leaf === undefined ? -1 : leaf[i - k * LEAF]
  }

  /** Sets entry i (0 <= i < length, an integer) to `e` >= 0, allocating its leaf if needed. */
  set(i: number, e: number): void {
    if (!(Number.isInteger(i) && i >= 0 && i < this.length))
      throw new OutOfRangeError(`page table entry ${i} is outside [0, ${this.length})`)
    if (!(Number.isInteger(e) && e >= 0)) throw new InvalidArgumentError(`bad page table entry ${e}`)
    const k = Math.floor(i / LEAF)
    const leaf = this.#leaf(k, true) as Int32Array
    const at = i - k * LEAF
    if (leaf[at] < 0) {
      leaf[LEAF]++
      this.#mapped++
    }
    leaf[at] = e
  }

  /** Unmaps entry i; a leaf whose last entry this was is freed. No-op when it is not mapped. */
  clear(i: number): void {
    if (!(this.get(i) >= 0)) return
    const k = Math.floor(i / LEAF)
    const leaf = this.#leaf(k, false) as Int32Array
    leaf[i - k * LEAF] = -1
    this.#mapped--
    if (--leaf[LEAF] === 0) this.#drop(k)
  }

  /** Unmaps every entry and frees every leaf. */
  clearAll(): void {
    this.near.fill(EMPTY)
    this.#far.clear()
    this.#mapped = 0
    this.#leaves = 0
  }

  /** Calls fn(i, entry) for every mapped entry, in ascending i. fn must not set or clear entries. */
  forEachMapped(fn: (i: number, e: number) => void): void {
    const visit = (k: number, leaf: Int32Array) => {
      for (let j = 0; j < LEAF; j++) if (leaf[j] >= 0) fn(k * LEAF + j, leaf[j])
    }
    for (let k = 0; k < this.near.length; k++) if (this.near[k] !== EMPTY) visit(k, this.near[k])
    if (this.#far.size === 0) return
    for (const k of [...this.#far.keys()].sort((a, b) => a - b)) visit(k, this.#far.get(k) as Int32Array)
  }

  /** Leaf k, allocated when `make` (and missing); undefined when missing and not `make`. */
  #leaf(k: number, make: boolean): Int32Array | undefined {
    let leaf = k < NEAR ? this.near[k] : this.#far.get(k)
    if ((leaf === undefined || leaf === EMPTY) && make) {
      leaf = new Int32Array(LEAF + 1).fill(-1)
      leaf[LEAF] = 0
      if (k < NEAR) this.near[k] = leaf
      else this.#far.set(k, leaf)
      this.#leaves++
    }
    return leaf === EMPTY ? undefined : leaf
  }

  #drop(k: number): void {
    if (k < NEAR) this.near[k] = EMPTY
    else this.#far.delete(k)
    this.#leaves--
  }
}
