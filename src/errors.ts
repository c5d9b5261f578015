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

/** A commit lost to another one: something it writes changed after its snapshot (first committer wins). */
export class ConflictError extends BigFileError {
  /** The file whose blocks or metadata conflicted. */
  readonly file: string
  /** The conflicting blocks (empty when only metadata conflicted). */
  readonly blocks: readonly number[]
  constructor(file: string, blocks: readonly number[], message?: string) {
    super(
      'ECONFLICT',
      message ??
        `conflict on file ${JSON.stringify(file)}: ${blocks.length ? `blocks ${blocks.join(', ')}` : 'metadata'} changed after this transaction's snapshot`,
    )
    this.file = file
    this.blocks = blocks
  }
}

/** A storage file that is not what it should be: not a database, truncated, wrong version, bad journal. */
export class CorruptError extends BigFileError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ECORRUPT', message, options)
  }
}

/** A named thing (file, database, raw file) does not exist. */
export class NotFoundError extends BigFileError {
  constructor(message: string) {
    super('ENOENT', message)
  }
}

/** A named thing already exists. */
export class ExistsError extends BigFileError {
  constructor(message: string) {
    super('EEXIST', message)
  }
}

/** Another writer holds the lock. */
export class LockedError extends BigFileError {
  constructor(message: string) {
    super('ELOCKED', message)
  }
}

/** A storage call failed (I/O, driver, server); `cause` holds the original error. */
export class StorageError extends BigFileError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ESTORAGE', message, options)
  }
}

/** Strict volatile mode: an access to a page whose contents were purged (the SIGBUS analogue). */
export class PurgedError extends BigFileError {
  readonly pgoffset: number
  constructor(pgoffset: number) {
    super('EPURGED', `page ${pgoffset} was purged while volatile; markNonVolatile() it before access`)
    this.pgoffset = pgoffset
  }
}

/** Strict volatile mode: a write to a page in a volatile range. */
export class VolatileWriteError extends BigFileError {
  readonly pgoffset: number
  constructor(pgoffset: number) {
    super('EVOLATILE', `page ${pgoffset} is volatile; markNonVolatile() it before writing`)
    this.pgoffset = pgoffset
  }
}

/** A write to something opened read-only (a raw file in mode 'r'): the changes stay in memory to discard. */
export class ReadOnlyError extends BigFileError {
  constructor(message: string) {
    super('EROFS', message)
  }
}
