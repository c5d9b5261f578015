import type { BigFile } from '../../src/index.ts'

/** A BigFile over a Map whose calls are recorded; block content is `fill(blk)` until stored. */
export class RecordingFile implements BigFile {
  readonly blksize: number
  readonly blocks = new Map<number, Uint8Array>()
  readonly loads: number[] = []
  readonly stores: number[] = []
  readonly fill: (blk: number) => number

  constructor(blksize: number, fill: (blk: number) => number = (blk) => (blk + 1) & 0xff) {
    this.blksize = blksize
    this.fill = fill
  }

  content(blk: number): Uint8Array {
    return this.blocks.get(blk) ?? new Uint8Array(this.blksize).fill(this.fill(blk))
  }

  loadblk(blk: number, buf: Uint8Array): void {
    this.loads.push(blk)
    buf.set(this.content(blk))
  }

  storeblk(blk: number, buf: Uint8Array): void {
    this.stores.push(blk)
    this.blocks.set(blk, buf.slice())
  }
}

interface Pending {
  blk: number
  buf: Uint8Array
  resolve: () => void
  reject: (e: unknown) => void
}

/**
 * A BigFile whose loads wait until the test completes them: `complete(blk)` copies the block's content
 * *at completion time* into the buffer and resolves.
 */
export class ControlledFile implements BigFile {
  readonly blksize: number
  readonly blocks = new Map<number, Uint8Array>()
  readonly pending: Pending[] = []
  loads = 0
  /** Called inside loadblk, before it returns its Promise (for re-entrancy tests). */
  onLoad: ((blk: number) => void) | undefined = undefined

  constructor(blksize: number) {
    this.blksize = blksize
  }

  set(blk: number, value: number): void {
    this.blocks.set(blk, new Uint8Array(this.blksize).fill(value))
  }

  loadblk(blk: number, buf: Uint8Array): Promise<void> {
    this.loads++
    this.onLoad?.(blk)
    return new Promise((resolve, reject) => this.pending.push({ blk, buf, resolve, reject }))
  }

  storeblk(blk: number, buf: Uint8Array): void {
    this.blocks.set(blk, buf.slice())
  }

  /** Completes the oldest pending load of `blk` (or the oldest of all). */
  complete(blk?: number): void {
    const i = blk === undefined ? 0 : this.pending.findIndex((p) => p.blk === blk)
    if (i < 0) throw new Error(`no pending load of block ${blk}`)
    const [p] = this.pending.splice(i, 1)
    const data = this.blocks.get(p.blk)
    if (data) p.buf.set(data)
    else p.buf.fill(0)
    p.resolve()
  }

  fail(blk: number, error: unknown): void {
    const i = this.pending.findIndex((p) => p.blk === blk)
    const [p] = this.pending.splice(i, 1)
    p.reject(error)
  }
}

/** Lets every queued microtask and immediate run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
