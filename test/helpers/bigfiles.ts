// The BigFile test doubles: every test that needs a storage it can watch, steer or break takes one of these.
import assert from 'node:assert/strict'
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

// ------------------------------------------------------------------ failing on chosen calls

/**
 * sync-throw: answers synchronously, a failing call throws.
 * async-reject: answers with Promises, a failing call rejects (on a later macrotask).
 * async-throw: answers with Promises, but a failing call throws before returning one.
 */
export type FaultMode = 'sync-throw' | 'async-reject' | 'async-throw'
export const FAULT_MODES: readonly FaultMode[] = ['sync-throw', 'async-reject', 'async-throw']

export class InjectedError extends Error {}

export class FaultFile implements BigFile {
  readonly blksize: number
  readonly mode: FaultMode
  readonly blocks = new Map<number, Uint8Array>()
  loadCalls = 0
  storeCalls = 0
  /** Whether call number n (1-based, counted per kind) fails. */
  failLoad: (n: number) => boolean = () => false
  failStore: (n: number) => boolean = () => false
  readonly injected: InjectedError[] = []

  constructor(blksize: number, mode: FaultMode) {
    this.blksize = blksize
    this.mode = mode
  }

  loadblk(blk: number, buf: Uint8Array): void | Promise<void> {
    const n = ++this.loadCalls
    const fail = this.failLoad(n) ? this.#inject(`loadblk call ${n} (blk ${blk})`) : null
    return this.#answer(fail, () => {
      const d = this.blocks.get(blk)
      if (d) buf.set(d)
      else buf.fill(0)
    })
  }

  storeblk(blk: number, buf: Uint8Array): void | Promise<void> {
    const n = ++this.storeCalls
    const fail = this.failStore(n) ? this.#inject(`storeblk call ${n} (blk ${blk})`) : null
    const copy = buf.slice()
    return this.#answer(fail, () => this.blocks.set(blk, copy))
  }

  #inject(what: string): InjectedError {
    const e = new InjectedError(`injected failure of ${what}`)
    this.injected.push(e)
    return e
  }

  #answer(fail: InjectedError | null, work: () => void): void | Promise<void> {
    if (fail && this.mode !== 'async-reject') throw fail
    if (this.mode === 'sync-throw') return work()
    return new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        if (fail) reject(fail)
        else {
          work()
          resolve()
        }
      }),
    )
  }
}

// ------------------------------------------------------------------ loads the test settles

/** A storage whose loads wait until the test settles them. */
export class DeferredFile implements BigFile {
  readonly blksize: number
  readonly blocks = new Map<number, Uint8Array>()
  readonly pending: { blk: number; resolve(): void; reject(e: unknown): void }[] = []
  loadCalls = 0

  constructor(blksize: number) {
    this.blksize = blksize
  }

  loadblk(blk: number, buf: Uint8Array): Promise<void> {
    this.loadCalls++
    const data = this.blocks.get(blk)?.slice() ?? new Uint8Array(this.blksize)
    return new Promise<void>((resolve, reject) => {
      this.pending.push({
        blk,
        resolve: () => {
          buf.set(data)
          resolve()
        },
        reject,
      })
    })
  }

  storeblk(blk: number, buf: Uint8Array): void {
    this.blocks.set(blk, buf.slice())
  }
}

// ------------------------------------------------------------------ driven by a model test

export type LoadMode = 'sync' | 'async' | 'mixed'

export interface PendingLoad {
  file: CtlFile
  blk: number
  /** The block changed since the load began. */
  stale(): boolean
  complete(): void
  /** The storage fails this load (rejects with a LoadFailure). */
  fail(): void
}

export class LoadFailure extends Error {}

/**
 * A BigFile the test drives: loads answer synchronously, or wait in `pending` until the test completes
 * them. Loads deliver the block as it was when loadblk was called. Stores are recorded and applied at call.
 */
export class CtlFile implements BigFile {
  readonly blksize: number
  readonly blocks = new Map<number, Uint8Array>()
  readonly stores: number[] = []
  readonly mode: LoadMode
  readonly asyncStore: boolean
  readonly #rng: () => number
  readonly #pending: PendingLoad[]

  constructor(
    blksize: number,
    mode: LoadMode,
    asyncStore: boolean,
    rng: () => number,
    pending: PendingLoad[],
  ) {
    this.blksize = blksize
    this.mode = mode
    this.asyncStore = asyncStore
    this.#rng = rng
    this.#pending = pending
  }

  snapshot(blk: number): Uint8Array {
    return this.blocks.get(blk)?.slice() ?? new Uint8Array(this.blksize)
  }

  loadblk(blk: number, buf: Uint8Array): void | Promise<void> {
    assert.equal(buf.length, this.blksize)
    const data = this.snapshot(blk)
    if (this.mode === 'sync' || (this.mode === 'mixed' && this.#rng() < 0.5)) {
      buf.set(data)
      return
    }
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({
        file: this,
        blk,
        stale: () => Buffer.compare(data, this.snapshot(blk)) !== 0,
        complete: () => {
          buf.set(data)
          resolve()
        },
        fail: () => reject(new LoadFailure(`load of block ${blk} failed`)),
      })
    })
  }

  storeblk(blk: number, buf: Uint8Array): void | Promise<void> {
    assert.equal(buf.length, this.blksize)
    this.stores.push(blk)
    this.blocks.set(blk, buf.slice())
    if (this.asyncStore) return new Promise<void>((resolve) => setImmediate(resolve))
  }
}
