export {
  BigArray,
  type ChunkOptions,
  type CreateArrayOptions,
  type OverOptions,
} from './bigarray.ts'
export {
  type AnyTypedArray,
  DTYPES,
  type DType,
  dtypeOf,
  type Element,
  isDType,
  itemsizeOf,
  SUPPORTED_DTYPES,
  type TypedArrayOf,
} from './dtype.ts'
export type { Order } from './layout.ts'
export { type ArrayMeta, readArrayMeta } from './meta.ts'
export { exportNpy, importNpy, type NpyHeader, npyHeader, parseNpyHeader } from './npy.ts'
export type { Progress } from './progress.ts'
export { exportRaw, importRaw } from './raw.ts'
export { all, type Index, newaxis, type Slice, slice } from './slice.ts'
export type { ImportOptions } from './stream.ts'
