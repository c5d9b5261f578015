// The commit log as data: `log` (commits with their files, newest first) and `tidAt` (a time to a tid).
// Times are stored as REAL seconds since the epoch (ms / 1000, computed the same way on both sides, so a
// Date read back from the log finds its own commit again).
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { Commit, CommitFile, LogQuery, Tid } from '../storage.ts'
import { decodeBlocks } from './blocklist.ts'

/** The files of one commit (`lf.tid = ?`), with their name then and whether it deleted them. */
const FILES_OF_COMMIT = `SELECT lf.file_id AS id, lf.blocks AS blocks, lf.record AS record,
    (SELECT v.name FROM file_versions v WHERE v.file_id = lf.file_id AND v.tid <= lf.tid
      AND v.name IS NOT NULL ORDER BY v.tid DESC LIMIT 1) AS name,
    EXISTS (SELECT 1 FROM file_versions v WHERE v.file_id = lf.file_id AND v.tid = lf.tid
      AND v.name IS NULL) AS deleted
  FROM log_files lf WHERE lf.tid = ?`

export function prepareLogStatements(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql)
  return {
    // LIMIT -1 is no limit. The plan walks the log's tid key backwards, so a recent range is cheap. Plain
    // `?` with each parameter once (a second statement for a file): node:sqlite before 22.20 misbinds ?N.
    commits: p('SELECT tid, time FROM log WHERE tid >= ? AND tid <= ? ORDER BY tid DESC LIMIT ?'),
    commitsOfFile: p(
      `SELECT tid, time FROM log l WHERE tid >= ? AND tid <= ?
        AND EXISTS (SELECT 1 FROM log_files f WHERE f.tid = l.tid AND f.file_id = ?)
        ORDER BY tid DESC LIMIT ?`,
    ),
    // A deleted file's name is the last one it had: the newest non-null name at or before the commit.
    files: p(`${FILES_OF_COMMIT} ORDER BY lf.file_id`),
    fileOfCommit: p(`${FILES_OF_COMMIT} AND lf.file_id = ?`),
    tidAt: p('SELECT tid FROM log WHERE time <= ? ORDER BY tid DESC LIMIT 1'),
  }
}

export type LogStatements = ReturnType<typeof prepareLogStatements>

/** The seconds the log stores for `time`. */
export function logTime(time: Date): number {
  return time.getTime() / 1000
}

export function readLog(s: LogStatements, q: LogQuery): Commit[] {
  const limit = q.limit === Number.POSITIVE_INFINITY ? -1 : q.limit
  const file = q.file ?? null
  const rows = (
    file === null ? s.commits.all(q.from, q.to, limit) : s.commitsOfFile.all(q.from, q.to, file, limit)
  ) as { tid: number; time: number }[]
  return rows.map(({ tid, time }) => {
    const files = (file === null ? s.files.all(tid) : s.fileOfCommit.all(tid, file)) as {
      id: number
      blocks: Uint8Array | null
      record: number
      name: string | null
      deleted: number
    }[]
    return {
      tid,
      time: new Date(Math.round(time * 1000)),
      files: files.map(
        (f): CommitFile => ({
          id: f.id,
          name: f.name ?? `#${f.id}`,
          blocks: decodeBlocks(f.blocks),
          record: f.record !== 0,
          deleted: f.deleted !== 0,
        }),
      ),
    }
  })
}

export function readTidAt(s: LogStatements, time: Date): Tid {
  const row = s.tidAt.get(logTime(time)) as { tid: number } | undefined
  return row?.tid ?? 0
}
