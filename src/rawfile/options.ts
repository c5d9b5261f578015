import { InvalidArgumentError } from '../errors.ts'
import type { FileHOptions, RAM } from '../virtmem/index.ts'
import type { RawIO } from './io.ts'

/** `'r'`: read-only, no lock, commits refused; `'rw'`: read-write with the exclusive writer lock. */
export type RawFileMode = 'r' | 'rw'

/** Options of `openRawFile()`. */
export interface RawFileOptions {
  /** The RAM whose frames hold the pages. */
  ram: RAM
  /** Read-only (default) or read-write with the exclusive writer lock. */
  mode?: RawFileMode
  /** Block size in bytes; must divide or be divided by the RAM's pagesize. Default: the pagesize. */
  blksize?: number
  /** Bytes to skip at the start of the file (a header). Any non-negative integer. Default 0. */
  offset?: number
  /** Bytes mapped after `offset`. Default: the rest of the file. */
  length?: number
  /**
   * Accept a `length` that is not a multiple of `blksize`: the last block is partial; its bytes past the
   * end read as zeros and must stay zeros (a commit that changed them fails with OutOfRangeError).
   * Default false: such a length is an InvalidArgumentError, since it usually means a wrong blksize.
   */
  partialLastBlock?: boolean
  /** Options of the FileH that caches the pages. */
  fileh?: FileHOptions
  /** @internal The file operations (tests inject failures and crashes here). */
  io?: RawIO
}

export interface CheckedOptions {
  mode: RawFileMode
  blksize: number
  offset: number
  length: number | undefined
  partialLastBlock: boolean
}

/** Checks the options that need no file; the size-dependent checks come after the file is opened. */
export function checkOptions(o: RawFileOptions): CheckedOptions {
  if (o === null || typeof o !== 'object')
    throw new InvalidArgumentError('openRawFile needs an options object')
  const ram = o.ram as RAM | undefined
  if (!ram || typeof ram.pagesize !== 'number') throw new InvalidArgumentError('options.ram must be a RAM')
  const mode = o.mode ?? 'r'
  if (mode !== 'r' && mode !== 'rw') {
    throw new InvalidArgumentError(`mode must be 'r' or 'rw', got ${JSON.stringify(mode)}`)
  }
  const blksize = o.blksize ?? ram.pagesize
  if (!isCount(blksize) || blksize === 0) {
    throw new InvalidArgumentError(`blksize must be a positive integer number of bytes, got ${blksize}`)
  }
  if (blksize > 0xffffffff) throw new InvalidArgumentError(`blksize ${blksize} exceeds 4 GiB - 1`)
  // Checked again by FileH; here too, so a mismatch is reported before the file size is judged by it.
  const ps = ram.pagesize
  if (ps % blksize !== 0 && blksize % ps !== 0) {
    throw new InvalidArgumentError(`blksize ${blksize} and pagesize ${ps} must divide one another`)
  }
  const offset = o.offset ?? 0
  if (!isCount(offset)) {
    throw new InvalidArgumentError(`offset must be a non-negative integer number of bytes, got ${offset}`)
  }
  const length = o.length
  if (length !== undefined && !isCount(length)) {
    throw new InvalidArgumentError(`length must be a non-negative integer number of bytes, got ${length}`)
  }
  const partialLastBlock = o.partialLastBlock ?? false
  if (typeof partialLastBlock !== 'boolean') {
    throw new InvalidArgumentError(`partialLastBlock must be a boolean, got ${partialLastBlock}`)
  }
  return { mode, blksize, offset, length, partialLastBlock }
}

/** The mapped length, checked against the file's actual size. */
export function resolveLength(o: CheckedOptions, fileSize: number, path: string): number {
  const { offset, blksize } = o
  if (offset > fileSize) {
    throw new InvalidArgumentError(`offset ${offset} lies past the end of ${path} (${fileSize} bytes)`)
  }
  const length = o.length ?? fileSize - offset
  if (offset + length > fileSize) {
    throw new InvalidArgumentError(
      `offset ${offset} + length ${length} = ${offset + length} exceeds the size of ${path} (${fileSize} bytes); a raw file never grows`,
    )
  }
  const tail = length % blksize
  if (tail !== 0 && !o.partialLastBlock) {
    throw new InvalidArgumentError(
      `${path}: ${length} bytes after offset ${offset} is not a multiple of blksize ${blksize} ` +
        `(${tail} bytes over); fix blksize/offset/length, or pass partialLastBlock: true to map the tail as a partial block`,
    )
  }
  return length
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0
}
