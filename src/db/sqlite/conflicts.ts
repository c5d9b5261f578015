// The conflict check of a commit (first committer wins), run in its write transaction after BEGIN.
import { StaleSnapshotError } from '../../errors.ts'
import { logConflicts, nameConflict, recordConflicts } from '../conflicts.ts'
import type { Tid, Touched } from '../storage.ts'
import { decodeBlocks } from './blocklist.ts'
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
      if (s.nameTakenAfter.get(t.name, at)) throw nameConflict(t.name)
      continue
    }
    const rows = s.logAfter.all(at, t.file) as unknown as LogRow[]
    const theirRecord = logConflicts(
      t,
      rows.map((r) => ({ blocks: decodeBlocks(r.blocks), record: r.record !== 0 })),
    )
    recordConflicts(t, s.fileById.get(t.file, Number.MAX_SAFE_INTEGER) as RecordRow | undefined, theirRecord)
  }
}
