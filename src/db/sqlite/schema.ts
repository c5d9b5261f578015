// The SQLite schema and the checks that run before trusting a file as a bigfile database.
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs'
import { BigFileError, CorruptError, NotFoundError, StorageError } from '../../errors.ts'

/** 'bigF' in PRAGMA application_id marks our databases. */
export const APPLICATION_ID = 0x62696746
/**
 * The format version, in PRAGMA user_version. 2: every block and file record carries a checksum (`sum`,
 * see checksum.ts). A file of another version is a VersionError.
 */
export const SCHEMA_VERSION = 2

/**
 * blocks: rowid table (large BLOBs do not belong in WITHOUT ROWID trees) keyed by (file, blk, tid);
 * data NULL is a tombstone (zeros). log/log_files: one row per commit / per (commit, file).
 * file_versions: one row per record change; name NULL = deleted. `sum`: the row's checksum.
 */
export const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE log (tid INTEGER PRIMARY KEY, time REAL NOT NULL);
CREATE TABLE log_files (
  tid INTEGER NOT NULL, file_id INTEGER NOT NULL, blocks BLOB, record INTEGER NOT NULL,
  PRIMARY KEY (tid, file_id)) WITHOUT ROWID;
CREATE TABLE file_versions (
  file_id INTEGER NOT NULL, tid INTEGER NOT NULL, name TEXT, blksize INTEGER NOT NULL,
  size INTEGER NOT NULL, meta TEXT NOT NULL, sum INTEGER NOT NULL,
  PRIMARY KEY (file_id, tid)) WITHOUT ROWID;
CREATE INDEX file_versions_name ON file_versions (name, tid);
CREATE TABLE blocks (
  file_id INTEGER NOT NULL, blk INTEGER NOT NULL, tid INTEGER NOT NULL, data BLOB,
  sum INTEGER NOT NULL, PRIMARY KEY (file_id, blk, tid));
INSERT INTO meta (key, value) VALUES ('next_file_id', 1), ('packed', 0);
PRAGMA application_id = ${APPLICATION_ID};
PRAGMA user_version = ${SCHEMA_VERSION};
`

const MAGIC = 'SQLite format 3\0'

/**
 * Looks at the file header before SQLite does: a file that is not SQLite, or one shorter than its
 * header says (truncated, with no WAL that could hold the rest), is a CorruptError with a clear
 * message instead of a confusing failure deep inside a later read. Something that is not a regular file
 * (a device, a FIFO, a directory) is a CorruptError too. An empty file is a new database only when
 * `emptyIsNew` (opening to create); otherwise it is not a database. Returns whether the file exists.
 */
export function preflight(path: string, emptyIsNew: boolean, shown = path): boolean {
  try {
    return checkHeader(path, emptyIsNew, shown)
  } catch (e) {
    if (e instanceof BigFileError) throw e
    if ((e as { code?: unknown }).code === 'ENOENT')
      throw new NotFoundError(`database ${shown} does not exist`)
    throw new StorageError(`cannot read ${shown}: ${(e as Error).message}`, { cause: e })
  }
}

function checkHeader(path: string, emptyIsNew: boolean, shown: string): boolean {
  let fd: number
  try {
    // O_NONBLOCK: a FIFO planted at the path must not hang the open; it is refused below.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return false
    throw e
  }
  const head = Buffer.alloc(100)
  let n = 0
  let size: number
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new CorruptError(`${shown} is not a bigfile database (not a regular file)`)
    size = st.size
    if (size > 0) n = readSync(fd, head, 0, 100, 0)
  } finally {
    closeSync(fd)
  }
  if (size === 0) {
    // SQLite treats an empty file as a new database: only an opening that may create gets that.
    if (emptyIsNew) return true
    throw new CorruptError(`${shown} is not a bigfile database (an empty file)`)
  }
  if (n < 100 || head.toString('latin1', 0, 16) !== MAGIC) {
    throw new CorruptError(`${shown} is not a bigfile database (not an SQLite file)`)
  }
  const raw = head.readUInt16BE(16)
  const pagesize = raw === 1 ? 65536 : raw
  const pages = head.readUInt32BE(28)
  const headerValid = head.readUInt32BE(24) === head.readUInt32BE(92)
  const wal = `${path}-wal`
  const walHolds = existsSync(wal) && statSync(wal).size > 0
  if (!walHolds && (size % pagesize !== 0 || (headerValid && size < pages * pagesize))) {
    throw new CorruptError(
      `${shown} is truncated: ${size} bytes, but its header says ${pages} pages of ${pagesize} bytes`,
    )
  }
  return true
}
