/**
 * The storage contract of the transactional layer: what a Database needs from SQLite, PostgreSQL or
 * any other backend. Every method is Awaitable, so synchronous backends (node:sqlite) stay on the fast
 * path and asynchronous ones (PostgreSQL) fit without a second API.
 *
 * Decisions, in short (ARCHITECTURE.md has the long form):
 * - **Tids** are positive integers, strictly increasing, one per commit; 0 is the empty database. A
 *   snapshot ("at") is a tid: it sees every commit with tid <= at and nothing newer.
 * - **Blocks are versioned**: a block write stores a new row keyed (file, blk, tid); a read as of `at`
 *   takes the newest row with tid <= at. A `null` row (tombstone) reads as zeros; so does a block
 *   never written. Shrinking a file writes tombstones for the blocks it drops.
 * - **File records are versioned** the same way: (file, tid) → name, blksize, size, meta; a record
 *   with `name === null` means deleted. File ids are never reused.
 * - **A commit log** row per (tid, file) lists the blocks written and whether the record changed. It
 *   drives conflict checks (first committer wins) and invalidation (what changed between two tids).
 *   Each commit also records its time, never earlier than the commit before it, so that a time picks
 *   one snapshot (`tidAt`); `log` reads it all back as data, newest first.
 * - **Commit** is a transaction object: `begin()` takes the write lock and allocates the tid;
 *   `checkConflicts(at, touched)` checks `touched` against the log after `at`, throwing ConflictError
 *   (a transaction that commits on its own, like `db.createFile`, skips it); then file operations and
 *   block writes stream into it (the VM's writeout writes straight into the open transaction, no copy
 *   held); `commit()` writes the log rows and makes it durable, `rollback()` forgets everything.
 *   One writer at a time per database (in-process queue plus the backend's lock).
 * - **Pack** with a cutoff tid C keeps, for every block and record, all versions newer than C and the
 *   newest version <= C (dropped if it is a tombstone or a deletion), and the log from C on (C's own
 *   entry included, so `log` and `tidAt` still see the oldest readable commit). Every snapshot at >= C
 *   reads exactly what it read before; snapshots older than C are gone (StaleSnapshotError on read,
 *   `changes()` answers `null`, `packed()` answers C).
 */
import type { ChecksumError } from '../errors.ts'
import type { Awaitable } from '../util/awaitable.ts'

/** A transaction id: 1, 2, 3, ... in commit order; 0 is the empty database. */
export type Tid = number

/** JSON-serializable metadata of a file (the array layer keeps dtype, shape, order here). */
export type Meta = { [key: string]: unknown }

/** A file as of some tid. */
export interface FileRecord {
  /** The file id: never reused, also after deletion. */
  readonly id: number
  /** The file's name as of that tid. */
  readonly name: string
  /** Bytes per block, fixed at creation. */
  readonly blksize: number
  /** Size in bytes. Blocks at or beyond it are not guaranteed to keep data (shrinking drops them). */
  readonly size: number
  /** The file's metadata as of that tid. */
  readonly meta: Meta
  /** The tid of the commit that last changed this record. */
  readonly tid: Tid
}

/** What a commit is about to change in one file, for the conflict check at `begin`. */
export interface Touched {
  /** File id, or undefined for a file this transaction creates. */
  readonly file: number | undefined
  /** Its name (for messages; for a new file: a name nobody else may have taken after `at`). */
  readonly name: string
  /** Blocks the commit writes, ascending. */
  readonly blocks: readonly number[]
  /** Whether the commit changes the record (size, meta, name, deletion). */
  readonly record: boolean
}

/** One commit's effect on one file, as read from the log. */
export interface Change {
  /** The commit. */
  readonly tid: Tid
  /** The file id. */
  readonly file: number
  /** Blocks written (tombstones included), ascending. */
  readonly blocks: readonly number[]
  /** The record changed (size, meta, name or deletion). */
  readonly record: boolean
}

/** A file to create: `StorageTxn.createFile`. */
export interface NewFile {
  /** A name no live file has. */
  readonly name: string
  /** Bytes per block. */
  readonly blksize: number
  /** The initial size in bytes (blocks read as zeros). */
  readonly size: number
  /** The initial metadata. */
  readonly meta: Meta
}

/** What `StorageTxn.updateFile` changes; a field left out keeps its value. */
export interface FilePatch {
  /** A new name (rename); ExistsError when a live file has it. */
  readonly name?: string
  /** A new size in bytes. */
  readonly size?: number
  /** New metadata, replacing the old whole. */
  readonly meta?: Meta
}

/** An open write transaction; obtained from `Storage.begin`. */
export interface StorageTxn {
  /** The tid this transaction commits as. */
  readonly tid: Tid
  /**
   * Checks `touched` against the commits after `at` (first committer wins): ConflictError naming the
   * file and blocks, StaleSnapshotError when `at` is older than the pack cutoff. Roll back after it.
   */
  checkConflicts(at: Tid, touched: readonly Touched[]): Awaitable<void>
  /** Creates a file; ExistsError when a live file has that name. Returns its id. */
  createFile(spec: NewFile): Awaitable<number>
  /** Changes a file's record; ExistsError on a rename onto a live name, NotFoundError if deleted. */
  updateFile(file: number, patch: FilePatch): Awaitable<void>
  /** Deletes a file (its record becomes a deletion; the id is never reused). */
  deleteFile(file: number): Awaitable<void>
  /** Writes tombstones for every stored block >= `fromBlk` that is not already zero. */
  dropBlocks(file: number, fromBlk: number): Awaitable<void>
  /** Writes one block (`data.length === blksize`; copied before the call returns), or a tombstone. */
  writeBlock(file: number, blk: number, data: Uint8Array | null): Awaitable<void>
  /** Writes the log and makes the transaction durable. */
  commit(): Awaitable<void>
  /** Forgets everything written. Never throws. */
  rollback(): Awaitable<void>
}

