// src/array/chunks.ts: pieces() cuts a layout's C-order walk at page edges, walk() pins each page while
// its chunks are out and releases it however the walk ends.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { BigArray } from '../../src/array/bigarray.ts'
import { type Chunk, pieces, walk } from '../../src/array/chunks.ts'
import { contiguousStrides, type Layout, select } from '../../src/array/layout.ts'
import { type Index, slice } from '../../src/array/slice.ts'
import { FileH, MemoryBigFile } from '../../src/index.ts'
import { PS, ram } from './helpers.ts'

type P = [off: number, n: number, start: number]

function cut(l: Layout, itemsize: number, pagesize: number, from?: number, to?: number): P[] {
  // pieces() yields one object over and over: copy each before advancing.
  return Array.from(pieces(l, itemsize, pagesize, from, to), (p) => [p.off, p.n, p.start] as P)
}

const C = (shape: number[], itemsize = 8, offset = 0): Layout => ({
  shape,
  strides: contiguousStrides(shape, itemsize, 'C'),
  offset,
})

/** Byte offset of every element in C element order, by enumerating index tuples. */
function offsets(l: Layout): number[] {
  const out: number[] = []
  const idx = new Array<number>(l.shape.length).fill(0)
  const total = l.shape.reduce((a, b) => a * b, 1)
  for (let f = 0; f < total; f++) {
    out.push(idx.reduce((o, i, k) => o + i * l.strides[k], l.offset))
    for (let k = idx.length - 1; k >= 0; k--)
      if (++idx[k] < l.shape[k]) break
      else idx[k] = 0
  }
  return out
}

test('pieces: a contiguous run is cut exactly at page edges, from an offset inside the first page', () => {
  // 100 float64 on pages of 256 bytes (32 elements), starting at byte 8.
  assert.deepEqual(cut(C([100], 8, 8), 8, 256), [
    [8, 31, 0],
    [256, 32, 31],
    [512, 32, 63],
    [768, 5, 95],
  ])
  // Ending exactly at a page edge gives no empty piece.
  assert.deepEqual(cut(C([64]), 8, 256), [
    [0, 32, 0],
    [256, 32, 32],
  ])
  // A 2-d C array is one run: rows do not cut it, pages do.
  assert.deepEqual(cut(C([3, 20]), 8, 256), [
    [0, 32, 0],
    [256, 28, 32],
  ])
})

test('pieces: a sub-range starts and stops mid-run and mid-page', () => {
  assert.deepEqual(cut(C([100]), 8, 256, 30, 70), [
    [240, 2, 30],
    [256, 32, 32],
    [512, 6, 64],
  ])
  assert.deepEqual(cut(C([100]), 8, 256, 32, 33), [[256, 1, 32]])
  assert.deepEqual(cut(C([100]), 8, 256, 50, 50), [])
  // Rows of a column slice: runs of 5 that resume in the middle of one.
  const cols = select(C([4, 10]), [slice(null), slice(0, 5)])
  assert.deepEqual(cut(cols, 8, 4096, 3, 12), [
    [24, 2, 3],
    [80, 5, 5],
    [160, 2, 10],
  ])
})

test('pieces: negative steps and F order walk element by element in C order', () => {
  const rev = select(C([5]), [slice(null, null, -1)])
  assert.deepEqual(cut(rev, 8, 4096), [
    [32, 1, 0],
    [24, 1, 1],
    [16, 1, 2],
    [8, 1, 3],
    [0, 1, 4],
  ])
  const f: Layout = { shape: [2, 3], strides: contiguousStrides([2, 3], 8, 'F'), offset: 0 } // [8, 16]
  assert.deepEqual(
    cut(f, 8, 4096).map(([off]) => off),
    [0, 16, 32, 8, 24, 40],
  )
  // Reversed rows of a C array keep their inner runs.
  const flipped = select(C([3, 4]), [slice(null, null, -1)])
  assert.deepEqual(cut(flipped, 8, 4096), [
    [64, 4, 0],
    [32, 4, 4],
    [0, 4, 8],
  ])
})

test('pieces: zero-size dimensions and empty ranges give nothing; a 0-d layout one element', () => {
  assert.deepEqual(cut(C([0, 5]), 8, 256), [])
  assert.deepEqual(cut(C([5, 0]), 8, 256), [])
  assert.deepEqual(cut(C([3, 0, 2]), 8, 256), [])
  assert.deepEqual(cut(C([10]), 8, 256, 7, 3), [])
  assert.deepEqual(cut(C([], 8, 40), 8, 256), [[40, 1, 0]])
})

const sliceArb = (len: number) =>
  fc
    .record({
      start: fc.option(fc.integer({ min: -len - 1, max: len + 1 }), { nil: null }),
      stop: fc.option(fc.integer({ min: -len - 1, max: len + 1 }), { nil: null }),
      step: fc.constantFrom(1, 1, 2, 3, -1, -2),
    })
    .map(({ start, stop, step }) => slice(start, stop, step))

