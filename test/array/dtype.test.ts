import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BigArray, type DType } from '../../src/array/index.ts'
import { FileH, MemoryBigFile } from '../../src/index.ts'
import { PS, ram } from './helpers.ts'

const cases: [DType, number | bigint, number | bigint][] = [
  ['int8', 200, -56],
  ['uint8', -1, 255],
  ['int16', 40000, -25536],
  ['uint16', 65537, 1],
  ['int32', 2 ** 31, -(2 ** 31)],
  ['uint32', -1, 2 ** 32 - 1],
  ['int64', -(2n ** 63n), -(2n ** 63n)],
  ['uint64', 2n ** 64n - 1n, 2n ** 64n - 1n],
  ['float32', 0.1, Math.fround(0.1)],
  ['float64', 0.1, 0.1],
]
if (typeof (globalThis as { Float16Array?: unknown }).Float16Array === 'function')
  cases.push(['float16', 0.1, 0.0999755859375])

for (const [dtype, put, want] of cases) {
  test(`${dtype}: set/get/chunks/sum agree, with values wrapped as the typed array does`, async () => {
    const a = BigArray.over(new FileH(new MemoryBigFile(PS), ram()), { dtype, shape: [3, 700] })
    a.set(2, 699, put)
    a.set1 // the fast forms are methods
    assert.equal(a.get(2, 699), want)
    assert.equal(a.get2(2, 699), want)
    a.set2(0, 0, put)
    assert.equal(a.at(0).get1(0), want)
    let seen = 0
    for await (const { data, start } of a.chunks()) {
      for (let i = 0; i < data.length; i++)
        if (data[i] !== (typeof want === 'bigint' ? 0n : 0)) seen += start + i
    }
    assert.equal(seen, 2 * 700 + 699)
    const s = await a.sum()
    assert.equal(typeof s, a.dtype.endsWith('64') && a.dtype !== 'float64' ? 'bigint' : 'number')
    assert.equal(
      await a.max(),
      typeof want === 'bigint' ? (want > 0n ? want : 0n) : Math.max(Number(want), 0),
    )
    if (typeof want === 'bigint') a.set1 === undefined || a.at(1).set1(3, 5) // numbers convert to bigint
    if (typeof want === 'bigint') assert.equal(a.get(1, 3), 5n)
  })
}

test('unknown dtype, bad shape, misaligned offset are EINVAL', () => {
  const fh = new FileH(new MemoryBigFile(PS), ram())
  assert.throws(() => BigArray.over(fh, { dtype: 'complex128' as DType, shape: [1] }), { code: 'EINVAL' })
  assert.throws(() => BigArray.over(fh, { dtype: 'int8', shape: [-1] }), { code: 'EINVAL' })
  assert.throws(() => BigArray.over(fh, { dtype: 'int8', shape: [1.5] }), { code: 'EINVAL' })
  assert.throws(() => BigArray.over(fh, { dtype: 'int32', shape: [1], offset: 2 }), { code: 'EINVAL' })
  assert.throws(() => BigArray.over(fh, { dtype: 'int32', shape: [1], order: 'X' as 'C' }), {
    code: 'EINVAL',
  })
})
