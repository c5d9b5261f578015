// What import, export and create share: the file format (by --format or the file's extension), the
// input opened before any work (so a mistake is a usage or not-found error, not a half-done job and
// not an empty new database), `-` for stdin/stdout, and the staging name of an import.
import { createHash } from 'node:crypto'
import { createReadStream, type Stats, statSync } from 'node:fs'
import { type ByteSource, fileSource, streamSource } from '../array/index.ts'
import { MAX_NAME_LENGTH } from '../db/check.ts'
import { ExistsError, InvalidArgumentError, NotFoundError } from '../errors.ts'
import { kindOf, openRegular } from '../util/exclusive.ts'
import { fsError } from '../util/fserror.ts'
import { UsageError } from './exit.ts'

export type Format = 'npy' | 'raw'

/** `-` names stdin (import) or stdout (export). */
export const STDIO = '-'

/** By --format, else by extension: `.npy` is npy, anything else (`-` too) raw. */
export function formatOf(file: string, flag: string | undefined): Format {
  if (flag !== undefined) {
    if (flag === 'npy' || flag === 'raw') return flag
    throw new UsageError(`--format: must be npy or raw, got ${JSON.stringify(flag)}`)
  }
  return file.toLowerCase().endsWith('.npy') ? 'npy' : 'raw'
}

/** An import's input, open: its bytes in order, and its size when it is a regular file. */
export interface Input extends AsyncDisposable {
  readonly src: ByteSource
  /** Bytes of a regular file; undefined for stdin, a FIFO or a device (read once, in order). */
  readonly size: number | undefined
}

/**
 * Opens the input: `-` is stdin; a regular file is read by position; a FIFO, socket or character device
 * (`<(command)`, /dev/stdin) is read once, in order. A missing file is NotFoundError (exit 3), a
 * directory InvalidArgumentError (exit 2), an unreadable one StorageError (exit 1).
 */
export async function openInput(file: string): Promise<Input> {
  if (file === STDIO) {
    if (process.stdin.isTTY)
      throw new UsageError('import: not reading binary data from a terminal (redirect or pipe stdin)')
    return { src: streamSource(process.stdin), size: undefined, [Symbol.asyncDispose]: async () => {} }
  }
  let st: Stats
  try {
    st = statSync(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError(`input file ${file} does not exist`, { cause: e })
    throw fsError(e, `read ${file}`)
  }
  if (st.isDirectory() || st.isBlockDevice())
    throw new InvalidArgumentError(`cannot read ${file}: it is ${kindOf(st)}, not a regular file`)
  if (!st.isFile()) {
    const stream = createReadStream(file)
    return {
      src: streamSource(stream),
      size: undefined,
      [Symbol.asyncDispose]: async () => void stream.destroy(),
    }
  }
  const fh = await openRegular(file, { follow: true })
  const size = (await fh.stat()).size
  return { src: fileSource(fh), size, [Symbol.asyncDispose]: () => fh.close() }
}

/**
 * A database path must name a regular file (through a symlink is fine) or nothing: a directory, FIFO,
 * socket or device is a usage error (exit 2) before SQLite opens it — SQLite would leave a -journal
 * file next to /dev/null, or wait on a FIFO.
 */
export function checkDbPath(path: string): void {
  let st: Stats
  try {
    st = statSync(path)
  } catch {
    return // missing (the open says so) or unreadable (the open reports it)
  }
  if (!st.isFile()) throw new InvalidArgumentError(`${path} is ${kindOf(st)}, not a database file`)
}

/** ExistsError (exit 4) when the database has a file called `name`. */
export async function refuseExisting(
  db: { stat(name: string): Promise<unknown> },
  name: string,
  advice: string,
): Promise<void> {
  try {
    await db.stat(name)
  } catch (e) {
    if (e instanceof NotFoundError) return
    throw e
  }
  throw new ExistsError(`${JSON.stringify(name)} exists (${advice})`)
}

/**
 * The name an import writes to until it is complete. Imports commit as they go (dirty pages cannot
 * leave RAM before commit), so the target name only appears, by rename, once everything is in.
 * It is `.importing.<pid>.<time>.<NAME>`, with NAME shortened (and a hash of it added) where the whole
 * would exceed the database's name limit: any NAME that `create` accepts can be imported.
 */
export function stagingName(name: string): string {
  const prefix = `.importing.${process.pid}.${Date.now().toString(36)}.`
  if (prefix.length + name.length <= MAX_NAME_LENGTH) return prefix + name
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 12)
  let head = name.slice(0, MAX_NAME_LENGTH - prefix.length - hash.length - 1)
  // Never end on half a surrogate pair: the name must stay well-formed Unicode.
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1)
  return `${prefix}${head}~${hash}`
}