test('pieces: any view, any page size, any range → the C-order elements, each piece in one page', () => {
  const arb = fc
    .record({
      shape: fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }),
      order: fc.constantFrom<'C' | 'F'>('C', 'F'),
      itemsize: fc.constantFrom(1, 2, 8),
      pages: fc.constantFrom(1, 2, 4, 8),
      offset: fc.nat(4),
    })
    .chain((g) =>
      fc.record({
        g: fc.constant(g),
        sel: fc.tuple(
          ...(g.shape.map((d) => fc.oneof(sliceArb(d), fc.nat(Math.max(0, d - 1)))) as [fc.Arbitrary<Index>]),
        ),
        a: fc.nat(300),
        b: fc.nat(300),
      }),
    )
  fc.assert(
    fc.property(arb, ({ g, sel, a, b }) => {
      const base: Layout = {
        shape: g.shape,
        strides: contiguousStrides(g.shape, g.itemsize, g.order),
        offset: g.offset * g.itemsize,
      }
      // An integer index on a zero-length axis is out of range: use all of it instead.
      const l = select(
        base,
        sel.map((s, k) => (typeof s === 'number' && g.shape[k] === 0 ? slice() : s)),
      )
      const want = offsets(l)
      const from = Math.min(a, b, want.length)
      const to = Math.min(Math.max(a, b), want.length)
      const pagesize = g.pages * g.itemsize
      const got: number[] = []
      let next = from
      for (const [off, n, start] of cut(l, g.itemsize, pagesize, from, to)) {
        assert.equal(start, next, 'pieces follow each other in C order')
        assert.ok(n > 0)
        assert.equal(
          Math.floor(off / pagesize),
          Math.floor((off + n * g.itemsize - 1) / pagesize),
          'a piece lies in one page',
        )
        for (let i = 0; i < n; i++) got.push(off + i * g.itemsize)
        next += n
      }
      assert.deepEqual(got, want.slice(from, to))
    }),
    { numRuns: 500 },
  )
})

function float64Array(n: number, async = false) {
  const r = ram(16)
  const fh = new FileH(new MemoryBigFile(PS, { async }), r)
  // Element 0 at byte 800: chunks end at byte 4096, 8192, ... = elements 412, 924, ...
  const a = BigArray.over(fh, { dtype: 'float64', shape: [n], offset: 800 })
  return { fh, a }
}

function steps(a: BigArray, from: number, to: number, opts: { write?: boolean; signal?: AbortSignal } = {}) {
  const l = a._layout
  return walk(a._shared.vma, l, 8, Float64Array, opts.write ?? false, from, to, opts)
}

test('walk: chunks are zero-copy views cut at page edges, each page pinned only while its chunk is out', async () => {
  const { fh, a } = float64Array(1500)
  await a.copyFrom(Float64Array.from({ length: 1500 }, (_, i) => i))
  const seen: [number, number][] = []
  for (const s of steps(a, 0, 1500)) {
    assert.ok(!(s instanceof Promise), 'a synchronous storage never waits')
    const c = s as Chunk
    seen.push([c.start, c.data.length])
    assert.equal(c.data[0], c.start)
    assert.equal(c.data[c.data.length - 1], c.start + c.data.length - 1)
    const pg = Math.floor((800 + c.start * 8) / PS)
    assert.equal(fh.pageInfo(pg).pincount, 1, `page ${pg} pinned while its chunk is out`)
    if (pg > 0) assert.equal(fh.pageInfo(pg - 1).pincount, 0, 'the previous page released')
  }
  assert.deepEqual(seen, [
    [0, 412],
    [412, 512],
    [924, 512],
    [1436, 64],
  ])
  for (const pg of [0, 1, 2, 3]) assert.equal(fh.pageInfo(pg).pincount, 0)
  // A write through a chunk lands in the array.
  for (const s of steps(a, 500, 501, { write: true })) (s as Chunk).data[0] = -1
  assert.equal(a.get1(500), -1)
  assert.deepEqual(fh.dirtyPages(), [0, 1, 2, 3])
})

test('walk: leaving early, an abort or a failing caller release the pin', () => {
  const { fh, a } = float64Array(1500)
  for (const _ of steps(a, 0, 1500)) break
  assert.equal(fh.pageInfo(0).pincount, 0)
  assert.throws(
    () => {
      for (const _ of steps(a, 0, 1500, { signal: AbortSignal.abort() })) {
      }
    },
    { code: 'EABORT' },
  )
  const ac = new AbortController()
  assert.throws(
    () => {
      for (const s of steps(a, 0, 1500, { signal: ac.signal })) if ((s as Chunk).start > 0) ac.abort()
    },
    { code: 'EABORT' },
  )
  assert.throws(() => {
    for (const _ of steps(a, 600, 700)) throw new Error('caller')
  }, /caller/)
  for (const pg of [0, 1, 2, 3]) assert.equal(fh.pageInfo(pg).pincount, 0, `page ${pg}`)
})

test('walk: progress counts bytes of the range after each chunk; an async storage yields waits', async () => {
  const { a } = float64Array(1500, true)
  const reports: [number, number][] = []
  let waits = 0
  let chunks = 0
  for (const s of walk(a._shared.vma, a._layout, 8, Float64Array, false, 400, 1000, {
    onProgress: (d, t) => reports.push([d, t]),
  })) {
    if (s instanceof Promise) {
      waits++
      await s
    } else chunks++
  }
  assert.equal(chunks, 3)
  assert.ok(waits >= 1, 'the first page has to load')
  assert.deepEqual(reports, [
    [12 * 8, 600 * 8],
    [524 * 8, 600 * 8],
    [600 * 8, 600 * 8],
  ])
})
