// Typed errors shared by every layer: one base class with a stable string `code`
// so callers can branch without instanceof across package copies.

export class BigFileError extends Error {
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** Bad argument: wrong type, out of range, not a power of two, ... */
export class InvalidArgumentError extends BigFileError {
  constructor(message: string) {
    super('EINVAL', message)
  }
}

/** An access outside a VMA or a file. */
export class OutOfRangeError extends BigFileError {
  constructor(message: string) {
    super('ERANGE', message)
  }
}

/** The RAM budget is exhausted by pages that cannot be dropped (dirty, pinned, loading). */
export class OutOfMemoryError extends BigFileError {
  constructor(message: string) {
    super('ENOMEM', message)
  }
}

/** A synchronous access needs a page whose load is asynchronous: await `vma.fault()` first. */
export class WouldBlockError extends BigFileError {
  readonly pgoffset: number
  constructor(pgoffset: number, message: string) {
    super('EWOULDBLOCK', message)
    this.pgoffset = pgoffset
  }
}

/** A synchronous fault re-entered a page that this very call stack is loading. */
export class DeadlockError extends BigFileError {
  constructor(message: string) {
    super('EDEADLK', message)
  }
}

/** `loadblk` threw or rejected; `cause` holds the storage's error. */
export class LoadError extends BigFileError {
  readonly blk: number
  constructor(blk: number, cause: unknown) {
    super('ELOAD', `loadblk(${blk}) failed: ${describe(cause)}`, { cause })
    this.blk = blk
  }
}

/** `storeblk` threw or rejected; `cause` holds the storage's error. */
export class StoreError extends BigFileError {
  readonly blk: number
  constructor(blk: number, cause: unknown) {
    super('ESTORE', `storeblk(${blk}) failed: ${describe(cause)}`, { cause })
    this.blk = blk
  }
}

/** A fault kept losing its load to invalidations and gave up after the retry bound. */
export class FaultRetryError extends BigFileError {
  readonly pgoffset: number
  constructor(pgoffset: number, retries: number) {
    super('ERETRY', `fault on page ${pgoffset} was invalidated ${retries} times in a row; giving up`)
    this.pgoffset = pgoffset
  }
}

/** The object (FileH, VMA, RAM) was closed or unmapped. */
export class ClosedError extends BigFileError {
  constructor(message: string) {
    super('ECLOSED', message)
  }
}

/** The operation conflicts with one in progress or with live children (mappings, a writeout). */
export class BusyError extends BigFileError {
  constructor(message: string) {
    super('EBUSY', message)
  }
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
