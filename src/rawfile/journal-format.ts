// The redo journal's on-disk layout (all integers little-endian):
//
//   header  32 B   magic "BFJOURN1" · version u32 · 0 u32 · dataSize u64 · nonce u64
//   record  24 B   tag "BLK1" · len u32 · pos u64 · crc32(data) u32 · 0 u32   then `len` data bytes
//   ...
//   trailer 56 B   tag "END1" · count u32 · data bytes u64 · nonce u64 · sha256 (32 B)
//
// `pos` is the absolute byte position in the raw file, so replay needs none of the open options. The
// trailer's SHA-256 covers every header byte (the journal header, each record header with its data's
// CRC-32, the trailer's first 24 bytes): the whole journal is covered while the data is hashed once, by
// the fast CRC. A journal is valid only whole: a torn or stale one fails a check and is ignored.

export const MAGIC = new TextEncoder().encode('BFJOURN1')
export const VERSION = 1
export const HEADER_SIZE = 32
export const RECORD_SIZE = 24
export const TRAILER_SIZE = 56
export const TRAILER_HASHED = 24
export const TAG_BLOCK = 0x314b4c42 // "BLK1"
export const TAG_END = 0x31444e45 // "END1"
/** Records longer than this are refused: u32 lengths, and one block never needs more. */
export const MAX_RECORD = 0xffffffff

export function u64(dv: DataView, at: number, v: number): void {
  dv.setBigUint64(at, BigInt(v), true)
}

/** A u64 that must be a safe integer; NaN marks one that is not (the caller treats it as invalid). */
export function getU64(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at, true)
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.NaN
}
