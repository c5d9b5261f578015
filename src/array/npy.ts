// .npy files (NumPy format 1.0 / 2.0 / 3.0): the header (read strictly: npy-header.ts), writing, and
// import/export through stream.ts. An export is written to an exclusive temporary file and published
// under its name only when complete (util/publish.ts).

import type { Connection } from '../db/connection.ts'
import { CorruptError, InvalidArgumentError } from '../errors.ts'
import { openRegular } from '../util/exclusive.ts'
import type { BigArray } from './bigarray.ts'
import {
  type ByteSink,
  type ByteSource,
  type ExportOptions,
  expectEnd,
  exportToFile,
  fileSource,
  readFully,
} from './bytes.ts'
import { DTYPES, type DType, dtypeInfo, dtypeOfNpy, itemsizeOf } from './dtype.ts'
import type { Order } from './layout.ts'
import { type PyValue, parseNpyHeaderDict, pyRepr } from './npy-header.ts'
import type { Progress } from './progress.ts'
import {
  createForImport,
  type ImportOptions,
  importStraight,
  importTransaction,
  readElements,
  writeElements,
} from './stream.ts'

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] // \x93NUMPY

/** NumPy refuses longer headers by default (`max_header_size`): so do we. */
export const MAX_NPY_HEADER = 10000

/** What an .npy header says about its data. */
export interface NpyHeader {
  /** The element type. */
  dtype: DType
  /** Whether the elements are big-endian ('>' in the descr). */
  bigEndian: boolean
  /** 'F' when fortran_order is True, else 'C'. */
  order: Order
  /** Length of each axis. */
  shape: number[]
  /** Byte offset of the data. */
  dataOffset: number
  /** Bytes of data the header declares (elements × itemsize): the file must end right after them. */
  dataBytes: number
}

const bad = (why: string) => new CorruptError(`not a valid .npy file: ${why}`)

/** The NumPy type code of a dtype: 'f8', 'i4', 'u1', … */
function npyCode(d: DType): string {
  return `${d[0] === 'u' ? 'u' : d[0] === 'f' ? 'f' : 'i'}${itemsizeOf(d)}`
}

const SUPPORTED = DTYPES.map((d) => `${d} (${npyCode(d)})`).join(', ')

const KINDS: Record<string, string> = {
  b: 'bool',
  '?': 'bool',
  c: 'complex',
  U: 'unicode string',
  S: 'byte string',
  a: 'byte string',
  V: 'void/structured',
  O: 'Python object',
  M: 'datetime',
  m: 'timedelta',
  f: 'floating point',
  i: 'signed integer',
  u: 'unsigned integer',
}

function unsupported(descr: string, why: string): InvalidArgumentError {
  return new InvalidArgumentError(`unsupported dtype ${descr} (${why}); supported: ${SUPPORTED}`)
}

/** The dtype and byte order of a header's descr: EINVAL for a NumPy dtype we do not handle. */
function dtypeOfDescr(descr: string | { readonly list: readonly PyValue[] }): {
  dtype: DType
  bigEndian: boolean
} {
  if (typeof descr !== 'string') throw unsupported(`with ${descr.list.length} fields`, 'structured')
  const m = /^([<>|=]?)([A-Za-z?])(\d*)(\[\w+\])?$/.exec(descr)
  if (!m) throw bad(`descr ${pyRepr(descr)} is not a NumPy dtype string`)
  const [, endian, kind, size] = m
  const dtype = kind === 'b' || kind === '?' ? undefined : dtypeOfNpy(kind + size)
  if (!dtype) {
    const k = KINDS[kind]
    // NumPy writes dtype.str: a byte order, a kind it knows and a size.
    if (!k) throw bad(`descr ${pyRepr(descr)} is not a NumPy dtype string`)
    throw unsupported(pyRepr(descr), size && 'fiu'.includes(kind) ? `${k} of ${size} bytes` : k)
  }
  dtypeInfo(dtype) // float16 without Float16Array: InvalidArgumentError
  return { dtype, bigEndian: endian === '>' }
}