/** What `Storage.pack` did. */
export interface PackResult {
  /** The cutoff tid: snapshots at >= cutoff still read exactly as before. */
  readonly cutoff: Tid
  /** The newest tid when the pack ran: the tids that stay readable are cutoff..head. */
  readonly head: Tid
  /** Block versions removed. */
  readonly blocksRemoved: number
  /** File record versions removed. */
  readonly recordsRemoved: number
}

/** One file's part in a commit, as the log tells it. */
export interface CommitFile {
  /** The file id. */
  readonly id: number
  /** Its name at that commit; for a deletion, the name it had until then. */
  readonly name: string
  /** Blocks written (tombstones included), ascending. */
  readonly blocks: readonly number[]
  /** The record changed (size, meta, name or deletion). */
  readonly record: boolean
  /** The commit deleted the file. */
  readonly deleted: boolean
}

/** One commit, as the log tells it. */
export interface Commit {
  /** The commit's tid. */
  readonly tid: Tid
  /** When it committed (the committer's clock, never earlier than the previous commit's time). */
  readonly time: Date
  /** The files it changed, by id. */
  readonly files: readonly CommitFile[]
}

/** Which commits `Storage.log` reads: from <= tid <= to, newest first, at most `limit`. */
export interface LogQuery {
  /** The oldest tid to read. */
  readonly from: Tid
  /** The newest tid to read. */
  readonly to: Tid
  /** At most this many commits (a positive integer, or Infinity). */
  readonly limit: number
  /** Only commits that changed this file, and only its entry in each. */
  readonly file?: number
}

/** How far a check has come; passed to `CheckOptions.onProgress`. */
export interface CheckProgress {
  /** Block versions verified so far, of `totalBlocks` stored when the check started. */
  readonly blocks: number
  /** Block versions stored when the check started. */
  readonly totalBlocks: number
  /** Bytes of block data verified so far, of `totalBytes`. */
  readonly bytes: number
  /** Bytes of block data stored when the check started. */
  readonly totalBytes: number
}

/** Options of `Storage.check` and `db.check()`. */
export interface CheckOptions {
  /** Called as the check goes on, with the blocks and bytes verified so far. */
  onProgress?: (p: CheckProgress) => void
  /** Stops the check with AbortError. */
  signal?: AbortSignal
  /** Keep at most this many damaged rows in the result (the scan goes on). Default 1000. */
  maxDamage?: number
}

/** What a check verified, and the damage it found. */
export interface CheckResult {
  /** Block versions and file records verified, and the bytes of block data. */
  readonly blocks: number
  /** File records verified. */
  readonly records: number
  /** Bytes of block data verified. */
  readonly bytes: number
  /** The damaged blocks and records found (at most `maxDamage`), each naming file, block and tid. */
  readonly damage: readonly ChecksumError[]
}

/** The contract between a Database and its backend (SQLite, PostgreSQL, ...); see the module comment. */
export interface Storage {
  /** The newest committed tid. */
  head(): Awaitable<Tid>
  /** Live files as of `at`, by name. */
  listFiles(at: Tid): Awaitable<FileRecord[]>
  /** The live file named `name` as of `at`; undefined when there is none. */
  fileByName(name: string, at: Tid): Awaitable<FileRecord | undefined>
  /** The file as of `at`; undefined if it did not exist or was deleted. */
  fileById(id: number, at: Tid): Awaitable<FileRecord | undefined>
  /** Fills `buf` (exactly blksize bytes) with block `blk` as of `at`; zeros when never written. */
  loadBlock(file: number, blk: number, at: Tid, buf: Uint8Array): Awaitable<void>
  /**
   * Optional, for read-ahead and scans: fills `buf` (exactly `count * blksize` bytes) with blocks `blk` ..
   * `blk + count - 1` as of `at`, as `loadBlock` would one by one, but in as few I/Os as the storage can.
   */
  loadBlocks?(file: number, blk: number, count: number, at: Tid, buf: Uint8Array): Awaitable<void>
  /** Log entries with after < tid <= upto, by tid; `null` when pack removed part of that history. */
  changes(after: Tid, upto: Tid): Awaitable<Change[] | null>
  /** The pack cutoff: snapshots at >= it read exactly, older ones are stale. 0 before the first pack. */
  packed(): Awaitable<Tid>
  /**
   * The newest tid whose commit time is at or before `time` (by the recorded commit times); 0 when no
   * commit the log still holds is that old (the empty database, or a commit older than the pack cutoff).
   */
  tidAt(time: Date): Awaitable<Tid>
  /** Commits from the log (see LogQuery), newest first; commits older than the pack cutoff are gone. */
  log(query: LogQuery): Awaitable<Commit[]>
  /** Starts the one write transaction: waits for other writers, takes the write lock, allocates the tid. */
  begin(): Awaitable<StorageTxn>
  /** Removes versions no snapshot at >= `cutoff` can read (see the rule above). */
  pack(cutoff: Tid): Awaitable<PackResult>
  /** Verifies every stored block version and file record against its checksum (if the storage keeps them). */
  check?(options?: CheckOptions): Promise<CheckResult>
  /** Releases the storage and what it holds (an open transaction is rolled back). */
  close(): Awaitable<void>
  /**
   * Optional, for storages that push commits (PostgreSQL's NOTIFY): calls `fn` with every new tid,
   * in order, each once. Returns the unsubscribe function.
   */
  subscribe?(fn: (tid: Tid) => void): () => void
}
