// Raw binary import/export: the elements in C order, little-endian, nothing else.
import type { Connection } from '../db/connection.ts'
import { CorruptError } from '../errors.ts'
import { openRegular } from '../util/exclusive.ts'
import type { BigArray, CreateArrayOptions } from './bigarray.ts'
import {
  type ByteSink,
  type ByteSource,
  type ExportOptions,
  expectEnd,
  exportToFile,
  fileSource,
} from './bytes.ts'
import { dtypeInfo } from './dtype.ts'
import { checkShape, sizeOf } from './layout.ts'
import type { Progress } from './progress.ts'
import {
  createForImport,
  type ImportOptions,
  importTransaction,
  readElements,
  writeElements,
} from './stream.ts'

/**
 * Writes `a` (any view) as raw C-order little-endian elements, whole or not at all (as exportNpy:
 * an exclusive temporary file published at the end); progress counts bytes.
 */
export async function exportRaw(a: BigArray, path: string, options: ExportOptions = {}): Promise<void> {
  await exportToFile(path, options, (out) => writeElements(a, out, options))
}

/** Writes `a` (any view) to `out` as raw C-order little-endian elements; progress counts bytes. */
export async function writeRaw(a: BigArray, out: ByteSink, progress?: Progress): Promise<void> {
  await writeElements(a, out, progress)
}

/** The bytes `options` describe, checked before any work. */
function rawBytes(options: CreateArrayOptions): number {
  return sizeOf(checkShape(options.shape)) * dtypeInfo(options?.dtype).itemsize
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
  const want = rawBytes(options)
  await using inp = await openRegular(path, { follow: true })
  const { size } = await inp.stat()
  if (size !== want)
    throw new CorruptError(
      `${path} has ${size} bytes; shape ${JSON.stringify(options.shape)} of ${options.dtype} needs ${want}`,
    )
  return await importRawFrom(conn, name, fileSource(inp), { ...options, what: path })
}

/** importRaw from a source read once, in order (a pipe such as stdin): it must hold exactly the shape's bytes. */
export async function importRawFrom(
  conn: Connection,
  name: string,
  src: ByteSource,
  options: CreateArrayOptions & ImportOptions & { what?: string },
): Promise<BigArray> {
  rawBytes(options) // validates the shape; either order works: pages beyond the budget spill
  const what = options.what ?? 'the raw data'
  return await importTransaction(conn, 'importRaw', async () => {
    const a = await createForImport(conn, name, options)
    await readElements(conn, a, src, what, { ...options, storageOrder: a.order === 'C', swap: false })
    await expectEnd(src, what)
    return a
  })
}
