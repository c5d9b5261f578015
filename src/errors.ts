/**
 * Every error bigfile throws, for every layer (virtmem, db, rawfile, array, cli), in one module. Each is a
 * `BigFileError` subclass with a stable string `code`; the SQLite driver's errors are mapped onto these by
 * `db/sqlite/errors.ts`. A failure caused by something else (a storage's own error) keeps it in `cause`.
 *
 * Branch on `code`, not on `instanceof`: codes survive two copies of the package in one process and
 * serialisation across processes, and they are the stable part of the API (messages are not).
 *
 * ```ts
 * try {
 *   await conn.commit()
 * } catch (e) {
 *   if (!(e instanceof Error) || !('code' in e)) throw e
 *   switch (e.code) {
 *     case 'ECONFLICT': // someone else committed first: abort() and redo the transaction
 *     case 'EBUSY': // a pin for writing is still held: release it and retry
 *       break
 *     default:
 *       throw e
 *   }
 * }
 * ```
 *
 * A storage's error during a page fault reaches the caller as the `cause` of a LoadError (`ELOAD`): a read
 * of a snapshot older than another process's pack is ELOAD with cause ESTALE, a damaged block ELOAD with
 * cause ECORRUPT. Storage calls made directly (commit, `db.check`, `storage.loadBlock`) throw them as is.
 *
 * Codes: EINVAL, ERANGE, ENOMEM, EWOULDBLOCK, EDEADLK, ELOAD, ESTORE, ERETRY, ECLOSED, EBUSY, ECONFLICT,
 * ECORRUPT, EVERSION, ENOENT, EEXIST, ELOCKED, ESTORAGE (and its subclass CommitRefreshError), ESTALE, EPURGED,
 * EVOLATILE, EROFS, EABORT, ENOSPC (SpillFullError), ESPILL (SpillError), and from the PostgreSQL storage
 * ECONNECTION, EAUTH and ETIMEOUT. Fields named `pgoffset` are file page numbers; `blk` is a block number.
 */
import { readonlyFields } from './util/readonly.ts'

/** The base class of every error bigfile throws; branch on its `code`, read the underlying failure in `cause`. */
export class BigFileError extends Error {
  /** A stable string naming the kind of failure (`'EINVAL'`, `'ECONFLICT'`, ...); see the module's list. */
  readonly code: string
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
    readonlyFields(this, ['code'])
  }
}

/** Bad argument: wrong type, out of range, not a power of two, ... */
export class InvalidArgumentError extends BigFileError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EINVAL', message, options)
  }
}

/** An access outside a VMA or a file. */
export class OutOfRangeError extends BigFileError {
  constructor(message: string) {
    super('ERANGE', message)
  }
}

/** No frame, and waiting can never free one: the frames hold dirty pages or pins that will not go. */
export class OutOfMemoryError extends BigFileError {
  constructor(message: string) {
    super('ENOMEM', message)
  }
}

/**
 * Dirty pages must go to the spill file and it cannot take them: the `maxSpill` bound is reached or the
 * disk is full (`cause` holds the system error then). Nothing was lost: the pages are still dirty in RAM,
 * the transaction can still commit (when memory allows) or abort.
 */
export class SpillFullError extends BigFileError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENOSPC', message, options)
  }
}

/** The spill file could not be created, written or read back (`cause` holds the system error). */
export class SpillError extends BigFileError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ESPILL', message, options)
  }
}

/** A synchronous access needs a page whose load is asynchronous: await `vma.fault()` first. */
export class WouldBlockError extends BigFileError {
  /** The file page number the access needed. */
  readonly pgoffset: number
  constructor(pgoffset: number, message: string) {
    super('EWOULDBLOCK', message)
    this.pgoffset = pgoffset
    readonlyFields(this, ['pgoffset'])
  }
}

/** A synchronous fault re-entered a page that this very call stack is loading. */
export class DeadlockError extends BigFileError {
  constructor(message: string) {
    super('EDEADLK', message)
  }
}

/** `loadblk` threw or rejected while filling page `pgoffset`; `cause` holds the storage's error. */
export class LoadError extends BigFileError {
  /** The file page being loaded. */
  readonly pgoffset: number
  /** The block whose loadblk failed. */
  readonly blk: number
  constructor(pgoffset: number, blk: number, cause: unknown) {
    super('ELOAD', `loading page ${pgoffset}: loadblk(${blk}) failed: ${describe(cause)}`, { cause })
    this.pgoffset = pgoffset
    this.blk = blk
    readonlyFields(this, ['pgoffset', 'blk'])
  }
}

/** `storeblk` threw or rejected; `cause` holds the storage's error. */
export class StoreError extends BigFileError {
  /** The block whose storeblk failed. */
  readonly blk: number
  constructor(blk: number, cause: unknown) {
    super('ESTORE', `storeblk(${blk}) failed: ${describe(cause)}`, { cause })
    this.blk = blk
    readonlyFields(this, ['blk'])
  }
}

/**
 * An access kept losing its page before it could use it — the load invalidated mid-way, or the page
 * invalidated, reclaimed or dropped between its fault and the access — and gave up after `maxRetries`.
 */
