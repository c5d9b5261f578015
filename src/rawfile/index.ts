/**
 * Raw-file storage: an existing binary file (the `numpy.memmap` use case) mapped through the VM.
 *
 * - **Model.** The file is `length` bytes after a header of `offset` bytes, cut into blocks of `blksize`
 *   (default: the RAM's pagesize). No history, no snapshots: a load reads what the file holds now. The
 *   file never grows or shrinks; mapping pages past its end read as zeros, and a commit that changed
 *   them fails with OutOfRangeError.
 * - **Sizes.** `offset`, `length` and `blksize` must be non-negative (blksize positive) safe integers.
 *   A `length` that is not a multiple of `blksize` is refused (it usually means the wrong blksize) unless
 *   `partialLastBlock: true`: then the last block is short and behaves as above past its end.
 * - **Modes.** `'r'` (default) opens the file read-only and takes no lock. The VM has no read-only
 *   mapping, so writes to pages still succeed in memory; `commit()` refuses them with ReadOnlyError
 *   (code EROFS), the pages stay dirty and `abort()` discards them. The data file is opened O_RDONLY, so
 *   nothing can reach it. `'rw'` takes the exclusive writer lock (a second writer, in any process, gets
 *   LockedError).
 * - **Commit** (redo journal `<file>.bigfile-journal`): writeout STORE streams the dirty blocks into the
 *   journal as records (absolute position, length, CRC-32), then a trailer (count, SHA-256 over all
 *   headers) and one fsync: the commit point. A second writeout STORE writes the blocks in place, then
 *   fsync of the raw file, then the journal is truncated (no fsync needed: replaying a spent journal
 *   writes the same bytes) and writeout MARKSTORED. Two fsyncs per commit. The journal streams: its size
 *   is bounded by the disk, not by the RAM budget.
 * - **Recovery.** On open, a valid journal is replayed (redo) then emptied; a torn one (any check fails)
 *   means the crash came before the commit point, the file was not touched, and it is dropped. A journal
 *   is checked whole before any of it is applied. A reader ('r') never replays under a live writer (the
 *   journal is that writer's commit in flight); with no writer it recovers, briefly taking the lock.
 * - **Failures.** Any I/O error is a StorageError (NotFoundError for a missing file) naming the
 *   operation, with the system error as `cause`. A commit that fails before its commit point leaves the
 *   file untouched and the pages dirty; after it (`needsRecovery`), the commit still happens: the next
 *   load, commit, abort or close replays the journal first, so no read ever sees a half-applied commit.
 *   A commit that throws may thus turn out durable (as with any fsync failure): never half of it.
 * - **Readers and a live writer.** Without snapshots, a reader in another process may load some blocks
 *   before a commit and some after it (numpy.memmap semantics); only open/recovery is atomic for it.
 * - **Lock.** `<file>.bigfile-lock` is held by an exclusive SQLite transaction (node:sqlite), i.e. by
 *   POSIX record locks that the kernel drops when the process dies, SIGKILL included: no stale locks,
 *   no pid checks. The lock file stays after close (deleting it would let two writers lock two inodes).
 *   Paths go through realpath, so a symlink or a relative path finds the same lock and journal.
 * - **Hostile directories.** The journal and the lock are opened without following links, created
 *   exclusively (mode: the data file's permission bits) and used only as regular files with one link:
 *   a symlink, hard link, FIFO or device planted at their names is CorruptError, never written through.
 *   The data file must be a regular file (InvalidArgumentError otherwise; a FIFO never blocks the open).
 */
export { ReadOnlyError } from '../errors.ts'
export { nodeIO, type OpenMode, type OwnFile, type RawIO } from './io.ts'
export type { Recovery } from './journal-replay.ts'
export { openRawFile } from './open.ts'
export type { RawFileMode, RawFileOptions } from './options.ts'
export { RawFile } from './rawfile.ts'
