// What import and export share: the file format (by --format or the file's extension) and the checks
// made before any work starts, so that a mistake is a usage or not-found error, not a half-done job.
import { statSync } from 'node:fs'
import { NotFoundError } from '../errors.ts'
import { UsageError } from './exit.ts'

export type Format = 'npy' | 'raw'

export function formatOf(file: string, flag: string | undefined): Format {
  if (flag !== undefined) {
    if (flag === 'npy' || flag === 'raw') return flag
    throw new UsageError(`--format: must be npy or raw, got ${JSON.stringify(flag)}`)
  }
  return file.toLowerCase().endsWith('.npy') ? 'npy' : 'raw'
}

/** The size of an input file; NotFoundError (exit 3) when missing, UsageError when not a file. */
export function inputSize(file: string): number {
  let st: ReturnType<typeof statSync>
  try {
    st = statSync(file)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new NotFoundError(`input file ${file} does not exist`)
    throw e
  }
  if (!st.isFile()) throw new UsageError(`${file} is not a regular file`)
  return st.size
}

/**
 * The name an import writes to until it is complete. Imports commit as they go (dirty pages cannot
 * leave RAM before commit), so the target name only appears, by rename, once everything is in.
 */
export function stagingName(name: string): string {
  return `.importing.${process.pid}.${Date.now().toString(36)}.${name}`
}
