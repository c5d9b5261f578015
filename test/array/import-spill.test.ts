// The import contract with spill: one transaction, committed before it returns, all or nothing — at
// 4× the RAM budget.
import assert from 'node:assert/strict'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { BigArray, importRaw } from '../../src/array/index.ts'
import { openDatabase } from '../../src/db/index.ts'
import { RAM } from '../../src/virtmem/ram.ts'

const MiB = 1 << 20
const PS = 64 << 10
const N = (256 * MiB) / 8 // float64 elements

function newRam(spillDir: string): RAM {
  return new RAM({ pagesize: PS, capacity: 64 * MiB, spillDir })
}

/** A raw file of N float64 elements, element i = i. */
async function writeRaw(path: string): Promise<void> {
  const out = createWriteStream(path)
  const piece = 1 << 20
  for (let start = 0; start < N; start += piece) {
    const a = new Float64Array(piece)
    for (let i = 0; i < piece; i++) a[i] = start + i
    if (!out.write(new Uint8Array(a.buffer))) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())))
}

test('importRaw of 256 MiB at a 64 MiB budget is one commit: reopened, every element is right; a failed one leaves nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-import-spill-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const raw = join(dir, 'a.raw')
  const path = join(dir, 'x.bigfile')
  await writeRaw(raw)

  // 1. a failure mid-import (here an abort at half way) leaves nothing, in any connection
  let db = await openDatabase(path)
  const ram = newRam(dir)
  const conn = db.connect({ ram })
  const ctl = new AbortController()
  await assert.rejects(
    importRaw(conn, 'failed', raw, {
      dtype: 'float64',
      shape: [N],
      signal: ctl.signal,
      onProgress: (done, total) => {
        if (done >= total / 2) ctl.abort(new Error('stop'))
      },
    }),
    { code: 'EABORT' },
  )
  assert.ok(ram.counters.spills > 0, 'the failed import had spilled')
  assert.equal(conn.hasChanges(), false)
  assert.equal(ram.stats().spilled, 0, 'its spill slots are free')
  assert.deepEqual(await db.files(), [])

  // 2. the whole import: committed when it returns, no commitEvery
  const a = await importRaw(conn, 'a', raw, { dtype: 'float64', shape: [N] })
  assert.equal(conn.hasChanges(), false, 'committed before it returned')
  assert.equal(ram.stats().spilled, 0)
  assert.deepEqual(a.shape, [N])
  await db.close()

  db = await openDatabase(path)
  const b = await BigArray.open(db.connect({ ram: newRam(dir) }), 'a')
  let checked = 0
  for await (const { data, start } of b.chunks()) {
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== start + i) assert.fail(`element ${start + i} is ${data[i]}`)
    }
    checked += data.length
  }
  assert.equal(checked, N)
  assert.deepEqual(
    (await db.files()).map((f) => f.name),
    ['a'],
  )
  await db.close()
})
