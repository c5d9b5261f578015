// An operating-system error on a path, as the typed error a caller can branch on: the errno stays in
// `cause`, the message names the path and says what was being done.
import { BigFileError, ExistsError, InvalidArgumentError, NotFoundError, StorageError } from '../errors.ts'

const WHY: Record<string, string> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'it is a directory',
  ELOOP: 'it is a symbolic link',
  EEXIST: 'it exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENXIO: 'it is a FIFO or socket with no one at the other end',
  ENOSPC: 'no space left on the device',
  EROFS: 'the file system is read-only',
}

/**
 * `e` (from node:fs) as a BigFileError: ENOENT → NotFoundError, EEXIST → ExistsError, EISDIR / ENOTDIR /
 * ELOOP / ENXIO (the path is not the kind of file asked for) → InvalidArgumentError, anything else →
 * StorageError. `doing` completes "cannot …", e.g. `read in.npy`. A BigFileError passes through.
 */
export function fsError(e: unknown, doing: string): BigFileError {
  if (e instanceof BigFileError) return e
  const code = (e as NodeJS.ErrnoException | null)?.code
  const why = (code && WHY[code]) ?? (e instanceof Error ? e.message : String(e))
  const message = `cannot ${doing}: ${why}`
  switch (code) {
    case 'ENOENT':
      return new NotFoundError(message, { cause: e })
    case 'EEXIST':
      return new ExistsError(message, { cause: e })
    case 'EISDIR':
    case 'ENOTDIR':
    case 'ELOOP':
    case 'ENXIO':
      return new InvalidArgumentError(message, { cause: e })
    default:
      return new StorageError(message, { cause: e })
  }
}
