// src/array/layout.ts: shapes, strides, NumPy basic indexing on a layout, and the extent and inner run
// the chunk walk relies on. Layouts here are plain data; no storage is involved.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  checkOrder,
  checkShape,
  contiguousStrides,
  extent,
  growAxis,
  innerRun,
  type Layout,
  normIndex,
  select,
  sizeOf,
} from '../../src/array/layout.ts'
import { newaxis, slice } from '../../src/array/slice.ts'

const C = (shape: number[], itemsize = 8): Layout => ({
  shape,
  strides: contiguousStrides(shape, itemsize, 'C'),
  offset: 0,
})
const F = (shape: number[], itemsize = 8): Layout => ({
  shape,
  strides: contiguousStrides(shape, itemsize, 'F'),
  offset: 0,
})

test('checkShape copies non-negative safe integers and refuses the rest', () => {
  const s = [2, 0, 3]
  const r = checkShape(s)
  assert.deepEqual(r, [2, 0, 3])
  assert.notEqual(r, s, 'a copy: the caller may change its array afterwards')
  assert.deepEqual(checkShape([]), [])
  for (const bad of [undefined, 'x', [1.5], [-1], [Number.NaN], ['3'], [2 ** 53]])
    assert.throws(() => checkShape(bad), { code: 'EINVAL' }, JSON.stringify(bad))
  assert.throws(() => checkShape([2 ** 30, 2 ** 30]), { code: 'EINVAL', message: /too large/ })
  // A zero dimension makes the size 0, so the others may be as large as they like.
  assert.deepEqual(checkShape([0, 2 ** 52, 2 ** 52]), [0, 2 ** 52, 2 ** 52])
})

test('checkOrder: C by default, C or F, nothing else', () => {
  assert.equal(checkOrder(undefined), 'C')
  assert.equal(checkOrder('C'), 'C')
  assert.equal(checkOrder('F'), 'F')
  for (const bad of ['c', 'f', 'A', null, 0]) assert.throws(() => checkOrder(bad), { code: 'EINVAL' })
})

test('sizeOf: 1 for a 0-d shape, 0 with a zero dimension', () => {
  assert.equal(sizeOf([]), 1)
  assert.equal(sizeOf([7]), 7)
  assert.equal(sizeOf([2, 3, 4]), 24)
  assert.equal(sizeOf([3, 0, 4]), 0)
})

test('contiguousStrides: C and F order, zero-size dimensions count as 1, 0-d has none', () => {
  assert.deepEqual(contiguousStrides([2, 3, 4], 8, 'C'), [96, 32, 8])
  assert.deepEqual(contiguousStrides([2, 3, 4], 8, 'F'), [8, 16, 48])
  assert.deepEqual(contiguousStrides([2, 3, 4], 1, 'C'), [12, 4, 1])
  assert.deepEqual(contiguousStrides([0, 3], 4, 'C'), [12, 4])
  assert.deepEqual(contiguousStrides([3, 0, 2], 4, 'F'), [4, 12, 12])
  assert.deepEqual(contiguousStrides([], 8, 'C'), [])
  assert.deepEqual(contiguousStrides([5], 2, 'F'), [2])
})

test('growAxis: the first axis in C order, the last in F order', () => {
  assert.equal(growAxis(3, 'C'), 0)
  assert.equal(growAxis(3, 'F'), 2)
  assert.equal(growAxis(1, 'F'), 0)
})

test('normIndex: negative counts from the end; out of bounds is ERANGE, a fraction EINVAL', () => {
  assert.equal(normIndex(0, 5, 0), 0)
  assert.equal(normIndex(-1, 5, 0), 4)
  assert.equal(normIndex(-5, 5, 0), 0)
  assert.throws(() => normIndex(5, 5, 1), { code: 'ERANGE', message: /axis 1 with size 5/ })
  assert.throws(() => normIndex(-6, 5, 0), { code: 'ERANGE' })
  assert.throws(() => normIndex(0, 0, 0), { code: 'ERANGE' }, 'a zero-size axis has no index')
  assert.throws(() => normIndex(1.5, 5, 0), { code: 'EINVAL' })
  assert.throws(() => normIndex(Number.NaN, 5, 0), { code: 'EINVAL' })
})

test('select: an integer drops its axis and moves the offset, missing trailing indexes are all', () => {
  const l = C([4, 5]) // strides [40, 8]
  assert.deepEqual(select(l, [2]), { shape: [5], strides: [8], offset: 80 })
  assert.deepEqual(select(l, [-1, -1]), { shape: [], strides: [], offset: 3 * 40 + 4 * 8 })
  assert.deepEqual(select(l, []), { shape: [4, 5], strides: [40, 8], offset: 0 })
  assert.deepEqual(select(F([4, 5]), [1]), { shape: [5], strides: [32], offset: 8 })
})

