// What import and export share: the file format (by --format or the file's extension) and the checks
// made before any work starts, so that a mistake is a usage or not-found error, not a half-done job.
import { createHash } from 'node:crypto'
import { statSync } from 'node:fs'
import { MAX_NAME_LENGTH } from '../db/check.ts'
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
 * It is `.importing.<pid>.<time>.<NAME>`, with NAME shortened (and a hash of it added) where the whole
 * would exceed the database's name limit: any NAME that `create` accepts can be imported.
 */
export function stagingName(name: string): string {
  const prefix = `.importing.${process.pid}.${Date.now().toString(36)}.`
  if (prefix.length + name.length <= MAX_NAME_LENGTH) return prefix + name
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 12)
  let head = name.slice(0, MAX_NAME_LENGTH - prefix.length - hash.length - 1)
  // Never end on half a surrogate pair: the name must stay well-formed Unicode.
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1)
  return `${prefix}${head}~${hash}`
}
