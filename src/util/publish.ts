// Publishing a finished file under its name, whole or not at all, without ever writing through or
// replacing something that is not ours to replace. A TempFile is created exclusively next to its target
// (exclusive.ts); publish() makes it durable and then gives it the target's name:
//   - no replace: link(2) then unlink(2) of the temporary name. link never replaces: a name that
//     appeared meanwhile (even a dangling symlink) is ExistsError and stays untouched.
//   - replace: only a regular file (or nothing) is replaced, by rename(2), which swaps the directory
//     entry and so never writes through a link. A directory, FIFO, device, socket or symlink there is
//     InvalidArgumentError.
import { lstatSync, type Stats, unlinkSync } from 'node:fs'
import { type FileHandle, link, open, rename, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { ExistsError, InvalidArgumentError, NotFoundError } from '../errors.ts'
import { checkPath, createExclusive, kindOf, tempNameFor } from './exclusive.ts'
import { fsError } from './fserror.ts'

export interface PublishOptions {
  /** Replace an existing regular file at the target. Default false: ExistsError if the name is taken. */
  replace?: boolean
}

/** The target's lstat (a link is not followed), or undefined when there is nothing at that name. */
function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return undefined
    throw fsError(e, `stat ${path}`)
  }
}

/**
 * Checks now what publish() checks again at the end, so that a command fails before any work: nothing
 * at `target`, or (with `replace`) a regular file. Returns the existing file's stats, if any.
 */
export function checkTarget(target: string, options: PublishOptions = {}): Stats | undefined {
  checkPath(target)
  const st = lstatOrUndefined(target)
  if (st === undefined) return undefined
  if (!options.replace) throw new ExistsError(`${target} exists`)
  if (!st.isFile())
    throw new InvalidArgumentError(`${target} is ${kindOf(st)}: only a regular file is replaced`)
  return st
}

// Hard links are not everywhere (FAT, some FUSE and network file systems).
const NO_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK'])

/** Gives the finished file `tmp` the name `target` (see the top of this file); `tmp` is gone after. */
export async function publishFile(tmp: string, target: string, options: PublishOptions = {}): Promise<void> {
  if (options.replace) {
    checkTarget(target, options)
    try {
      await rename(tmp, target)
    } catch (e) {
      throw fsError(e, `rename ${tmp} to ${target}`)
    }
  } else {
    try {
      await link(tmp, target)
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code
      if (code === 'EEXIST') throw new ExistsError(`${target} exists`, { cause: e })
      if (!code || !NO_LINK.has(code)) throw fsError(e, `link ${tmp} to ${target}`)
      // No hard links here: check and rename (a name appearing in between is replaced; documented).
      checkTarget(target, options)
      await rename(tmp, target).catch((e2) => {
        throw fsError(e2, `rename ${tmp} to ${target}`)
      })
      await syncDir(target)
      return
    }
    await unlink(tmp).catch(() => {}) // the data is published; a leftover name is only untidy
  }
  await syncDir(target)
}

/** fsync of the directory holding `path`, so the new name survives a crash (best effort). */
async function syncDir(path: string): Promise<void> {
  let d: FileHandle | undefined
  try {
    d = await open(dirname(path), 'r')
    await d.sync()
  } catch {
    // Some file systems cannot open or sync a directory: the data itself was synced.
  } finally {
    await d?.close().catch(() => {})
  }
}

/**
 * A file being written that becomes `target` only when complete: created exclusively next to it
 * (`<target>.partial-<random>`, mode 0600), then published, or discarded. `await using` discards it
 * unless it was published.
 */
export class TempFile implements AsyncDisposable {
  readonly path: string
  readonly target: string
  readonly handle: FileHandle
  #done = false

  private constructor(path: string, target: string, handle: FileHandle) {
    this.path = path
    this.target = target
    this.handle = handle
  }

  /** Creates the temporary file for `target`; NotFoundError when its directory does not exist. */
  static async create(target: string): Promise<TempFile> {
    checkPath(target)
    const path = tempNameFor(target)
    try {
      return new TempFile(path, target, await createExclusive(path))
    } catch (e) {
      if (e instanceof NotFoundError)
        throw new NotFoundError(`cannot write ${target}: directory ${dirname(target)} does not exist`, {
          cause: e.cause,
        })
      // Name the file the caller asked for (EACCES, EROFS, ENOSPC…), not the temporary one.
      throw e instanceof Error && e.cause !== undefined ? fsError(e.cause, `write ${target}`) : e
    }
  }

  /**
   * Syncs the data, gives the file its final mode (the permission bits of the regular file it replaces —
   * never set-id or sticky bits —, else 0666 less the umask), closes it and publishes it under the
   * target's name (publishFile).
   */
  async publish(options: PublishOptions = {}): Promise<void> {
    const old = checkTarget(this.target, options)
    try {
      await this.handle.sync()
      await this.handle.chmod(old ? old.mode & 0o777 : 0o666 & ~process.umask())
      await this.handle.close()
    } catch (e) {
      throw fsError(e, `write ${this.path}`)
    }
    await publishFile(this.path, this.target, options)
    this.#done = true
  }

  /** Removes and closes the temporary file (nothing is published). */
  async discard(): Promise<void> {
    if (this.#done) return
    this.#done = true
    // The name goes first and synchronously: an exit at the next await (a second Ctrl-C, which calls
    // discardSync and finds this one done) must not leave the partial file behind.
    this.#unlinkName()
    await this.handle.close().catch(() => {})
  }

  /** discard() for a synchronous exit path (a second Ctrl-C): removes the name; the exit closes the file. */
  discardSync(): void {
    if (this.#done) return
    this.#done = true
    this.#unlinkName()
  }

  #unlinkName(): void {
    try {
      unlinkSync(this.path)
    } catch {
      // already gone
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.discard()
  }
}
