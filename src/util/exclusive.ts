// Files in directories others may write to (/tmp, a shared output folder) are hostile: a name can be
// planted there as a symlink, a hard link, a FIFO or a device before we get to it. So a new file is
// created exclusively — O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, under a name no one can predict — and an
// existing file is opened only if it is a regular file, without following a link at its last component
// unless the caller allows it, and without blocking on a FIFO.
import { randomBytes } from 'node:crypto'
import { closeSync, constants, fstatSync, openSync, type Stats } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'
import { InvalidArgumentError } from '../errors.ts'
import { fsError } from './fserror.ts'

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_NONBLOCK } = constants

/** A path argument: a non-empty string without NUL (InvalidArgumentError, not node:fs's TypeError). */
export function checkPath(path: unknown, what = 'path'): string {
  if (typeof path !== 'string' || path === '' || path.includes('\0'))
    throw new InvalidArgumentError(
      `${what} must be a non-empty string without NUL, got ${JSON.stringify(path) ?? String(path)}`,
    )
  return path
}

/** Flags of a file this process creates: a new file, never an existing one, never through a link. */
export const EXCLUSIVE_FLAGS = O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR

/** Until published, only the owner can read a new file. */
export const PRIVATE_MODE = 0o600

/**
 * A name next to `target` (in its directory, so that publishing is a rename or link within one file
 * system) that no one can predict: `<target>.partial-<72 random bits, base64url>`.
 */
export function tempNameFor(target: string): string {
  return `${target}.partial-${randomBytes(9).toString('base64url')}`
}

/**
 * Creates `path`, which must not exist in any form (a dangling symlink counts): ExistsError if it does,
 * NotFoundError if its directory does not. Read-write, mode 0600 unless `mode` says otherwise.
 */
export async function createExclusive(path: string, mode = PRIVATE_MODE): Promise<FileHandle> {
  checkPath(path)
  try {
    return await open(path, EXCLUSIVE_FLAGS, mode)
  } catch (e) {
    throw fsError(e, `create ${path}`)
  }
}

/** createExclusive for synchronous code: returns the file descriptor. */
export function createExclusiveSync(path: string, mode = PRIVATE_MODE): number {
  checkPath(path)
  try {
    return openSync(path, EXCLUSIVE_FLAGS, mode)
  } catch (e) {
    throw fsError(e, `create ${path}`)
  }
}

export interface OpenRegularOptions {
  /** Open for reading and writing (never creates). Default: read only. */
  write?: boolean
  /** Follow a symlink at the last component (reading an input through a link is harmless). Default false. */
  follow?: boolean
}

function flagsOf(options: OpenRegularOptions): number {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it has no effect on a regular file.
  return (options.write ? O_RDWR : O_RDONLY) | O_NONBLOCK | (options.follow ? 0 : O_NOFOLLOW)
}

/** What a file is, for messages: "a directory", "a FIFO", … */
export function kindOf(st: Stats): string {
  if (st.isFile()) return 'a regular file'
  if (st.isDirectory()) return 'a directory'
  if (st.isSymbolicLink()) return 'a symbolic link'
  if (st.isFIFO()) return 'a FIFO'
  if (st.isSocket()) return 'a socket'
  if (st.isCharacterDevice()) return 'a character device'
  if (st.isBlockDevice()) return 'a block device'
  return 'not a regular file'
}

function notRegular(path: string, st: Stats): InvalidArgumentError {
  return new InvalidArgumentError(`${path} is ${kindOf(st)}, not a regular file`)
}

/**
 * Opens an existing regular file. A symlink (unless `follow`), directory, FIFO, socket or device is
 * InvalidArgumentError; a missing file NotFoundError; other failures StorageError (errno in `cause`).
 */
export async function openRegular(path: string, options: OpenRegularOptions = {}): Promise<FileHandle> {
  checkPath(path)
  let fh: FileHandle
  try {
    fh = await open(path, flagsOf(options))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP')
      throw new InvalidArgumentError(`${path} is a symbolic link, not a regular file`, { cause: e })
    throw fsError(e, `open ${path}`)
  }
  const st = await fh.stat()
  if (!st.isFile()) {
    await fh.close()
    throw notRegular(path, st)
  }
  return fh
}

/** openRegular for synchronous code: returns the file descriptor. */
export function openRegularSync(path: string, options: OpenRegularOptions = {}): number {
  checkPath(path)
  let fd: number
  try {
    fd = openSync(path, flagsOf(options))
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP')
      throw new InvalidArgumentError(`${path} is a symbolic link, not a regular file`, { cause: e })
    throw fsError(e, `open ${path}`)
  }
  const st = fstatSync(fd)
  if (!st.isFile()) {
    closeSync(fd)
    throw notRegular(path, st)
  }
  return fd
}
