// Validation of what users hand to the database: names are data (always bound, never spliced into
// SQL), sizes are safe integers, metadata is a small JSON object.
import { InvalidArgumentError } from '../errors.ts'
import type { Meta, NewFile } from './storage.ts'

export const MAX_NAME_LENGTH = 1024
export const MAX_META_BYTES = 64 << 10
export const MIN_BLKSIZE = 512
export const MAX_BLKSIZE = 256 << 20

export function checkName(name: unknown): string {
  if (typeof name !== 'string')
    throw new InvalidArgumentError(`file name must be a string, got ${typeof name}`)
  if (name.length === 0) throw new InvalidArgumentError('file name must not be empty')
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidArgumentError(
      `file name is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH}`,
    )
  }
  if (name.includes('\0'))
    throw new InvalidArgumentError(`file name ${JSON.stringify(name)} contains a NUL character`)
  if (Buffer.from(name, 'utf8').toString('utf8') !== name) {
    throw new InvalidArgumentError(
      `file name ${JSON.stringify(name)} is not well-formed Unicode (lone surrogate)`,
    )
  }
  return name
}

export function checkBlksize(blksize: unknown): number {
  if (
    typeof blksize !== 'number' ||
    !Number.isSafeInteger(blksize) ||
    blksize < MIN_BLKSIZE ||
    blksize > MAX_BLKSIZE ||
    (blksize & (blksize - 1)) !== 0
  ) {
    throw new InvalidArgumentError(
      `blksize must be a power of two from 512 B to 256 MiB, got ${String(blksize)}`,
    )
  }
  return blksize
}

/** A byte size or offset: a non-negative safe integer. */
export function checkSize(size: unknown, what = 'size'): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidArgumentError(
      `${what} must be a non-negative integer number of bytes, got ${String(size)}`,
    )
  }
  return size
}

/** A deep copy of `meta` through JSON, so later changes by the caller do not leak in. */
export function checkMeta(meta: unknown): Meta {
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) {
    throw new InvalidArgumentError('meta must be a plain JSON object')
  }
  let text: string
  try {
    text = JSON.stringify(meta)
  } catch (e) {
    throw new InvalidArgumentError(`meta is not JSON-serializable: ${(e as Error).message}`)
  }
  if (Buffer.byteLength(text) > MAX_META_BYTES) {
    throw new InvalidArgumentError(
      `meta takes ${Buffer.byteLength(text)} bytes as JSON; the limit is ${MAX_META_BYTES}`,
    )
  }
  return JSON.parse(text) as Meta
}

/** The record of a file to create: `name` checked, `options` = { blksize, size?, meta? }. */
export function checkNewFile(
  name: string,
  options: { blksize: number; size?: number; meta?: Meta },
  what: string,
): NewFile {
  if (!options || typeof options !== 'object')
    throw new InvalidArgumentError(`${what} must be { blksize, size?, meta? }`)
  return {
    name: checkName(name),
    blksize: checkBlksize(options.blksize),
    size: checkSize(options.size ?? 0),
    meta: checkMeta(options.meta ?? {}),
  }
}

export function checkTid(tid: unknown, what = 'tid'): number {
  if (typeof tid !== 'number' || !Number.isSafeInteger(tid) || tid < 0) {
    throw new InvalidArgumentError(`${what} must be a non-negative integer, got ${String(tid)}`)
  }
  return tid
}
