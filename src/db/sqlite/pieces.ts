// Partial-block writes (wendelin's ZBlk1 idea): a version of a big block that changed in a few places is
// stored as the changed pieces over the version before it, not as a whole image. 1,000 scattered 8-byte
// writes into 2 MiB blocks then append ~4 MiB instead of ~880 MiB. A load reads the chain (an image or
// nothing, then the pieces of each later version, oldest first); its checksum is the whole block's, so
// the result is verified as any image is. The chain is bounded: a version is written whole when the
// chain below it is MAX_DEPTH long or when more than a quarter of the block changed.
//
// A piece record in a segment: u32 count, then count × (u32 offset in the block, u32 length), then the
// pieces' bytes in that order; all little-endian.
import { CorruptError } from '../../errors.ts'

/** Blocks smaller than this are always written whole (the saving is small, the chain read is not). */
export const PIECES_MIN_BLKSIZE = 256 * 1024
/** The unit of comparison and of a piece. */
export const PIECE = 4096
/** At most this many piece versions over an image. */
export const MAX_DEPTH = 8

/**
 * The ranges [offset, end) of `next` that differ from `prev`, in PIECE units (adjacent ones merged);
 * undefined when more than a quarter of the block differs (then an image is cheaper to read back).
 */
export function diff(prev: Uint8Array, next: Uint8Array): [number, number][] | undefined {
  const a = Buffer.from(prev.buffer, prev.byteOffset, prev.byteLength)
  const b = Buffer.from(next.buffer, next.byteOffset, next.byteLength)
  const limit = next.length / 4
  const ranges: [number, number][] = []
  let changed = 0
  for (let at = 0; at < next.length; at += PIECE) {
    const end = Math.min(at + PIECE, next.length)
    if (a.compare(b, at, end, at, end) === 0) continue
    changed += end - at
    if (changed > limit) return undefined
    const last = ranges[ranges.length - 1]
    if (last !== undefined && last[1] === at) last[1] = end
    else ranges.push([at, end])
  }
  return ranges
}

/** The piece record of `next` over `ranges`. */
export function encode(next: Uint8Array, ranges: readonly [number, number][]): Uint8Array {
  let bytes = 0
  for (const [at, end] of ranges) bytes += end - at
  const out = new Uint8Array(4 + 8 * ranges.length + bytes)
  const v = new DataView(out.buffer)
  v.setUint32(0, ranges.length, true)
  let p = 4 + 8 * ranges.length
  ranges.forEach(([at, end], i) => {
    v.setUint32(4 + 8 * i, at, true)
    v.setUint32(8 + 8 * i, end - at, true)
    out.set(next.subarray(at, end), p)
    p += end - at
  })
  return out
}

/** Applies the piece record `rec` to `buf` (the block as of the version below); a malformed one is CorruptError. */
export function apply(rec: Uint8Array, buf: Uint8Array, where: string): void {
  const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength)
  const bad = () => new CorruptError(`${where}: a malformed piece record`)
  if (rec.length < 4) throw bad()
  const n = v.getUint32(0, true)
  let p = 4 + 8 * n
  if (p > rec.length) throw bad()
  for (let i = 0; i < n; i++) {
    const at = v.getUint32(4 + 8 * i, true)
    const len = v.getUint32(8 + 8 * i, true)
    if (at + len > buf.length || p + len > rec.length) throw bad()
    buf.set(rec.subarray(p, p + len), at)
    p += len
  }
  if (p !== rec.length) throw bad()
}
