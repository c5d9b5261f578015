import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BigArray, FileH, MemoryBigFile, RAM } from '../../src/index.ts'

test('an abort lands during a long walk over a synchronous storage', async () => {
  const ram = new RAM({ pagesize: 64 << 10, capacity: 48 << 20 }) // holds the whole array: fill dirties it
  const a = BigArray.over(new FileH(new MemoryBigFile(64 << 10), ram), { dtype: 'float64', shape: [4 << 20] })
  // Sync loads: without turns of the event loop the whole sum would run before the abort could fire.
  const ac = new AbortController()
  setImmediate(() => ac.abort(new Error('stop')))
  await assert.rejects(a.sum({ signal: ac.signal }), { code: 'EABORT' })
  const ac2 = new AbortController()
  setImmediate(() => ac2.abort())
  await assert.rejects(a.fill(1, { signal: ac2.signal }), { code: 'EABORT' })
  // the fill stopped part-way; without a signal the walk runs whole
  const partial = (await a.sum()) as number
  assert.ok(partial > 0 && partial < a.size, `fill stopped part-way: ${partial} of ${a.size}`)
})
