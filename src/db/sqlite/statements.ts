// The statements of the SQLite storage's reads and commits, prepared when it opens; pack and the schema
// setup run rarely and prepare their own.
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { Tid } from '../storage.ts'

const RECORD = 'file_id AS id, tid, name, blksize, size, meta, sum'

export function prepareStatements(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql)
  return {
    head: p('SELECT coalesce(max(tid), 0) AS t FROM log'),
    getMeta: p('SELECT value FROM meta WHERE key = ?'),
    setMeta: p('UPDATE meta SET value = ? WHERE key = ?'),
    // The pack cutoff rides along with the read (one statement, one snapshot), so a stale snapshot is
    // caught on every load. A join, not a scalar subquery: SQLite copies a subquery's result into the
    // outer row (OP_Copy), one more malloc + memcpy of every BLOB, about 10% of a 64 KiB load. The
    // LEFT JOIN still answers one row (data NULL) when the block has no version <= tid; the plan walks
    // the primary-key index backwards from tid, with no sorter.
    // `gen` rides along too: a pack that removed segments bumps it (readers then drop their descriptors).
    load: p(
      `SELECT m.value AS packed, g.value AS gen, b.tid AS tid, b.kind AS kind, b.seg AS seg, b.off AS off,
        b.len AS len, b.sum AS sum FROM meta m JOIN meta g ON g.key = 'gen'
        LEFT JOIN blocks b ON b.file_id = ? AND b.blk = ? AND b.tid <= ?
        WHERE m.key = 'packed' ORDER BY b.tid DESC LIMIT 1`,
    ),
    // The newest version <= at of each block in [from, to), by block: one range walk of the index.
    loadRange: p(
      `SELECT b.blk AS blk, b.tid AS tid, b.kind AS kind, b.seg AS seg, b.off AS off, b.len AS len,
        b.sum AS sum FROM blocks b WHERE b.file_id = ? AND b.blk >= ? AND b.blk < ?
        AND b.tid = (SELECT max(tid) FROM blocks WHERE file_id = b.file_id AND blk = b.blk AND tid <= ?)
        ORDER BY b.blk`,
    ),
    // Changes when another connection (process) has committed since this one last asked: the cheapest
    // statement there is, for the location cache's check that no pack passed a snapshot.
    dataVersion: p('PRAGMA data_version'),
    packedGen: p(
      `SELECT m.value AS packed, g.value AS gen FROM meta m, meta g WHERE m.key = 'packed' AND g.key = 'gen'`,
    ),
    insertBlock: p(
      'INSERT OR REPLACE INTO blocks (file_id, blk, tid, kind, seg, off, len, sum) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    liveBlocksFrom: p(
      `SELECT blk FROM blocks b WHERE file_id = ? AND blk >= ? AND kind <> 0
        AND tid = (SELECT max(tid) FROM blocks WHERE file_id = b.file_id AND blk = b.blk)`,
    ),
    // The version a piece version is stored over: the newest one older than it.
    prevVersion: p(
      `SELECT tid, kind, seg, off, len, sum FROM blocks WHERE file_id = ? AND blk = ? AND tid < ?
        ORDER BY tid DESC LIMIT 1`,
    ),
    lastSegment: p('SELECT id, size FROM segments ORDER BY id DESC LIMIT 1'),
    insertSegment: p('INSERT INTO segments (id, size) VALUES (?, ?)'),
    setSegmentSize: p('UPDATE segments SET size = ? WHERE id = ?'),
    fileById: p(
      `SELECT ${RECORD} FROM file_versions WHERE file_id = ? AND tid <= ? ORDER BY tid DESC LIMIT 1`,
    ),
    // Each parameter appears once (no ?1/?2: node:sqlite before 22.20 binds those wrongly).
    fileByName: p(
      `WITH q(qname, qat) AS (SELECT ?, ?)
        SELECT ${RECORD} FROM file_versions v, q
        WHERE file_id IN (SELECT file_id FROM file_versions WHERE name = qname AND tid <= qat)
        AND tid = (SELECT max(tid) FROM file_versions WHERE file_id = v.file_id AND tid <= qat)
        AND name = qname`,
    ),
    listFiles: p(
      `SELECT ${RECORD} FROM file_versions v
        WHERE tid = (SELECT max(tid) FROM file_versions WHERE file_id = v.file_id AND tid <= ?)
        AND name IS NOT NULL ORDER BY name`,
    ),
    insertVersion: p(
      'INSERT OR REPLACE INTO file_versions (file_id, tid, name, blksize, size, meta, sum) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    nameTakenAfter: p('SELECT 1 AS x FROM file_versions WHERE name = ? AND tid > ? LIMIT 1'),
    logAfter: p('SELECT tid, file_id AS file, blocks, record FROM log_files WHERE tid > ? AND file_id = ?'),
    changes: p(
      'SELECT tid, file_id AS file, blocks, record FROM log_files WHERE tid > ? AND tid <= ? ORDER BY tid',
    ),
    // Commit times never go backwards (a clock stepped back gives the previous commit's time), so a time
    // picks one snapshot: the newest commit at or before it.
    insertLog: p(
      `INSERT INTO log (tid, time)
        VALUES (?, max(?, coalesce((SELECT time FROM log ORDER BY tid DESC LIMIT 1), 0)))`,
    ),
    insertLogFile: p('INSERT INTO log_files (tid, file_id, blocks, record) VALUES (?, ?, ?, ?)'),
  }
}

export type Statements = ReturnType<typeof prepareStatements>

export type { RecordRow } from '../record-row.ts'

/** A block version's index row as loads read it (tid NULL: no version). */
export interface BlockRow {
  tid: number | null
  kind: number | null
  seg: number | null
  off: number | null
  len: number | null
  sum: number | null
}

export interface LogRow {
  tid: number
  file: number
  blocks: Uint8Array | null
  record: number
}

/** The pack cutoff: snapshots older than it may miss versions. */
export function packedTid(s: Statements): Tid {
  return (s.getMeta.get('packed') as { value: number }).value
}
