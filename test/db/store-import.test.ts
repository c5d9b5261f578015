// importNpy writes its blocks straight into one storage transaction (ImportOptions.straight, issue 13):
// an import four times the RAM budget spills nothing and faults no page, is one commit, and a failed or
// refused one leaves nothing behind — counted, not timed.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { BigArray, importNpy, npyHeader } from '../../src/array/index.ts'
import { AbortError, BusyError, ExistsError, openDatabase } from '../../src/index.ts'
import { RAM } from '../../src/virtmem/ram.ts'

const PS = 64 << 10
/**
 * Elements: 20 MiB of float64 and a bit (the last block partly past the data; more than one background
 * sync of the segment, see appender.ts).
 */
const N = (20 << 20) / 8 + 1000

function dir(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'bigfile-store-import-'))
  t.after(() => rmSync(d, { recursive: true, force: true }))
  return d
}

/** A .npy of N float64 elements, element i = i + 0.5. */
function writeNpy(path: string): void {
  const data = new Float64Array(N)
  for (let i = 0; i < N; i++) data[i] = i + 0.5
  writeFileSync(path, Buffer.concat([npyHeader('float64', [N]), new Uint8Array(data.buffer)]))
}

/** A RAM of 16 frames of 64 KiB: a twentieth of the import. */
function smallRam(spillDir: string): RAM {
  return new RAM({ pagesize: PS, capacity: 16 * PS, reserve: 2, spillDir })
}

test('importNpy of 20× the RAM budget: one commit, nothing spilled, no page faulted; every element right in another connection', async (t) => {
  const d = dir(t)
  const npy = join(d, 'a.npy')
  writeNpy(npy)
  const db = await openDatabase(join(d, 'x.bigfile'))
  t.after(() => db.close())
  const ram = smallRam(d)
  const conn = db.connect({ ram })
  const head0 = (await db.log()).length
  const loads0 = ram.counters.loads
  const a = await importNpy(conn, 'a', npy, { blksize: PS })
  assert.equal(ram.stats().spillFileBytes, 0)
  assert.equal(ram.counters.loads, loads0)
  assert.equal((await db.log()).length, head0 + 1)
  assert.equal(conn.hasChanges(), false)
  assert.deepEqual([a.dtype, a.shape, a.order], ['float64', [N], 'C'])
  assert.equal(a.get1(N - 1), N - 0.5)
  // Another connection (its own RAM) reads all of it: the blocks and the zero tail of the last one.
  const other = db.connect({ ram: smallRam(d) })
  const b = await BigArray.open(other, 'a')
  for (let i = 0; i < N; i += 997) assert.equal(b.get1(i), i + 0.5)
  assert.equal(b.get1(N - 1), N - 0.5)
  const f = await other.open('a')
  assert.equal(f.size, N * 8)
  assert.equal(f.blksize, PS)
  assert.equal((await db.check()).damage.length, 0)
})

test('a straight import that fails half way, or is refused, leaves no file and no commit; the next commit works', async (t) => {
  const d = dir(t)
  const npy = join(d, 'a.npy')
  writeNpy(npy)
  const path = join(d, 'x.bigfile')
  let db = await openDatabase(path)
  const conn = db.connect({ ram: smallRam(d) })
  const head0 = (await db.log()).length

  // 1. aborted at half way: AbortError, nothing committed, the connection clean
  const ac = new AbortController()
  let calls = 0
  await assert.rejects(
    importNpy(conn, 'a', npy, {
      blksize: PS,
      signal: ac.signal,
      onProgress: (done, total) => {
        calls++
        if (done >= total / 2) ac.abort()
      },
    }),
    AbortError,
  )
  assert.ok(calls >= 2)
  assert.equal((await db.log()).length, head0)
  assert.equal(conn.hasChanges(), false)
  assert.deepEqual(await conn.list(), [])

  // 2. refused before any I/O: pending changes (BusyError), a name taken (ExistsError)
  const z = await BigArray.create(conn, 'z', { dtype: 'int32', shape: [10], blksize: PS })
  z.set1(3, 7)
  await assert.rejects(importNpy(conn, 'a', npy, { blksize: PS }), BusyError)
  await conn.commit()
  const head1 = (await db.log()).length
  await assert.rejects(importNpy(conn, 'z', npy, { blksize: PS }), ExistsError)
  assert.equal((await db.log()).length, head1)

  // 3. the same import then succeeds (the aborted one's unindexed tail was cut), and survives a reopen
  const a = await importNpy(conn, 'a', npy, { blksize: PS })
  assert.equal(a.get1(12345), 12345.5)
  await db.close()
  db = await openDatabase(path)
  t.after(() => db.close())
  const c2 = db.connect({ ram: smallRam(d) })
  const b = await BigArray.open(c2, 'a')
  assert.equal(b.get1(N - 1), N - 0.5)
  assert.equal((await BigArray.open(c2, 'z')).get1(3), 7)
  assert.equal((await db.check()).damage.length, 0)
})
