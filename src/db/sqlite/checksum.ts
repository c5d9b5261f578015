// The checksums stored with every block and file record, verified on every load: a bit flipped on disk
// below SQLite's own checks becomes ECORRUPT instead of wrong data. CRC-32 (node:zlib, the bundled zlib's
// accelerated one) over the row's key and its data, so a row that moved to another key fails too.
// Measured in bench/checksum.bench.ts against the same scan without verification.
import { crc32 } from 'node:zlib'
import { ChecksumError } from '../../errors.ts'
import type { RecordRow } from './statements.ts'

const key = new Uint8Array(24)
const keyView = new DataView(key.buffer)

function keySum(file: number, blk: number, tid: number): number {
  keyView.setFloat64(0, file, true)
  keyView.setFloat64(8, blk, true)
  keyView.setFloat64(16, tid, true)
  return crc32(key)
}

/** The checksum of block `blk` of file `file` written at `tid`: its data, or a tombstone (null). */
export function blockSum(file: number, blk: number, tid: number, data: Uint8Array | null): number {
  const k = keySum(file, blk, tid)
  // A tombstone's sum differs from any block's: the data part is replaced by one marker byte.
  return data === null ? crc32(TOMBSTONE, k) : crc32(data, k)
}

const TOMBSTONE = new Uint8Array([0xff])

/** The checksum of a file record (name null: a deletion); `meta` is its stored JSON text. */
export function recordSum(
  id: number,
  tid: number,
  name: string | null,
  blksize: number,
  size: number,
  meta: string,
): number {
  return crc32(JSON.stringify([id, tid, name, blksize, size, meta]))
}

/** Throws ChecksumError when `row` (a file record as read) does not match its stored checksum. */
export function verifyRecord(where: string, row: RecordRow): void {
  if (recordSum(row.id, row.tid, row.name, row.blksize, row.size, row.meta) !== row.sum) {
    throw new ChecksumError(where, `#${row.id}`, undefined, row.tid)
  }
}
