// The metadata that makes a database file an array, and its check: shared by BigArray.open and by tools
// (the CLI's ls/info/stats) that describe files without opening them.
import { InvalidArgumentError } from '../errors.ts'
import { type DType, isDType } from './dtype.ts'
import { checkOrder, checkShape, type Order } from './layout.ts'

/** The metadata a database array file carries. */
export interface ArrayMeta {
  /** Marks the file as an array (format version 1). */
  bigarray: 1
  /** The element type. */
  dtype: DType
  /** Length of each axis. */
  shape: number[]
  /** Memory order of the elements. */
  order: Order
}

/**
 * The array description in a file's meta; InvalidArgumentError saying why when it is not one. The dtype is
 * checked by name only: whether this runtime can load it (float16) is BigArray.open's concern.
 */
export function readArrayMeta(meta: Readonly<Record<string, unknown>>): ArrayMeta {
  if (meta.bigarray !== 1) throw new InvalidArgumentError('its meta has no bigarray: 1')
  const { dtype } = meta
  if (!isDType(dtype)) throw new InvalidArgumentError(`unknown dtype ${JSON.stringify(dtype)}`)
  return { bigarray: 1, dtype, shape: checkShape(meta.shape), order: checkOrder(meta.order) }
}
