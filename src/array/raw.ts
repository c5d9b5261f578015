// Raw binary import/export: the elements in C order, little-endian, nothing else.
import { open } from 'node:fs/promises'
import type { Connection } from '../db/connection.ts'
import { CorruptError, InvalidArgumentError } from '../errors.ts'
import { BigArray, type CreateArrayOptions } from './bigarray.ts'
import { dtypeInfo } from './dtype.ts'
import { checkShape, sizeOf } from './layout.ts'
import type { Progress } from './progress.ts'
import { type ImportOptions, readElements, writeElements } from './stream.ts'

/** Writes `a` (any view) as raw C-order little-endian elements; progress counts bytes. */
export async function exportRaw(a: BigArray, path: string, progress?: Progress): Promise<void> {
  await using out = await open(path, 'w')
  await writeElements(a, out, 0, progress)
}

/**
 * Creates array `name` from a raw file of C-order little-endian elements, whose length must be exactly
 * the shape's. An F-order target must fit in half the RAM (its pages are written out of order). Commits every `commitEvery` bytes (default: half the RAM), as importNpy.
 */
export async function importRaw(
  conn: Connection,
  name: string,
  path: string,
  options: CreateArrayOptions & ImportOptions,
): Promise<BigArray> {
  await using inp = await open(path, 'r')
  const { size } = await inp.stat()
  const info = dtypeInfo(options?.dtype)
  const want = sizeOf(checkShape(options.shape)) * info.itemsize
  if (size !== want)
    throw new CorruptError(
      `${path} has ${size} bytes; shape ${JSON.stringify(options.shape)} of ${info.name} needs ${want}`,
    )
  // C-order elements land all over an F-order array's pages, so that import cannot commit as it goes.
  if (options.order === 'F' && want > conn.ram.capacity / 2)
    throw new InvalidArgumentError(
      `importRaw into an F-order array must fit in half the RAM (${want} bytes); import C order and transpose`,
    )
  const a = await BigArray.create(conn, name, options)
  await readElements(conn, a, inp, 0, { ...options, storageOrder: a.order === 'C', swap: false })
  return a
}
