// The rules of first-committer-wins, shared by every storage: each storage reads what committed after a
// transaction's snapshot its own way (one statement, one round trip) and hands the rows here.
import { ConflictError } from '../errors.ts'
import { intersect } from './sqlite/blocklist.ts'
import type { Touched } from './storage.ts'

/** What a commit after `at` did to one file, as its log row says. */
export interface LoggedChange {
  /** Blocks it wrote, ascending. */
  readonly blocks: readonly number[]
  /** It changed the record (size, meta, name or deletion). */
  readonly record: boolean
}

/** Another commit after the snapshot took the name a new file of this transaction wants. */
export function nameConflict(name: string): ConflictError {
  return new ConflictError(
    name,
    [],
    `conflict on file ${JSON.stringify(name)}: another commit used this name after this transaction's snapshot`,
  )
}

/**
 * Throws ConflictError when a change after the snapshot wrote a block `t` writes, or changed the record
 * `t` changes too. Answers whether any of them changed the record (then `recordConflicts` must look).
 */
export function logConflicts(t: Touched, changes: Iterable<LoggedChange>): boolean {
  const hit = new Set<number>()
  let record = false
  let theirRecord = false
  for (const r of changes) {
    for (const b of intersect(r.blocks, t.blocks)) hit.add(b)
    if (r.record) theirRecord = true
    if (t.record && r.record) record = true
  }
  if (hit.size > 0 || record)
    throw new ConflictError(
      t.name,
      [...hit].sort((a, b) => a - b),
    )
  return theirRecord
}

/**
 * Throws ConflictError when the file's newest record (`now`, undefined or nameless when deleted) says
 * another commit deleted it, or — when another commit changed its record — shrank it below a block `t`
 * writes: those blocks would come back to life when it grows again, which no serial order allows.
 */
export function recordConflicts(
  t: Touched,
  now: { readonly name: string | null; readonly blksize: number; readonly size: number } | undefined,
  theirRecord: boolean,
): void {
  if (!now || now.name === null) {
    throw new ConflictError(
      t.name,
      t.blocks,
      `conflict on file ${JSON.stringify(t.name)}: another commit deleted it`,
    )
  }
  if (!theirRecord) return
  const past = t.blocks.filter((b) => b * now.blksize >= now.size)
  if (past.length > 0) {
    throw new ConflictError(
      t.name,
      past,
      `conflict on file ${JSON.stringify(t.name)}: another commit shrank it below blocks ${past.join(', ')}`,
    )
  }
}
