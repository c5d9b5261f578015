// Reading a file record as an array description without opening the array: `info`, `ls` and `stats`
// work on any database file, array or not.
import { type ArrayMeta, readArrayMeta } from '../array/meta.ts'
import type { FileRecord } from '../db/storage.ts'
import { InvalidArgumentError } from '../errors.ts'

/** The array description in a record's meta ({ bigarray: 1, dtype, shape, order }), if it is a valid one. */
export function arrayMeta(rec: FileRecord): ArrayMeta | undefined {
  try {
    return readArrayMeta(rec.meta)
  } catch (e) {
    if (e instanceof InvalidArgumentError) return undefined
    throw e
  }
}

export function formatShape(shape: readonly number[]): string {
  return shape.join(',')
}
