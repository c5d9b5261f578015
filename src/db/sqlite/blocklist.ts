// Block lists of the commit log, stored as little-endian float64 BLOBs (block numbers may exceed 2^32).

export function encodeBlocks(blocks: readonly number[]): Uint8Array {
  const a = new Float64Array(blocks)
  return new Uint8Array(a.buffer)
}

export function decodeBlocks(data: Uint8Array | null | undefined): number[] {
  if (!data || data.length === 0) return []
  // Copy: the BLOB's offset need not be 8-aligned.
  const a = new Float64Array(data.slice().buffer)
  return Array.from(a)
}

/** The sorted intersection of two ascending lists. */
export function intersect(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = []
  for (let i = 0, j = 0; i < a.length && j < b.length; ) {
    if (a[i] < b[j]) i++
    else if (a[i] > b[j]) j++
    else {
      out.push(a[i])
      i++
      j++
    }
  }
  return out
}
