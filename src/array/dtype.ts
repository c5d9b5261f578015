// The dtype table: item size, typed-array constructor and the VMA accessors, chosen once per array so
// element access never switches on a dtype string.
import { InvalidArgumentError } from '../errors.ts'
import type { VMA } from '../virtmem/vma.ts'

/** The element types of a BigArray, named as NumPy names them. */
export type DType =
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'float16'
  | 'float32'
  | 'float64'

/** An element value of any dtype: a number, or a bigint for 64-bit integer dtypes. */
export type Element = number | bigint

/** The element value of dtype `D`: `bigint` for int64/uint64, `number` otherwise (a union for a union). */
export type ElementOf<D extends DType> = D extends 'int64' | 'uint64' ? bigint : number

/**
 * The typed array over elements of `D`. float16 chunks are `Float16Array`s at runtime; they are typed as
 * Float32Array (same members) because the TypeScript lib this project targets has no Float16Array yet.
 */
export type TypedArrayOf<D extends DType> = D extends 'int8'
  ? Int8Array
  : D extends 'uint8'
    ? Uint8Array
    : D extends 'int16'
      ? Int16Array
      : D extends 'uint16'
        ? Uint16Array
        : D extends 'int32'
          ? Int32Array
          : D extends 'uint32'
            ? Uint32Array
            : D extends 'int64'
              ? BigInt64Array
              : D extends 'uint64'
                ? BigUint64Array
                : D extends 'float32' | 'float16'
                  ? Float32Array
                  : Float64Array

/** A typed array of any dtype. */
export type AnyTypedArray = TypedArrayOf<DType>

/** A typed-array constructor of a dtype. */
export interface TypedArrayCtor {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): AnyTypedArray
  new (length: number): AnyTypedArray
  readonly BYTES_PER_ELEMENT: number
}

/** Reads the element at byte `off` of the VMA. */
export type ReadElement = (vma: VMA, off: number) => Element
/** Writes `v` as the element at byte `off` of the VMA. */
export type WriteElement = (vma: VMA, off: number, v: Element) => void

/** What the array layer knows of a dtype, looked up once per array. */
export interface DTypeInfo {
  readonly name: DType
  readonly itemsize: number
  readonly bigint: boolean
  readonly float: boolean
  readonly ctor: TypedArrayCtor
  readonly get: ReadElement
  readonly set: WriteElement
  /** .npy type code without byte order: f8, i4, u1, ... */
  readonly npy: string
}

const F16 = (globalThis as unknown as { Float16Array?: TypedArrayCtor }).Float16Array
// Reinterpreting through a shared pair avoids allocation; VMA has no getFloat16.
const f16 = F16 ? (new F16(1) as unknown as Float32Array) : new Float32Array(1)
const f16bits = new Uint16Array(f16.buffer, 0, 1)

/**
 * A number as is, anything else through Number(): the typeof test lets the optimizing compiler keep a
 * number unboxed (a bare Number() of a value it cannot type became a builtin call on a boxed number).
 */
const num = (v: Element): number => (typeof v === 'number' ? v : Number(v))

/**
 * Number elements are coerced with Number(); bigint ones take a bigint or an integral number (converted),
 * anything else is InvalidArgumentError rather than BigInt's RangeError/SyntaxError.
 */
const big = (v: Element): bigint => (typeof v === 'bigint' ? v : toBigSlow(v))

function toBigSlow(v: unknown): bigint {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  throw new InvalidArgumentError(
    `${typeof v === 'string' ? JSON.stringify(v) : String(v)} is not an integer: a 64-bit element takes a bigint or an integral number`,
  )
}

function info(
  name: DType,
  itemsize: number,
  ctor: TypedArrayCtor,
  get: ReadElement,
  set: WriteElement,
  npy: string,
): DTypeInfo {
  const bigint = name === 'int64' || name === 'uint64'
  return { name, itemsize, bigint, float: npy[0] === 'f', ctor, get, set, npy }
}

