// One spill crash trial: run the spill writer, SIGKILL it at a given spill I/O step, reopen, verify.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { openDatabase } from '../../src/db/index.ts'
import { RAM } from '../../src/virtmem/ram.ts'
import { FRAMES, PAGES, PS, pageValue } from './fixtures/spill-layout.ts'

const WRITER = fileURLToPath(new URL('./fixtures/spill-writer.ts', import.meta.url))

/** Runs the writer, killed at spill I/O `stop` (0: let it finish); returns what it printed last. */
export async function runWriter(path: string, spillDir: string, stop: number): Promise<string> {
  const child = spawn(process.execPath, [WRITER, path, spillDir, String(stop)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  await new Promise<void>((resolve) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (stop > 0 && out.includes(`at ${stop}\n`)) {
        child.kill('SIGKILL')
        resolve()
      }
    })
    void exited.then(() => resolve())
  })
  const code = await exited
  if (stop === 0) assert.equal(code, 0, `the writer finished: ${out}`)
  return out.trim()
}

/** Reopens the database: every page must be of the one generation its meta records; returns it. */
export async function verifyGeneration(path: string, spillDir: string): Promise<number> {
  assert.deepEqual(readdirSync(spillDir), [], 'no spill file outlives its process')
  const db = await openDatabase(path)
  try {
    if ((await db.files()).length === 0) return 0
    const conn = db.connect({ ram: new RAM({ pagesize: PS, capacity: (FRAMES + 2) * PS, spill: false }) })
    const f = await conn.open('data')
    const gen = f.meta.gen as number
    const vma = f.mmap(0, PAGES)
    for (let pg = 0; pg < PAGES; pg++) {
      const want = gen === 0 ? 0 : pageValue(gen, pg)
      assert.equal(vma.getUint8(pg * PS), want, `generation ${gen}: page ${pg}, first byte`)
      assert.equal(vma.getUint8(pg * PS + PS - 1), want, `generation ${gen}: page ${pg}, last byte`)
    }
    vma.unmap()
    return gen
  } finally {
    await db.close()
  }
}
