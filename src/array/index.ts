export {
  type ArrayChunk,
  BigArray,
  type ChunkOptions,
  type CreateArrayOptions,
  type OpenArrayOptions,
  type OverOptions,
} from './bigarray.ts'
export {
  type AnyTypedArray,
  DTYPES,
  type DType,
  type Element,
  type ElementOf,
  isDType,
  itemsizeOf,
  type TypedArrayOf,
} from './dtype.ts'
export type { Order } from './layout.ts'
export { type MemmapOptions, memmap, type OpenNpyOptions, openNpy } from './memmap.ts'
export { type ArrayMeta, readArrayMeta } from './meta.ts'
export { exportNpy, importNpy, type NpyHeader, npyHeader, parseNpyHeader } from './npy.ts'
export type { Progress } from './progress.ts'
export { exportRaw, importRaw } from './raw.ts'
export type { Region, RegionLike, RegionSource } from './region.ts'
export { all, type Index, newaxis, type Slice, slice } from './slice.ts'
export type { ImportOptions } from './stream.ts'