test('select: negative steps start at the far end and negate the stride', () => {
  const l = C([5]) // stride 8
  assert.deepEqual(select(l, [slice(null, null, -1)]), { shape: [5], strides: [-8], offset: 32 })
  assert.deepEqual(select(l, [slice(null, null, -2)]), { shape: [3], strides: [-16], offset: 32 })
  assert.deepEqual(select(l, [slice(3, 0, -2)]), { shape: [2], strides: [-16], offset: 24 })
  // A reversed view reversed again is the original, offsets composing.
  const twice = select(select(l, [slice(null, null, -1)]), [slice(null, null, -1)])
  assert.deepEqual(twice, { shape: [5], strides: [8], offset: 0 })
  // Steps compose by multiplication: every other of the reversed is every other second, from the end.
  const m = C([4, 6])
  assert.deepEqual(select(m, [slice(null, null, -1), slice(1, null, 2)]), {
    shape: [4, 3],
    strides: [-48, 16],
    offset: 3 * 48 + 8,
  })
})

test('select: an empty slice has length 0 and leaves the offset alone', () => {
  const l = C([4, 5])
  assert.deepEqual(select(l, [slice(10, 20)]), { shape: [0, 5], strides: [40, 8], offset: 0 })
  assert.deepEqual(select(l, [1, slice(3, 3)]), { shape: [0], strides: [8], offset: 40 })
  assert.deepEqual(select(l, [slice(0, 4, -1)]), { shape: [0, 5], strides: [-40, 8], offset: 0 })
})

test('select: newaxis adds a length-1 axis of stride 0; too many indexes and bad ones are EINVAL', () => {
  const l = C([4, 5])
  // As NumPy: a[None, 1, None] has shape (1, 1, 5), the untouched axis last.
  assert.deepEqual(select(l, [newaxis, 1, newaxis]), { shape: [1, 1, 5], strides: [0, 0, 8], offset: 40 })
  assert.deepEqual(select(l, [slice(null), 1, newaxis]), { shape: [4, 1], strides: [40, 0], offset: 8 })
  assert.throws(() => select(l, [0, 0, 0]), { code: 'EINVAL', message: /too many indices/ })
  assert.throws(() => select(l, ['x' as never]), { code: 'EINVAL' })
  assert.throws(() => select(l, [4]), { code: 'ERANGE' })
  assert.throws(() => select(l, [slice(0, 2, 0)]), { code: 'EINVAL' })
})

test('extent: lowest and one-past-highest byte, whichever way the strides point', () => {
  assert.deepEqual(extent(C([2, 3]), 8), { lo: 0, hi: 48 })
  assert.deepEqual(extent(F([2, 3]), 8), { lo: 0, hi: 48 })
  const rev = select(C([2, 3]), [slice(null, null, -1), slice(null, null, -1)])
  assert.deepEqual(extent(rev, 8), { lo: 0, hi: 48 })
  // Row 1, columns 2 and 0 (stride -16) of a 2×3 float64 array: bytes 24..47.
  const part = select(C([2, 3]), [1, slice(null, null, -2)])
  assert.deepEqual(part, { shape: [2], strides: [-16], offset: 40 })
  assert.deepEqual(extent(part, 8), { lo: 24, hi: 48 })
  assert.deepEqual(extent(select(C([2, 3]), [1, 2]), 8), { lo: 40, hi: 48 }, '0-d: one element')
})

test('innerRun: the trailing axes that form one forward run, in C and F order', () => {
  assert.deepEqual(innerRun(C([3, 4, 5]), 8), { axes: 3, runLen: 60 })
  assert.deepEqual(innerRun(C([]), 8), { axes: 0, runLen: 1 })
  // F order walked in C element order: the last axis jumps, so each run is one element.
  assert.deepEqual(innerRun(F([3, 4]), 8), { axes: 0, runLen: 1 })
  // ... unless the jumping axes have length 1.
  assert.deepEqual(innerRun(F([3, 1]), 8), { axes: 2, runLen: 3 })
  // Whole rows of a C array are still one run; a column slice breaks it at the row.
  assert.deepEqual(innerRun(select(C([4, 10]), [slice(1, 3)]), 8), { axes: 2, runLen: 20 })
  assert.deepEqual(innerRun(select(C([4, 10]), [slice(null), slice(0, 5)]), 8), { axes: 1, runLen: 5 })
  // Reversed or strided: no run longer than an element.
  assert.deepEqual(innerRun(select(C([6]), [slice(null, null, -1)]), 8), { axes: 0, runLen: 1 })
  assert.deepEqual(innerRun(select(C([6]), [slice(null, null, 2)]), 8), { axes: 0, runLen: 1 })
  // newaxis (length 1, stride 0) does not break a run.
  assert.deepEqual(innerRun(select(C([2, 3]), [slice(null), newaxis]), 8), { axes: 3, runLen: 6 })
})
