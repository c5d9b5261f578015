// numpy.memmap for bigfile: an existing raw binary or .npy file opened in place as a BigArray, through the
// raw-file storage (src/rawfile): pages load from the file, `a.commit()` writes the changes back through
// its redo journal (all or nothing), `a.close()` / `using` closes the file.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs'
import { CorruptError, InvalidArgumentError } from '../errors.ts'
import { ioError } from '../rawfile/io.ts'
import { openRawFile } from '../rawfile/open.ts'
import type { RawFileMode } from '../rawfile/options.ts'
import type { FileHOptions } from '../virtmem/fileh.ts'
import type { RAM } from '../virtmem/ram.ts'
import { BigArray } from './bigarray.ts'
import { type DType, dtypeInfo } from './dtype.ts'
import { checkOrder, checkShape, type Order, sizeOf } from './layout.ts'
import { parseNpyHeader } from './npy.ts'

/** Options of `openNpy`. */
export interface OpenNpyOptions {
  /** The RAM whose frames hold the pages. */
  ram: RAM
  /** 'r' (default): read-only, commit refused; 'rw': read-write, holding the file's writer lock. */
  mode?: RawFileMode
  /** Block size in bytes; must divide or be divided by the RAM's pagesize. Default: the pagesize. */
  blksize?: number
  /** Options of the FileH (maxRetries, strict, purgeUnit). */
  fileh?: FileHOptions
}

/** Options of `memmap`: the numpy.memmap arguments. */
export interface MemmapOptions<D extends DType = DType> extends OpenNpyOptions {
  /** The element type of the file's elements (little-endian). */
  dtype: D
  /**
   * Length of each axis. Default: one axis holding every element from `offset` to the end of the file
   * (whose byte length must then be a multiple of the itemsize).
   */
  shape?: readonly number[]
  /** Bytes to skip at the start of the file (a header). Default 0. */
  offset?: number
  /** Memory order of the elements: 'C' (default) or 'F'. */
  order?: Order
}

/**
 * Opens `path` in place as an array of `dtype` (numpy.memmap): nothing is read until used, pages stay
 * within the RAM budget. The file's size need not be a multiple of the block size. Writes stay in memory
 * until `a.commit()` (mode 'rw'), which makes them durable all or nothing; `a.abort()` drops them;
 * `a.close()` or `using` closes the file (dropping uncommitted changes). The file never grows: a shape
 * larger than the file is InvalidArgumentError. NotFoundError for a missing file, LockedError when
 * another writer holds it ('rw').
 */
export function memmap<D extends DType>(path: string, options: MemmapOptions<D>): BigArray<D> {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('memmap needs { ram, dtype, shape?, offset?, order?, mode? }')
  const info = dtypeInfo(options.dtype)
  const order = checkOrder(options.order)
  const offset = options.offset ?? 0
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new InvalidArgumentError(`offset must be a non-negative integer, got ${offset}`)
  let shape: number[]
  if (options.shape === undefined) {
    const rest = fileSize(path) - offset
    if (rest < 0) throw new InvalidArgumentError(`offset ${offset} lies past the end of ${path}`)
    if (rest % info.itemsize !== 0)
      throw new InvalidArgumentError(
        `${path}: ${rest} bytes after offset ${offset} are not whole ${info.name} elements of ${info.itemsize} bytes; give a shape`,
      )
    shape = [rest / info.itemsize]
  } else shape = checkShape(options.shape)
  const length = sizeOf(shape) * info.itemsize
  // The length is implied by dtype and shape, so a short last block is expected, not a wrong blksize.
  const file = openRawFile(path, {
    ram: options.ram,
    mode: options.mode ?? 'r',
    offset,
    length,
    partialLastBlock: true,
    ...(options.blksize === undefined ? {} : { blksize: options.blksize }),
    ...(options.fileh === undefined ? {} : { fileh: options.fileh }),
  })
  try {
    return BigArray._mapped<D>(file.fileh, { dtype: options.dtype, shape, order }, file)
  } catch (e) {
    file[Symbol.dispose]()
    throw e
  }
}

/**
 * Opens an existing .npy file in place as an array (numpy.load(path, mmap_mode=...)): its dtype, shape
 * and order come from the header; see `memmap` for the rest. A big-endian .npy cannot be mapped in place
 * (InvalidArgumentError: `importNpy` converts it); a file that is not a valid .npy is CorruptError.
 */
export function openNpy(path: string, options: OpenNpyOptions): BigArray {
  if (options === null || typeof options !== 'object')
    throw new InvalidArgumentError('openNpy needs { ram, mode? }')
  const h = parseNpyHeader(readHead(path))
  if (h.bigEndian && dtypeInfo(h.dtype).itemsize > 1)
    throw new InvalidArgumentError(
      `${path} is big-endian: it cannot be mapped in place (importNpy converts it into a database array)`,
    )
  const bytes = sizeOf(h.shape) * dtypeInfo(h.dtype).itemsize
  if (h.dataOffset + bytes > fileSize(path))
    throw new CorruptError(`not a valid .npy file: ${path} is shorter than its header's shape needs`)
  return memmap(path, { ...options, dtype: h.dtype, shape: h.shape, order: h.order, offset: h.dataOffset })
}

function fileSize(path: string): number {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (e) {
    throw ioError(`cannot open ${path}`, e)
  }
  try {
    return fstatSync(fd).size
  } finally {
    closeSync(fd)
  }
}

/** The start of the file, enough for any .npy header (they are at most a few KiB in practice; capped at 16 MiB). */
function readHead(path: string): Uint8Array {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (e) {
    throw ioError(`cannot open ${path}`, e)
  }
  try {
    const pre = new Uint8Array(12)
    const n = readSync(fd, pre, 0, 12, 0)
    const len =
      n < 12 ? 0 : pre[6] === 1 ? pre[8] | (pre[9] << 8) : new DataView(pre.buffer).getUint32(8, true)
    const buf = new Uint8Array(Math.min(12 + len, 1 << 24))
    const got = readSync(fd, buf, 0, buf.length, 0)
    return buf.subarray(0, got)
  } finally {
    closeSync(fd)
  }
}
