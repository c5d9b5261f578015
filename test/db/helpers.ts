import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RAM } from '../../src/virtmem/ram.ts'

/** A fresh temporary directory, removed after the test (`t.after`). */
export function tmpDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-db-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export const PS = 64 << 10

export function ram(frames = 32, pagesize = PS, reserve = 2): RAM {
  return new RAM({ pagesize, capacity: (frames + reserve) * pagesize, reserve })
}

/** Drops every clean page of `r` (reclaim until nothing more goes). */
export function reclaimAll(r: RAM): void {
  while (r.reclaim(1 << 20) > 0) {}
}
