// The checksums stored with every block and file record, verified on every load: a bit flipped on disk
// below SQLite's (or PostgreSQL's) own checks becomes ECORRUPT instead of wrong data. A block's is
// util/blockhash.ts (32 lanes of an xxh32-style hash in WebAssembly SIMD, ~5–7× node:zlib's crc32 on 64 KiB
// and 2 MiB blocks, hashed in place in the RAM arena) over its data, keyed by (file, blk, tid) so a row that
// moved to another key fails too: it detects every single-bit flip and every change within one 32-bit word,
// and any one changed key field. A file record's (short JSON text) stays CRC-32 (node:zlib).
// Measured in bench/checksum.bench.ts.
import { crc32 } from 'node:zlib'
import { ChecksumError } from '../../errors.ts'
import { blockHash } from '../../util/blockhash.ts'
import type { RecordRow } from './statements.ts'

/** The checksum of block `blk` of file `file` written at `tid`: its data, or a tombstone (null). */
export function blockSum(file: number, blk: number, tid: number, data: Uint8Array | null): number {
  // A tombstone's sum is that of one marker byte (no block is one byte long).
  return blockHash(data ?? TOMBSTONE, file, blk, tid)
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
