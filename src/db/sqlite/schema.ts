// The SQLite schema and the checks that run before trusting a file as a bigfile database.
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs'
import { BigFileError, CorruptError, NotFoundError, StorageError } from '../../errors.ts'

/** 'bigF' in PRAGMA application_id marks our databases. */
export const APPLICATION_ID = 0x62696746
/**
 * The format version, in PRAGMA user_version. 2: every block and file record carries a checksum (`sum`,
 * see checksum.ts). 3: block images live in segment files next to the database (segments.ts), SQLite
 * holds only their index. A file of another version is a VersionError.
 */
export const SCHEMA_VERSION = 3

/** blocks.kind: a tombstone (reads as zeros; seg, off, len NULL). */
export const KIND_TOMBSTONE = 0
/** blocks.kind: the whole block image at (seg, off, len). */
export const KIND_IMAGE = 1
/**
 * blocks.kind: the changed pieces of the block over the version before it (pieces.ts), a piece record
 * of `len` bytes at (seg, off); `sum` is the whole block's.
 */
export const KIND_PIECES = 2
// Kinds from 3 on are reserved for later formats: a reader of this version refuses a kind it does not
// know as CorruptError, never reads it as data.

/**
 * blocks: the index of block versions keyed (file, blk, tid): kind, and for an image where it lies (segment
 * `seg`, byte `off`, `len` bytes: a whole image, or a piece record); small rows, so a WITHOUT ROWID tree. segments: every live segment and
 * its indexed high-water mark `size` (bytes past it are an unindexed tail, never read). log/log_files:
 * one row per commit / per (commit, file). file_versions: one row per record change; name NULL = deleted.
 * `sum`: the row's checksum (a block's over its image and key). meta: next ids, the pack cutoff, `gen`
 * (bumped when a pack removes segments, so readers drop descriptors of removed files) and `uuid` (written
 * into every segment's header).
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
  file_id INTEGER NOT NULL, blk INTEGER NOT NULL, tid INTEGER NOT NULL, kind INTEGER NOT NULL,
  seg INTEGER, off INTEGER, len INTEGER, sum INTEGER NOT NULL,
  PRIMARY KEY (file_id, blk, tid)) WITHOUT ROWID;
CREATE TABLE segments (id INTEGER PRIMARY KEY, size INTEGER NOT NULL);
INSERT INTO meta (key, value) VALUES ('next_file_id', 1), ('packed', 0), ('next_segment', 1), ('gen', 0);
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
