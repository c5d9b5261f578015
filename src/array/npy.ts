// .npy files (NumPy format 1.0 / 2.0 / 3.0): header parsing and writing; the data goes through stream.ts.
import { open } from 'node:fs/promises'
import type { Connection } from '../db/connection.ts'
import { CorruptError } from '../errors.ts'
import { BigArray } from './bigarray.ts'
import { type DType, dtypeInfo, dtypeOfNpy } from './dtype.ts'
import type { Order } from './layout.ts'
import type { Progress } from './progress.ts'
import { type ImportOptions, readElements, writeElements } from './stream.ts'

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59] // \x93NUMPY

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
}

/** Parses the header at the start of `b` (which must hold all of it). */
export function parseNpyHeader(b: Uint8Array): NpyHeader {
  const bad = (why: string) => new CorruptError(`not a valid .npy file: ${why}`)
  if (b.length < 10 || MAGIC.some((m, i) => b[i] !== m)) throw bad('no \\x93NUMPY magic')
  const major = b[6]
  if (major < 1 || major > 3) throw bad(`unsupported version ${major}.${b[7]}`)
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const lenSize = major === 1 ? 2 : 4
  if (b.length < 8 + lenSize) throw bad('truncated header')
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true)
  const start = 8 + lenSize
  if (b.length < start + hlen) throw bad('truncated header')
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(b.subarray(start, start + hlen))
  const descr = /['"]descr['"]\s*:\s*['"]([<>|=])([a-z])(\d+)['"]/.exec(text)
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)
  const shapeM = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)
  if (!descr || !fortran || !shapeM) throw bad(`cannot read header ${JSON.stringify(text)}`)
  const dtype = dtypeOfNpy(descr[2] + descr[3])
  if (!dtype) throw bad(`unsupported dtype ${descr[1]}${descr[2]}${descr[3]}`)
  dtypeInfo(dtype) // float16 without Float16Array: InvalidArgumentError
  const shape = shapeM[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const n = Number(s.replace(/L$/, ''))
      if (!Number.isSafeInteger(n) || n < 0) throw bad(`bad shape (${shapeM[1]})`)
      return n
    })
  return {
    dtype,
    bigEndian: descr[1] === '>',
    order: fortran[1] === 'True' ? 'F' : 'C',
    shape,
    dataOffset: start + hlen,
  }
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

/** Writes `a` (any view) as a C-order little-endian .npy; progress counts data bytes. */
export async function exportNpy(a: BigArray, path: string, progress?: Progress): Promise<void> {
  const header = npyHeader(a.dtype, a.shape)
  await using out = await open(path, 'w')
  await out.write(header, 0, header.length, 0)
  await writeElements(a, out, header.length, progress)
}

/**
 * Creates array `name` in the connection's transaction from an .npy file (any version, either byte
 * order, C or Fortran order — a Fortran file becomes an F-order array). Commits every `commitEvery`
 * bytes (default: half the RAM) so the import can exceed the RAM budget; on error the transaction is
 * left to the caller to abort. Progress counts data bytes.
 */
export async function importNpy(
  conn: Connection,
  name: string,
  path: string,
  options: { blksize?: number } & ImportOptions = {},
): Promise<BigArray> {
  await using inp = await open(path, 'r')
  const head = new Uint8Array(12)
  await inp.read(head, 0, 12, 0)
  const hlen = head[6] === 1 ? head[8] | (head[9] << 8) : new DataView(head.buffer).getUint32(8, true)
  const buf = new Uint8Array(Math.min(12 + hlen, 1 << 24))
  await inp.read(buf, 0, buf.length, 0)
  const h = parseNpyHeader(buf)
  const a = await BigArray.create(conn, name, {
    dtype: h.dtype,
    shape: h.shape,
    order: h.order,
    ...(options.blksize === undefined ? {} : { blksize: options.blksize }),
  })
  await readElements(conn, a, inp, h.dataOffset, { ...options, storageOrder: true, swap: h.bigEndian })
  return a
}
