// Scale: an array costs memory for the pages touched, not for its range. A [2^47] float64 array (2^50
// bytes, 2^38 pages of 4 KiB) over an 8 MiB RAM is created, written and read at scattered indexes with
// under 16 MiB of RSS growth, measured in a fresh child process; past 2^53 bytes is InvalidArgumentError.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { BigArray } from '../../src/array/index.ts'
import { FileH, MemoryBigFile, openDatabase, RAM } from '../../src/index.ts'
import { tmpDir } from './helpers.ts'

const src = new URL('../../src/', import.meta.url).href

/** Runs `body` (an async module body with `report(obj)`) in a child process and returns what it reported. */
function child(body: string): Record<string, number> {
  const code = `
    import { BigArray } from '${src}array/index.ts'
    import { FileH, MemoryBigFile, RAM, openDatabase } from '${src}index.ts'
    const report = (o) => console.log('REPORT ' + JSON.stringify(o))
    ${body}
  `
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  const line = r.stdout.split('\n').find((l) => l.startsWith('REPORT '))
  assert.ok(line, r.stdout)
  return JSON.parse(line.slice(7))
}

test('a [2^47] float64 array over an 8 MiB RAM: made, written and read at scattered indexes, RSS growth < 16 MiB', (t) => {
  const r = child(`
    const ps = 4096
    const ram = new RAM({ pagesize: ps, capacity: 8 << 20 })
    // Warm the paths first on a small array, so that compiled code and module state do not count.
    const warm = BigArray.over(new FileH(new MemoryBigFile(ps), ram), { dtype: 'float64', shape: [1 << 16] })
    for (let i = 0; i < 1 << 16; i += 997) warm.set1(i, i), warm.get1(i), warm.get(i), warm.set(i, i)
    warm.close()
    globalThis.gc?.()
    const rss0 = process.memoryUsage().rss
    const t0 = performance.now()
    const fh = new FileH(new MemoryBigFile(ps), ram)
    const a = BigArray.over(fh, { dtype: 'float64', shape: [2 ** 47] })
    const made = performance.now() - t0
    let x = 7, ok = true
    const idx = []
    for (let k = 0; k < 64; k++) {
      x = (x * 48271) % 2147483647
      idx.push(Math.floor((x / 2147483647) * 2 ** 47))
    }
    idx.push(0, 2 ** 47 - 1, 2 ** 29, 2 ** 29 - 1)
    for (const i of idx) a.set1(i, i)
    for (const i of idx) a.set(i, i + 0.5)
    for (const i of idx) ok &&= a.get1(i) === i + 0.5 && a.get(i) === i + 0.5
    const rss1 = process.memoryUsage().rss
    const vma = a._shared.vma
    report({ ok: ok ? 1 : 0, growth: rss1 - rss0, made, ms: performance.now() - t0,
      leaves: vma._pt.leaves, mapped: vma._pt.mapped, near: vma._pt.near.length, faults: fh.counters.faults })
  `)
  t.diagnostic(
    `RSS growth ${(r.growth / 2 ** 20).toFixed(2)} MiB; made in ${r.made.toFixed(2)} ms, all in ${r.ms.toFixed(1)} ms; ${r.leaves} leaves`,
  )
  assert.equal(r.ok, 1, 'every element read back')
  assert.equal(r.faults, 68, 'one write fault per page: 68 distinct pages')
  assert.equal(r.mapped, 68)
  assert.ok(r.leaves <= 68)
  assert.equal(r.near, 2 ** 20, 'the near part spans the first 2^20 pages (committed only where touched)')
  assert.ok(r.growth < 16 * 2 ** 20, `RSS grew by ${(r.growth / 2 ** 20).toFixed(1)} MiB`)
})

test('a 1 TiB database array (4 KiB blocks): created, written, committed, read back, without per-range memory', async (t) => {
  const d = await openDatabase(join(tmpDir(t), 'huge.bigfile'))
  try {
    const c = d.connect({ ram: new RAM({ pagesize: 4096, capacity: 8 << 20 }) })
    const n = 2 ** 37 // float64: 1 TiB
    const a = await BigArray.create(c, 'huge', { dtype: 'float64', shape: [n], blksize: 4096 })
    const at = [0, 12345, 2 ** 36 + 3, n - 1]
    for (const i of at) a.set(i, i)
    await c.commit()
    const c2 = d.connect({ ram: new RAM({ pagesize: 4096, capacity: 8 << 20 }) })
    const b = await BigArray.open(c2, 'huge', { dtype: 'float64' })
    assert.deepEqual(b.shape, [n])
    for (const i of at) assert.equal(await b.getAsync(i), i)
    assert.equal(await b.getAsync(7), 0)
    assert.ok(b._shared.vma._pt.leaves <= at.length + 1)
  } finally {
    await d.close()
  }
})

test('an array ending past 2^53 bytes is InvalidArgumentError, not a RangeError', async (t) => {
  const fh = new FileH(new MemoryBigFile(4096), new RAM({ pagesize: 4096, capacity: 1 << 20 }))
  for (const shape of [[2 ** 50], [2 ** 26, 2 ** 26], [2 ** 53 - 1]])
    assert.throws(() => BigArray.over(fh, { dtype: 'float64', shape }), {
      name: 'InvalidArgumentError',
      message: /past 2\^53 bytes/,
    })
  assert.throws(() => BigArray.over(fh, { dtype: 'float64', shape: [2 ** 49], offset: 2 ** 52 }), {
    code: 'EINVAL',
  })
  // 2^50 - 8 bytes from 0 fits; its last element is reachable.
  const a = BigArray.over(fh, { dtype: 'uint8', shape: [2 ** 53 - 2 ** 20] })
  a.set(2 ** 53 - 2 ** 20 - 1, 9)
  assert.equal(a.get(-1), 9)
  a.close()
  const d = await openDatabase(join(tmpDir(t), 'big.bigfile'))
  try {
    const c = d.connect({ ram: new RAM({ pagesize: 4096, capacity: 1 << 20 }) })
    await assert.rejects(BigArray.create(c, 'x', { dtype: 'int64', shape: [2 ** 51] }), {
      name: 'InvalidArgumentError',
    })
    const b = await BigArray.create(c, 'y', { dtype: 'int64', shape: [2 ** 49] })
    await assert.rejects(b.resize([2 ** 50]), { name: 'InvalidArgumentError', message: /2\^53/ })
    assert.deepEqual(b.shape, [2 ** 49])
    await c.abort()
  } finally {
    await d.close()
  }
})
