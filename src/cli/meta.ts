// Reading a file record as an array description without loading the array layer: `info`, `ls` and
// `stats` work on any database file, array or not.
import type { FileRecord } from '../db/storage.ts'

export interface ArrayMeta {
  dtype: string
  shape: number[]
  order: string
}

/** The array description in a record's meta ({ bigarray: 1, dtype, shape, order }), if it is one. */
export function arrayMeta(rec: FileRecord): ArrayMeta | undefined {
  const m = rec.meta
  if (m.bigarray !== 1 || typeof m.dtype !== 'string' || !Array.isArray(m.shape)) return undefined
  return {
    dtype: m.dtype,
    shape: m.shape.map(Number),
    order: typeof m.order === 'string' ? m.order : 'C',
  }
}

export function formatShape(shape: readonly number[]): string {
  return shape.join(',')
}