/** The length-field size and text encoding of a format version; CorruptError for an unknown one. */
function version(b: Uint8Array): { lenSize: number; utf8: boolean } {
  if (MAGIC.some((m, i) => b[i] !== m)) throw bad('no \\x93NUMPY magic')
  const major = b[6]
  if (major < 1 || major > 3 || b[7] !== 0) throw bad(`unsupported format version ${major}.${b[7]}`)
  return { lenSize: major === 1 ? 2 : 4, utf8: major === 3 }
}

/** The header text as NumPy decodes it: latin1 for 1.0/2.0, UTF-8 (strict) for 3.0. */
function decode(bytes: Uint8Array, utf8: boolean): string {
  try {
    return new TextDecoder(utf8 ? 'utf-8' : 'latin1', { fatal: true }).decode(bytes)
  } catch (e) {
    throw new CorruptError('not a valid .npy file: the 3.0 header is not UTF-8', { cause: e })
  }
}

function headerOf(text: string, utf8: boolean, dataOffset: number): NpyHeader {
  const d = parseNpyHeaderDict(text, !utf8)
  const { dtype, bigEndian } = dtypeOfDescr(d.descr)
  let elements = 1
  for (const n of d.shape) elements *= n
  const dataBytes = elements * itemsizeOf(dtype)
  if (!Number.isSafeInteger(dataBytes))
    throw bad(`shape (${d.shape.join(', ')}) of ${dtype} declares more bytes than a file can hold`)
  return { dtype, bigEndian, order: d.fortranOrder ? 'F' : 'C', shape: d.shape, dataOffset, dataBytes }
}

function headerLength(b: Uint8Array, lenSize: number): number {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const hlen = lenSize === 2 ? dv.getUint16(8, true) : dv.getUint32(8, true)
  if (hlen > MAX_NPY_HEADER)
    throw bad(`the header is ${hlen} bytes long, more than NumPy's limit of ${MAX_NPY_HEADER}`)
  return hlen
}

/** Parses the header at the start of `b` (which must hold all of it). */
export function parseNpyHeader(b: Uint8Array): NpyHeader {
  if (b.length < 10) throw bad('truncated header')
  const { lenSize, utf8 } = version(b)
  if (b.length < 8 + lenSize) throw bad('truncated header')
  const hlen = headerLength(b, lenSize)
  const start = 8 + lenSize
  if (b.length < start + hlen) throw bad('truncated header')
  return headerOf(decode(b.subarray(start, start + hlen), utf8), utf8, start + hlen)
}

/** Reads and parses the header from the start of `src`, which is left at the first data byte. */
export async function readNpyHeader(src: ByteSource, what = 'the .npy file'): Promise<NpyHeader> {
  const pre = new Uint8Array(12)
  const head = pre.subarray(0, 8)
  try {
    await readFully(src, head, what)
  } catch (e) {
    if (e instanceof CorruptError) throw bad(`${what} is shorter than the .npy preamble`)
    throw e
  }
  const { lenSize, utf8 } = version(pre)
  await readFully(src, pre.subarray(8, 8 + lenSize), `${what}'s header`)
  const hlen = headerLength(pre, lenSize)
  const text = new Uint8Array(hlen)
  await readFully(src, text, `${what}'s header`)
  return headerOf(decode(text, utf8), utf8, 8 + lenSize + hlen)
}

/** CorruptError unless a file of `size` bytes holds exactly the header and the data it declares. */
export function checkNpySize(h: NpyHeader, size: number, what = 'the .npy file'): void {
  const want = h.dataOffset + h.dataBytes
  if (size < want)
    throw bad(
      `${what} is truncated: its header declares ${h.dataBytes} bytes of data (shape (${h.shape.join(', ')}) of ${h.dtype}), the file has ${Math.max(0, size - h.dataOffset)}`,
    )
  if (size > want) throw bad(`${what} has ${size - want} trailing bytes after the data its header declares`)
}

