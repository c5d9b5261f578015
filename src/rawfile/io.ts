// The file operations of the raw-file storage, behind one small interface so that tests can fail the
// k-th read or write (fault injection) or kill the process at the n-th operation (crash tests).
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  readSync,
  unlinkSync,
  writevSync,
} from 'node:fs'
import { BigFileError, NotFoundError, StorageError } from '../errors.ts'
import { openRegular } from './regular.ts'

/** How `RawIO.open` opens: read-only, read-write (must exist), or read-write created if missing. */
export type OpenMode = 'r' | 'rw' | 'create'

/** A file of our own next to the raw file (the journal): stricter rules, see `RawIO.open`. */
export interface OwnFile {
  /** Permission bits if it has to be created (those of the raw file, so it is no more readable). */
  readonly mode: number
}

/** The file operations of the raw-file storage, synchronous, on file descriptors; `nodeIO` is the real one. */
export interface RawIO {
  /**
   * Opens a regular file, never following a symlink at its last component nor blocking on a FIFO
   * (anything else: InvalidArgumentError). With `own` (the journal), also CorruptError for a file with
   * more than one hard link or anything but a regular file there, and 'create' creates it exclusively.
   */
  open(path: string, mode: OpenMode, own?: OwnFile): number
  /** Closes `fd`. */
  close(fd: number): void
  /** The file's size in bytes. */
  size(fd: number): number
  /** Reads up to `buf.length` bytes at `position`; fewer only at end of file. Returns the count. */
  read(fd: number, buf: Uint8Array, position: number): number
  /** Writes every byte of `bufs`, in order, starting at `position`. */
  write(fd: number, bufs: readonly Uint8Array[], position: number): void
  /** Makes the file's data durable. */
  fsync(fd: number): void
  /** Sets the file's size to `length` bytes. */
  truncate(fd: number, length: number): void
  /** Removes the directory entry `path`. */
  unlink(path: string): void
  /** Makes a directory entry change (create, unlink) durable. */
  fsyncDir(dir: string): void
}

/** RawIO over node:fs (system errors are thrown as node:fs throws them; the callers wrap them in StorageError). */
export const nodeIO: RawIO = {
  open: (path, mode, own) =>
    openRegular(path, mode !== 'r', own !== undefined, mode === 'create' ? (own?.mode ?? 0o600) : undefined),
  close: (fd) => closeSync(fd),
  size: (fd) => fstatSync(fd).size,
  read(fd, buf, position) {
    let done = 0
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, position + done)
      if (n === 0) break
      done += n
    }
    return done
  },
  write(fd, bufs, position) {
    let pending = bufs.filter((b) => b.length > 0)
    while (pending.length > 0) {
      let n = writevSync(fd, pending, position)
      position += n
      // Short write: drop what went out and go on with the rest.
      while (pending.length > 0 && n >= pending[0].length) {
        n -= pending[0].length
        pending = pending.slice(1)
      }
      if (n > 0) pending = [pending[0].subarray(n), ...pending.slice(1)]
    }
  },
  fsync: (fd) => fsyncSync(fd),
  truncate: (fd, length) => ftruncateSync(fd, length),
  unlink: (path) => unlinkSync(path),
  fsyncDir(dir) {
    let fd: number
    try {
      fd = openSync(dir, constants.O_RDONLY)
    } catch (e) {
      // Platforms that cannot open a directory (Windows) have no directory fsync to do.
      if (isCode(e, 'EISDIR', 'EPERM', 'EACCES')) return
      throw e
    }
    try {
      fsyncSync(fd)
    } catch (e) {
      if (!isCode(e, 'EINVAL', 'EPERM', 'EBADF')) throw e
    } finally {
      closeSync(fd)
    }
  },
}

export function isCode(e: unknown, ...codes: string[]): boolean {
  const code = (e as { code?: unknown } | null)?.code
  return typeof code === 'string' && codes.includes(code)
}

/** Turns a failed file operation into a typed error that names what was being done. */
export function ioError(what: string, e: unknown): BigFileError {
  if (e instanceof BigFileError) return e
  const msg = e instanceof Error ? e.message : String(e)
  if (isCode(e, 'ENOENT')) return new NotFoundError(`${what}: ${msg}`)
  return new StorageError(`${what}: ${msg}`, { cause: e })
}

/** Runs `f`, turning a system error into a StorageError (see ioError) that says `what` failed. */
export function wrapIO<T>(what: string, f: () => T): T {
  try {
    return f()
  } catch (e) {
    throw ioError(what, e)
  }
}