const TABLE: Record<DType, DTypeInfo | undefined> = {
  int8: info(
    'int8',
    1,
    Int8Array,
    (m, o) => m.getInt8(o),
    (m, o, v) => m.setInt8(o, num(v)),
    'i1',
  ),
  uint8: info(
    'uint8',
    1,
    Uint8Array,
    (m, o) => m.getUint8(o),
    (m, o, v) => m.setUint8(o, num(v)),
    'u1',
  ),
  int16: info(
    'int16',
    2,
    Int16Array,
    (m, o) => m.getInt16(o),
    (m, o, v) => m.setInt16(o, num(v)),
    'i2',
  ),
  uint16: info(
    'uint16',
    2,
    Uint16Array,
    (m, o) => m.getUint16(o),
    (m, o, v) => m.setUint16(o, num(v)),
    'u2',
  ),
  int32: info(
    'int32',
    4,
    Int32Array,
    (m, o) => m.getInt32(o),
    (m, o, v) => m.setInt32(o, num(v)),
    'i4',
  ),
  uint32: info(
    'uint32',
    4,
    Uint32Array,
    (m, o) => m.getUint32(o),
    (m, o, v) => m.setUint32(o, num(v)),
    'u4',
  ),
  int64: info(
    'int64',
    8,
    BigInt64Array as unknown as TypedArrayCtor,
    (m, o) => m.getBigInt64(o),
    (m, o, v) => m.setBigInt64(o, big(v)),
    'i8',
  ),
  uint64: info(
    'uint64',
    8,
    BigUint64Array as unknown as TypedArrayCtor,
    (m, o) => m.getBigUint64(o),
    (m, o, v) => m.setBigUint64(o, big(v)),
    'u8',
  ),
  float16: F16
    ? info(
        'float16',
        2,
        F16,
        (m, o) => {
          f16bits[0] = m.getUint16(o)
          return f16[0]
        },
        (m, o, v) => {
          f16[0] = num(v)
          m.setUint16(o, f16bits[0])
        },
        'f2',
      )
    : undefined,
  float32: info(
    'float32',
    4,
    Float32Array,
    (m, o) => m.getFloat32(o),
    (m, o, v) => m.setFloat32(o, num(v)),
    'f4',
  ),
  float64: info(
    'float64',
    8,
    Float64Array,
    (m, o) => m.getFloat64(o),
    (m, o, v) => m.setFloat64(o, num(v)),
    'f8',
  ),
}

/** Every dtype name, in the table's order; float16 is listed even where the runtime lacks Float16Array. */
export const DTYPES: readonly DType[] = Object.keys(TABLE) as DType[]

/** Whether `name` is a dtype name (float16 included, whether or not the runtime supports it). */
export function isDType(name: unknown): name is DType {
  return typeof name === 'string' && Object.hasOwn(TABLE, name)
}

/** Bytes per element, from the width in bits the name ends with: known without the runtime's support. */
export function itemsizeOf(dtype: DType): number {
  return Number(dtype.slice(dtype.search(/\d/))) / 8
}

/**
 * The table entry of `name` (a dtype name or a NumPy code, see dtypeOf); InvalidArgumentError for an
 * unknown dtype or float16 without Float16Array.
 */
export function dtypeInfo(name: unknown): DTypeInfo {
  const d = TABLE[dtypeOf(name)]
  if (d) return d
  throw new InvalidArgumentError('float16 needs a runtime with Float16Array')
}

/** The NumPy type code of a dtype without byte order: `f8`, `i4`, `u1` (known without the runtime's support). */
function codeOf(d: DType): string {
  return `${d[0]}${itemsizeOf(d)}`
}

/** What dtype messages list: `int8 (i1), uint8 (u1), ..., float64 (f8)`. */
export const SUPPORTED_DTYPES = DTYPES.map((d) => `${d} (${codeOf(d)})`).join(', ')

const OTHER_KINDS: Record<string, string> = {
  b: 'bool',
  c: 'complex',
  U: 'unicode',
  S: 'bytes',
  V: 'void',
  M: 'datetime',
  m: 'timedelta',
  O: 'object',
}

/**
 * The dtype named by `text`: a name (`float64`) or a NumPy type code (`f8`, `<f8`, `=f8`, `|u1`: `<` is
 * little-endian, what bigfile stores, and so is `=`, native order, on every platform Node runs on).
 * InvalidArgumentError listing what is supported otherwise; big-endian codes (`>f8`), bool (`b1`) and
 * NumPy's other kinds (complex, unicode, ...) are refused by name.
 */
export function dtypeOf(text: unknown): DType {
  if (isDType(text)) return text
  const bad = (why: string) =>
    new InvalidArgumentError(`${why} (supported: ${SUPPORTED_DTYPES}; codes may start with < or =)`)
  const m = typeof text === 'string' ? /^([<>=|]?)([a-zA-Z])(\d*)$/.exec(text) : null
  if (!m) throw bad(`unknown dtype ${typeof text === 'string' ? JSON.stringify(text) : String(text)}`)
  const [, order, kind, width] = m
  const d = DTYPES.find((n) => codeOf(n) === kind + width)
  // '|' means "byte order does not apply": only for one-byte types, as NumPy writes them.
  if (d && (order === '' || order === '<' || order === '=' || (order === '|' && width === '1'))) return d
  if (d && order === '>')
    throw bad(`big-endian dtype ${JSON.stringify(text)} is not supported: arrays are little-endian`)
  const other = OTHER_KINDS[kind]
  if (other) throw bad(`dtype ${JSON.stringify(text)} (${other}) is not supported`)
  throw bad(`unknown dtype ${JSON.stringify(text)}`)
}

/** The dtype of an .npy type code without byte order ('f8', 'i4', ...), or undefined. */
export function dtypeOfNpy(code: string): DType | undefined {
  for (const d of Object.values(TABLE)) if (d && d.npy === code) return d.name
  return undefined
}