/** The header of a little-endian C-order .npy of `dtype` and `shape`, padded to 64 bytes (version 1.0, or 2.0 when long). */
export function npyHeader(dtype: DType, shape: readonly number[]): Uint8Array {
  const info = dtypeInfo(dtype)
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`
  const dict = `{'descr': '${info.itemsize === 1 ? '|' : '<'}${info.npy}', 'fortran_order': False, 'shape': ${tuple}, }`
  for (const major of [1, 2]) {
    const pre = 8 + (major === 1 ? 2 : 4)
    const total = Math.ceil((pre + dict.length + 1) / 64) * 64
    const hlen = total - pre
    if (major === 1 && hlen > 0xffff) continue
    const out = new Uint8Array(total)
    out.set(MAGIC)
    out[6] = major
    out[7] = 0
    const dv = new DataView(out.buffer)
    if (major === 1) dv.setUint16(8, hlen, true)
    else dv.setUint32(8, hlen, true)
    const text = `${dict.padEnd(hlen - 1, ' ')}\n`
    for (let i = 0; i < text.length; i++) out[pre + i] = text.charCodeAt(i)
    return out
  }
  throw new Error('unreachable')
}

/** Writes `a` (any view) as a C-order little-endian .npy to `out`; progress counts data bytes. */
export async function writeNpy(a: BigArray, out: ByteSink, progress?: Progress): Promise<void> {
  await out.write(npyHeader(a.dtype, a.shape))
  await writeElements(a, out, progress)
}

/** Writes `a` (any view) as a C-order little-endian .npy file, whole or not at all; progress counts data bytes. */
export async function exportNpy(a: BigArray, path: string, options: ExportOptions = {}): Promise<void> {
  await exportToFile(path, options, (out) => writeNpy(a, out, options))
}

/**
 * Creates array `name` from an .npy file (any version, either byte order, C or Fortran order — a Fortran
 * file becomes an F-order array). The header is parsed strictly and the file must hold exactly the data it
 * declares (CorruptError otherwise; EINVAL for a dtype bigfile does not support); a missing file is
 * NotFoundError, a directory or FIFO InvalidArgumentError. The import is one transaction: refused (EBUSY)
 * while the connection has uncommitted changes, committed before it returns, and aborted on any failure,
 * so other connections see the whole array or nothing. Any size: the blocks are written straight into the
 * storage transaction as they are read (ImportOptions.straight: no page of the RAM budget is used, nothing
 * spills; the database's write lock is held while the file is read). `commitEvery` opts into intermediate
 * commits through the array's pages instead (those pieces stay if the import fails). Progress counts
 * data bytes.
 */
export async function importNpy(
  conn: Connection,
  name: string,
  path: string,
  options: { blksize?: number } & ImportOptions = {},
): Promise<BigArray> {
  await using inp = await openRegular(path, { follow: true })
  const src = fileSource(inp)
  const h = await readNpyHeader(src, path)
  checkNpySize(h, (await inp.stat()).size, path)
  return await importNpyFrom(conn, name, src, h, { straight: true, ...options, what: path })
}

/**
 * importNpy from a source already past its header `h` (readNpyHeader): a pipe such as stdin works,
 * since the data is read once, in order; trailing bytes are CorruptError. Through the array's pages
 * (dirty pages beyond the RAM budget spill) unless `straight` (see ImportOptions).
 */
export async function importNpyFrom(
  conn: Connection,
  name: string,
  src: ByteSource,
  h: NpyHeader,
  options: { blksize?: number; what?: string } & ImportOptions = {},
): Promise<BigArray> {
  const what = options.what ?? 'the .npy data'
  if (options.straight === true && options.commitEvery === undefined && !conn.readOnly) {
    const create = {
      dtype: h.dtype,
      shape: h.shape,
      order: h.order,
      ...(options.blksize === undefined ? {} : { blksize: options.blksize }),
    }
    const end = () => expectEnd(src, what)
    return await importStraight(conn, 'importNpy', name, src, what, create, {
      ...options,
      swap: h.bigEndian,
      end,
    })
  }
  return await importTransaction(conn, 'importNpy', async () => {
    const a = await createForImport(conn, name, {
      dtype: h.dtype,
      shape: h.shape,
      order: h.order,
      ...(options.blksize === undefined ? {} : { blksize: options.blksize }),
    })
    await readElements(conn, a, src, what, { ...options, storageOrder: true, swap: h.bigEndian })
    await expectEnd(src, what)
    return a
  })
}
