// The crash tests' transactions: commit k writes a deterministic set of byte ranges chosen by a PRNG
// seeded with (seed, k). Commit k applied to any state gives the same bytes in those ranges, so replaying
// it on top of its own result is a no-op: a child may always restart at "last acknowledged + 1".
import { pattern, rng } from './util.ts'

export const BLKSIZE = 4096
export const BLOCKS = 64
/** A header the storage must never touch. */
export const OFFSET = 100
export const FILE_SIZE = OFFSET + BLOCKS * BLKSIZE
export const LENGTH = BLOCKS * BLKSIZE

export interface Write {
  /** Offset in the mapping (after the header). */
  off: number
  data: Uint8Array
}

export function initialState(seed: number): Uint8Array {
  return pattern(FILE_SIZE, seed ^ 0x5eed)
}

/**
 * Commit k: 1..8 writes of 1 byte to 3 blocks, anywhere, often straddling blocks. `small`: 1..2 writes
 * of up to 1.5 blocks (the crash-point tests run one child per I/O operation of a commit).
 */
export function commitWrites(seed: number, k: number, small = false): Write[] {
  const r = rng((seed * 1000003 + k * 7919) >>> 0)
  const n = 1 + Math.floor(r() * (small ? 2 : 8))
  const out: Write[] = []
  for (let i = 0; i < n; i++) {
    const off = Math.floor(r() * LENGTH)
    const len = Math.min(LENGTH - off, 1 + Math.floor(r() * (small ? 1.5 : 3) * BLKSIZE))
    out.push({ off, data: pattern(len, (seed * 31 + k * 131 + i) >>> 0) })
  }
  return out
}

export function applyCommit(state: Uint8Array, seed: number, k: number, small = false): Uint8Array {
  const next = state.slice()
  for (const w of commitWrites(seed, k, small)) next.set(w.data, OFFSET + w.off)
  return next
}
