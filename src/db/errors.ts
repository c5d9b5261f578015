// Errors of the transactional layer that src/errors.ts does not have (yet).
import { BigFileError, StorageError } from '../errors.ts'

/** A snapshot older than the last pack: versions it needs may be gone. Reconnect or sync(). */
export class StaleSnapshotError extends BigFileError {
  readonly at: number
  readonly packed: number
  constructor(at: number, packed: number) {
    super(
      'ESTALE',
      `snapshot at tid ${at} is older than the pack cutoff ${packed}: its data may be gone; sync() or abort() to move on`,
    )
    this.at = at
    this.packed = packed
  }
}

/**
 * The commit is durable as `tid`, but reading what others changed meanwhile failed, so the connection
 * stays at its old snapshot: `abort()` or `sync()` moves it on (nothing is lost; do not commit again).
 */
export class CommitRefreshError extends StorageError {
  readonly tid: number
  constructor(tid: number, cause: unknown) {
    super(
      `committed as tid ${tid}, but moving the connection to it failed (${cause instanceof Error ? cause.message : String(cause)}): call abort() or sync()`,
      { cause },
    )
    this.tid = tid
  }
}
