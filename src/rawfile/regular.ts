// Opening files next to a raw file (the journal, the lock) in a directory others may write to: a name can
// be planted there as a symlink, a hard link to someone's file, a FIFO or a device, and a commit would
// truncate or write through it. So these files are opened without following a link, without blocking on a
// FIFO, created exclusively when missing, and accepted only as regular files with exactly one link.
// (The data file itself is the user's choice: realpath resolves it, and it must be a regular file.)
import { closeSync, constants, fstatSync, lstatSync, openSync, type Stats } from 'node:fs'
import { CorruptError, InvalidArgumentError } from '../errors.ts'
import { kindOf } from '../util/exclusive.ts'

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_RDWR } = constants

/**
 * Throws unless `st` is a regular file (and, for a file of our own, has exactly one link: a hard link
 * planted there would make us write into someone else's file).
 */
export function checkRegular(path: string, st: Stats, own: boolean): void {
  if (own) {
    if (!st.isFile())
      throw new CorruptError(`${path} is ${kindOf(st)}, not a regular file: refusing to use it`)
    if (st.nlink !== 1) {
      throw new CorruptError(
        `${path} has ${st.nlink} hard links (one expected): refusing to write through it`,
      )
    }
  } else if (!st.isFile()) throw new InvalidArgumentError(`${path} is ${kindOf(st)}, not a regular file`)
}

/**
 * Opens `path` read-only or read-write without following a symlink at its last component (ELOOP) or
 * blocking on a FIFO, then checks what it is (checkRegular). With `create` (permission bits), a missing
 * file is created with O_CREAT|O_EXCL, so a name planted in between is never opened.
 */
export function openRegular(path: string, write: boolean, own: boolean, create?: number): number {
  const flags = (write ? O_RDWR : O_RDONLY) | O_NOFOLLOW | O_NONBLOCK
  let fd: number
  try {
    fd = openSync(path, flags)
  } catch (e) {
    const code = (e as { code?: unknown }).code
    if (code === 'ELOOP') throw notRegular(path, own, 'a symbolic link')
    if (code === 'EISDIR') throw notRegular(path, own, 'a directory')
    if (code !== 'ENOENT' || create === undefined) throw e
    try {
      fd = openSync(path, flags | O_CREAT | O_EXCL, create)
    } catch (e2) {
      const c2 = (e2 as { code?: unknown }).code
      // EEXIST: something appeared at the name after our first look; ELOOP cannot happen with O_EXCL.
      if (c2 === 'EEXIST') throw new CorruptError(`${path} appeared while being created: refusing to use it`)
      throw e2
    }
  }
  try {
    checkRegular(path, fstatSync(fd), own)
  } catch (e) {
    closeSync(fd)
    throw e
  }
  return fd
}

function notRegular(path: string, own: boolean, kind: string): Error {
  const msg = `${path} is ${kind}, not a regular file: refusing to use it`
  return own ? new CorruptError(msg) : new InvalidArgumentError(msg)
}

/**
 * Makes sure `path` is a regular file of ours (one link, not a symlink), creating it exclusively when
 * missing, without opening an existing one (closing a descriptor of a file would drop the POSIX locks
 * this process holds on it through another descriptor). Returns its stats for a later `sameFile`.
 */
export function ensureRegular(path: string, mode: number): Stats {
  let st: Stats
  try {
    st = lstatSync(path)
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ENOENT') throw e
    closeSync(openRegular(path, true, true, mode))
    st = lstatSync(path)
  }
  checkRegular(path, st, true)
  return st
}

/** Whether `path` is still the very file `st` describes (not replaced by another or by a link). */
export function sameFile(path: string, st: Stats): boolean {
  try {
    const now = lstatSync(path)
    return now.isFile() && now.ino === st.ino && now.dev === st.dev && now.nlink === 1
  } catch {
    return false
  }
}
