// The VMA an array and all its views read through. Shared, so that a database array that grows can map a
// larger VMA once and every view follows; it grows by doubling, keeping resize O(1) amortised.
import type { FileH } from '../virtmem/fileh.ts'
import type { VMA } from '../virtmem/vma.ts'

/** The file a memmap'ed array owns: it commits, aborts and closes with the array. */
export interface MappedFile {
  commit(): void
  abort(): void
  /** Unmaps what is still mapped and closes the file. */
  [Symbol.dispose](): void
}

export class SharedVMA {
  readonly fileh: FileH
  /** First file page of the VMA; offsets in layouts are relative to it. */
  readonly pgoffset: number
  /** The file opened for this array alone (memmap), closed with it; undefined otherwise. */
  readonly owner: MappedFile | undefined
  vma: VMA

  constructor(fileh: FileH, pgoffset: number, bytes: number, owner?: MappedFile) {
    this.fileh = fileh
    this.pgoffset = pgoffset
    this.owner = owner
    this.vma = fileh.mmap(pgoffset, pagesFor(bytes, fileh.pagesize))
  }

  /** Makes the VMA cover at least `bytes` bytes from its start, mapping a larger one in its place. */
  ensure(bytes: number): void {
    if (bytes <= this.vma.byteLength) return
    const pages = Math.max(pagesFor(bytes, this.fileh.pagesize), this.vma.pglen * 2)
    const old = this.vma
    this.vma = this.fileh.mmap(this.pgoffset, pages)
    old.unmap()
  }

  /** Unmaps the window; an owned file is closed too (its uncommitted changes dropped). */
  unmap(): void {
    this.vma.unmap()
    this.owner?.[Symbol.dispose]()
  }
}

function pagesFor(bytes: number, pagesize: number): number {
  return Math.max(1, Math.ceil(bytes / pagesize))
}
