// Raw binary import/export: the elements in C order, little-endian, nothing else.
import { open } from 'node:fs/promises'
import type { Connection } from '../db/connection.ts'
import { CorruptError } from '../errors.ts'
import { BigArray, type CreateArrayOptions } from './bigarray.ts'
import { dtypeInfo } from './dtype.ts'
import { checkShape, sizeOf } from './layout.ts'
import type { Progress } from './progress.ts'
import { type ImportOptions, importTransaction, readElements, writeElements } from './stream.ts'

/** Writes `a` (any view) as raw C-order little-endian elements; progress counts bytes. */
export async function exportRaw(a: BigArray, path: string, progress?: Progress): Promise<void> {
  await using out = await open(path, 'w')
  await writeElements(a, out, 0, progress)
}

/**
 * Creates array `name` from a raw file of C-order little-endian elements, whose length must be exactly
 * the shape's, as one transaction committed before it returns (see importNpy: same contract). Any size
 * and either order: pages beyond the RAM budget spill.
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
  return await importTransaction(conn, 'importRaw', async () => {
    const a = await BigArray.create(conn, name, options)
    await readElements(conn, a, inp, 0, { ...options, storageOrder: a.order === 'C', swap: false })
    return a
  })
}
