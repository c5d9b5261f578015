import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RAM } from '../../src/index.ts'

export const PS = 4096

/** A fresh temporary directory, removed after the test. */
export function tmpDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-array-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function ram(frames = 64, pagesize = PS): RAM {
  return new RAM({ pagesize, capacity: (frames + 2) * pagesize, reserve: 2 })
}