export class FaultRetryError extends BigFileError {
  /** The file page number the access needed. */
  readonly pgoffset: number
  constructor(pgoffset: number, retries: number) {
    super(
      'ERETRY',
      `page ${pgoffset} was dropped (invalidated or reclaimed) before the access could use it, ${retries} time(s) in a row; giving up (FileH maxRetries)`,
    )
    this.pgoffset = pgoffset
    readonlyFields(this, ['pgoffset'])
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
    readonlyFields(this, ['file', 'blocks'])
  }
}

/** A storage file that is not what it should be: not a database, truncated, wrong version, bad journal. */
export class CorruptError extends BigFileError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ECORRUPT', message, options)
  }
}

/**
 * A stored block or file record whose checksum does not match its contents: damage on disk below
 * SQLite's own checks. Names the file, the block (undefined for a record) and the tid of the version.
 */
export class ChecksumError extends CorruptError {
  /** The name of the damaged file. */
  readonly file: string
  /** The damaged block, or undefined when the file record itself is damaged. */
  readonly blk: number | undefined
  /** The tid of the damaged version. */
  readonly tid: number
  constructor(where: string, file: string, blk: number | undefined, tid: number) {
    super(
      `${where}: ${blk === undefined ? 'the record' : `block ${blk}`} of file ${file} at tid ${tid} fails its checksum (damaged on disk)`,
    )
    this.file = file
    this.blk = blk
    this.tid = tid
    readonlyFields(this, ['file', 'blk', 'tid'])
  }
}

/** A storage file in a format version this bigfile does not read (older or newer). */
export class VersionError extends BigFileError {
  /** The format version found in the file. */
  readonly found: number
  /** The only format version this bigfile reads. */
  readonly expected: number
  constructor(path: string, found: number, expected: number) {
    super(
      'EVERSION',
      `${path} is a bigfile database of format version ${found}; this bigfile reads version ${expected} only`,
    )
    this.found = found
    this.expected = expected
    readonlyFields(this, ['found', 'expected'])
  }
}

/** A named thing (file, database, raw file) does not exist. */
export class NotFoundError extends BigFileError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENOENT', message, options)
  }
}

/** A named thing already exists. */
export class ExistsError extends BigFileError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EEXIST', message, options)
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
  /** The file page number the access needed. */
  readonly pgoffset: number
  constructor(pgoffset: number) {
    super('EPURGED', `page ${pgoffset} was purged while volatile; markNonVolatile() it before access`)
    this.pgoffset = pgoffset
    readonlyFields(this, ['pgoffset'])
  }
}

/** Strict volatile mode: a write to a page in a volatile range. */
export class VolatileWriteError extends BigFileError {
  /** The file page number the access needed. */
  readonly pgoffset: number
  constructor(pgoffset: number) {
    super('EVOLATILE', `page ${pgoffset} is volatile; markNonVolatile() it before writing`)
    this.pgoffset = pgoffset
    readonlyFields(this, ['pgoffset'])
  }
}

/**
 * A write to something opened read-only: a raw file in mode 'r' (its changes stay in memory to discard), a
 * FileH with `readOnly`, a historical connection (`db.connect({ ram, at })`).
 */
export class ReadOnlyError extends BigFileError {
  constructor(message: string) {
    super('EROFS', message)
  }
}

/**
 * A snapshot older than the last pack: versions it needs may be gone. Reconnect or sync(). A read through
 * the VM gets it as the `cause` of a LoadError (ELOAD); a commit gets it directly.
 */
export class StaleSnapshotError extends BigFileError {
  /** The tid of the stale snapshot. */
  readonly at: number
  /** The pack cutoff tid: versions older than it may be gone. */
  readonly packed: number
  constructor(at: number, packed: number, advice = 'sync() or abort() to move on') {
    super(
      'ESTALE',
      `snapshot at tid ${at} is older than the pack cutoff ${packed}: its data may be gone; ${advice}`,
    )
    this.at = at
    this.packed = packed
    readonlyFields(this, ['at', 'packed'])
  }
}

/**
 * The commit is durable as `tid`, but reading what others changed meanwhile failed, so the connection
 * stays at its old snapshot: `abort()` or `sync()` moves it on (nothing is lost; do not commit again).
 */
export class CommitRefreshError extends StorageError {
  /** The tid the commit is durable as. */
  readonly tid: number
  constructor(tid: number, cause: unknown) {
    super(
      `committed as tid ${tid}, but moving the connection to it failed (${describe(cause)}): call abort() or sync()`,
      {
        cause,
      },
    )
    this.tid = tid
    readonlyFields(this, ['tid'])
  }
}

/** A long operation was stopped by its AbortSignal; `cause` is the signal's reason. */
export class AbortError extends BigFileError {
  constructor(reason: unknown) {
    super('EABORT', `aborted${reason instanceof Error ? `: ${reason.message}` : ''}`, { cause: reason })
  }
}

/** The database server cannot be reached or went away: refused, reset, backend terminated, shut down. */
export class ConnectionError extends BigFileError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ECONNECTION', message, options)
  }
}

/** The database server refused the credentials (wrong password, unknown role, no pg_hba entry). */
export class AuthenticationError extends BigFileError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EAUTH', message, options)
  }
}

/** A statement ran longer than the server's `statement_timeout` (or was cancelled) and was stopped. */
export class TimeoutError extends BigFileError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETIMEOUT', message, options)
  }
}
