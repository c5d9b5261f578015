export {
  type ArrayChunk,
  BigArray,
  type ChunkOptions,
  type CreateArrayOptions,
  type OpenArrayOptions,
  type OverOptions,
} from './bigarray.ts'
export {
  type ByteSink,
  type ByteSource,
  type ExportOptions,
  fileSink,
  fileSource,
  streamSink,
  streamSource,
} from './bytes.ts'
export {
  type AnyTypedArray,
  DTYPES,
  type DType,
  dtypeOf,
  type Element,
  type ElementOf,
  isDType,
  itemsizeOf,
  SUPPORTED_DTYPES,
  type TypedArrayOf,
} from './dtype.ts'
export type { Order } from './layout.ts'
export { type MemmapOptions, memmap, type OpenNpyOptions, openNpy } from './memmap.ts'
export { type ArrayMeta, readArrayMeta } from './meta.ts'
export {
  checkNpySize,
  exportNpy,
  importNpy,
  importNpyFrom,
  MAX_NPY_HEADER,
  type NpyHeader,
  npyHeader,
  parseNpyHeader,
  readNpyHeader,
  writeNpy,
} from './npy.ts'
export type { Progress } from './progress.ts'
export { exportRaw, importRaw, importRawFrom, writeRaw } from './raw.ts'
export type { Region, RegionLike, RegionSource } from './region.ts'
export { all, type Index, newaxis, type Slice, slice } from './slice.ts'
export type { ImportOptions } from './stream.ts'
