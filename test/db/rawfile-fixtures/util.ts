// Shared helpers of the raw-file tests: temp files, deterministic contents, checksums.
import { createHash } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { rng } from '../../helpers/rng.ts'

export { rng }

/** A fresh temp directory, removed by the returned dispose. */
export function tempDir(
  prefix = 'bigfile-raw-',
): { dir: string; path: (name: string) => string } & Disposable {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {
    dir,
    path: (name) => join(dir, name),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** Deterministic, position-dependent bytes, so a block landing in the wrong place is caught. */
export function pattern(n: number, seed: number): Uint8Array {
  const r = rng(seed)
  const out = new Uint8Array(n)
  const dv = new DataView(out.buffer)
  let i = 0
  for (; i + 4 <= n; i += 4) dv.setUint32(i, (r() * 4294967296) >>> 0)
  for (; i < n; i++) out[i] = (r() * 256) | 0
  return out
}

export function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex')
}

/** Per-block SHA-256 prefixes: names the blocks that differ when a state check fails. */
export function blockDiff(a: Uint8Array, b: Uint8Array, blksize: number, offset = 0): number[] {
  const out: number[] = []
  const n = Math.ceil(Math.max(a.length, b.length) / blksize)
  for (let blk = 0; blk < n; blk++) {
    const s = offset + blk * blksize
    const x = a.subarray(s, s + blksize)
    const y = b.subarray(s, s + blksize)
    if (sha256(x) !== sha256(y)) out.push(blk)
  }
  return out
}
