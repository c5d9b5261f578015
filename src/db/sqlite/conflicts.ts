// The conflict check of a commit (first committer wins), run in its write transaction after BEGIN.
import { ConflictError, StaleSnapshotError } from '../../errors.ts'
import type { Tid, Touched } from '../storage.ts'
import { decodeBlocks, intersect } from './blocklist.ts'
import { type LogRow, packedTid, type RecordRow, type Statements } from './statements.ts'

/**
 * Throws ConflictError when a commit after `at` wrote a block of `touched`, changed a record both
 * change, took the name of a file `touched` creates, deleted a touched file or shrank it below blocks
 * `touched` writes; StaleSnapshotError when `at` is older than the pack cutoff.
 */
export function checkConflicts(s: Statements, at: Tid, touched: readonly Touched[]): void {
  const packed = packedTid(s)
  if (at < packed) throw new StaleSnapshotError(at, packed)
  for (const t of touched) {
    if (t.file === undefined) {
      if (s.nameTakenAfter.get(t.name, at)) {
        throw new ConflictError(
          t.name,
          [],
          `conflict on file ${JSON.stringify(t.name)}: another commit used this name after this transaction's snapshot`,
        )
      }
      continue
    }
    const hit = new Set<number>()
    let record = false
    let theirRecord = false
    for (const r of s.logAfter.all(at, t.file) as unknown as LogRow[]) {
      for (const b of intersect(decodeBlocks(r.blocks), t.blocks)) hit.add(b)
      if (r.record) theirRecord = true
      if (t.record && r.record) record = true
    }
    if (hit.size > 0 || record)
      throw new ConflictError(
        t.name,
        [...hit].sort((a, b) => a - b),
      )
    const now = s.fileById.get(t.file, Number.MAX_SAFE_INTEGER) as RecordRow | undefined
    if (!now || now.name === null) {
      throw new ConflictError(
        t.name,
        t.blocks,
        `conflict on file ${JSON.stringify(t.name)}: another commit deleted it`,
      )
    }
    if (theirRecord) {
      // Another commit resized the file: blocks written past its new end would come back to life
      // when it grows again, which no serial order allows.
      const past = t.blocks.filter((b) => b * now.blksize >= now.size)
      if (past.length > 0) {
        throw new ConflictError(
          t.name,
          past,
          `conflict on file ${JSON.stringify(t.name)}: another commit shrank it below blocks ${past.join(', ')}`,
        )
      }
    }
  }
}
