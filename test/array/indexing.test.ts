import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { BigArray, type Index, newaxis, slice } from '../../src/array/index.ts'
import { FileH, MemoryBigFile, RAM } from '../../src/index.ts'
import { flatC, indexes, type Ref, refSelect } from './reference.ts'

const PS = 4096

function setup(shape: number[], order: 'C' | 'F', offset = 0) {
  const ram = new RAM({ pagesize: PS, capacity: 128 * PS })
  const fh = new FileH(new MemoryBigFile(PS), ram)
  const a = BigArray.over(fh, { dtype: 'float64', shape, order, offset })
  const n = shape.reduce((x, y) => x * y, 1)
  const vals = Float64Array.from({ length: n }, (_, i) => i + 1)
  return { a, vals }
}

const shapeArb = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 3 }),
  // Rows of 90..130 float64s straddle 4 KiB pages.
  fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 90, max: 130 })).map(([a, b]) => [a, b]),
  fc
    .tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 100, max: 200 }))
    .map(([a, b, c]) => [a, b, c]),
)

function indexArb(len: number): fc.Arbitrary<Index> {
  const bound = fc.option(fc.integer({ min: -len - 3, max: len + 3 }), { nil: null })
  const step = fc.option(
    fc.integer({ min: -4, max: 4 }).filter((s) => s !== 0),
    { nil: null },
  )
  const sl = fc.tuple(bound, bound, step).map(([a, b, c]) => slice(a, b, c) as Index)
  const opts: fc.Arbitrary<Index>[] = [sl]
  if (len > 0) opts.push(fc.integer({ min: -len, max: len - 1 }))
  return fc.oneof(...opts)
}

/** A random selection for `shape` (within range), consuming at most every axis. */
function selArb(shape: readonly number[]): fc.Arbitrary<Index[]> {
  return fc.integer({ min: 0, max: shape.length }).chain((n) =>
    fc
      .tuple(fc.tuple(...shape.slice(0, n).map((d) => indexArb(d))), fc.array(fc.nat(n), { maxLength: 2 }))
      .map(([xs, at]) => {
        const sel = [...xs] as Index[]
        // newaxis consumes no axis: insert it between the others.
        for (const i of at) sel.splice(i, 0, newaxis)
        return sel
      }),
  )
}

async function checkAgainst(v: BigArray, r: Ref, vals: Float64Array, baseShape: number[]): Promise<void> {
  assert.deepEqual(v.shape, r.shape)
  assert.equal(v.ndim, r.shape.length)
  const n = r.shape.reduce((x, y) => x * y, 1)
  assert.equal(v.size, n)
  const want = new Float64Array(n)
  let k = 0
  for (const idx of indexes(r.shape)) {
    const w = vals[flatC(r.base(idx), baseShape)]
    want[k++] = w
    assert.equal(v.get(...idx), w, `get(${idx})`)
  }
  const got = new Float64Array(n)
  await v.copyTo(got)
  assert.deepEqual(got, want)
  // chunks: start is the flat C index, data is in C order
  const seen = new Float64Array(n)
  for await (const { data, start } of v.chunks()) seen.set(data as Float64Array, start)
  assert.deepEqual(seen, want)
}

test('views match the reference: random shapes, orders, slices (negative steps), newaxis, composition', async () => {
  await fc.assert(
    fc.asyncProperty(
      shapeArb.chain((shape) =>
        fc.record({
          shape: fc.constant(shape),
          order: fc.constantFrom('C' as const, 'F' as const),
          offset: fc.constantFrom(0, 8, 4000),
          sel: selArb(shape),
        }),
      ),
      fc.nat(),
      async ({ shape, order, offset, sel }, seed) => {
        const { a, vals } = setup(shape, order, offset)
        await a.copyFrom(vals)
        const base: Ref = { shape, base: (i) => i }
        const r1 = refSelect(base, sel)
        const v1 = a.at(...sel)
        await checkAgainst(v1, r1, vals, shape)
        // Compose a second selection on the view.
        const sel2 = fc.sample(selArb(r1.shape), { numRuns: 1, seed })[0]
        await checkAgainst(v1.at(...sel2), refSelect(r1, sel2), vals, shape)
        a.close()
      },
    ),
    { numRuns: 150 },
  )
})

test('writes through a view are seen by the base and by other views; fill and copyFrom on views', async () => {
  const { a } = setup([7, 120], 'C')
  const col = a.at(slice(null, null, -1), 5)
  const row = a.at(3)
  col.set1(3, 42) // reversed: row 3
  assert.equal(a.get(3, 5), 42)
  assert.equal(row.get1(5), 42)
  await a.at(slice(1, null, 2), slice(100, 110)).fill(-1)
  assert.equal(a.get(1, 100), -1)
  assert.equal(a.get(5, 109), -1)
  assert.equal(a.get(2, 100), 0)
  assert.equal(a.get(1, 110), 0)
  await row.copyFrom(Array.from({ length: 120 }, (_, i) => i))
  assert.equal(a.get(3, 119), 119)
  assert.equal(await row.sum(), (119 * 120) / 2)
  assert.equal(await a.at(3, slice(null, null, -3)).max(), 119)
})

test('out-of-range integers are ERANGE, out-of-range slices empty, bad indexes EINVAL', () => {
  const { a } = setup([4, 5], 'C')
  assert.throws(() => a.at(4), { code: 'ERANGE' })
  assert.throws(() => a.at(0, -6), { code: 'ERANGE' })
  assert.throws(() => a.get(0, 5), { code: 'ERANGE' })
  assert.throws(() => a.get(0), { code: 'EINVAL' })
  assert.throws(() => a.get(0.5, 1), { code: 'EINVAL' })
  assert.throws(() => a.at(0, 0, 0), { code: 'EINVAL' })
  assert.throws(() => slice(0, 1, 0), { code: 'EINVAL' })
  assert.deepEqual(a.at(slice(10, 20)).shape, [0, 5])
  assert.deepEqual(a.at(slice(-10, -8)).shape, [0, 5])
  assert.deepEqual(a.at(newaxis, slice(null, null, -1), newaxis).shape, [1, 4, 1, 5])
  const v = a.at(1)
  assert.throws(() => v.get1(5), { code: 'ERANGE' })
  assert.throws(() => v.get2(0, 0), { code: 'EINVAL' })
  assert.equal(a.get2(-1, -1), 0)
  assert.throws(() => a.get2(4, 0), { code: 'ERANGE' })
})

test('strides: C and F base arrays, negative strides on reversed views, length and 0-d views', () => {
  const c = setup([3, 4, 5], 'C').a
  assert.deepEqual(c.strides, [160, 40, 8])
  const f = setup([3, 4, 5], 'F').a
  assert.deepEqual(f.strides, [8, 24, 96])
  assert.equal(f.order, 'F')
  assert.equal(f.length, 3)
  assert.deepEqual(c.at(slice(null, null, -1), 1, slice(null, null, 2)).strides, [-160, 16])
  const z = c.at(1, 2, 3)
  assert.equal(z.ndim, 0)
  assert.equal(z.length, 0)
  assert.equal(z.size, 1)
  z.set(7)
  assert.equal(z.get(), 7)
  assert.equal(c.get(1, 2, 3), 7)
})

test('plain-object slices with fractional bounds are refused', () => {
  const { a } = setup([10], 'C')
  assert.throws(() => a.at({ start: 1.5, stop: null, step: null }), { code: 'EINVAL' })
  assert.throws(() => a.at({ start: null, stop: Number.NaN, step: null }), { code: 'EINVAL' })
})
