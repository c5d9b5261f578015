// IntervalSet: sorted, disjoint, non-adjacent half-open intervals; add merges, remove splits.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { IntervalSet } from '../../src/virtmem/intervals.ts'

function set(...spans: [number, number, number][]): IntervalSet {
  const s = new IntervalSet()
  for (const [start, end, value] of spans) s.add(start, end, value)
  return s
}

/** The set as text, `[start,end)=value` per interval, in order. */
const show = (s: IntervalSet) =>
  s
    .toArray()
    .map((i) => `[${i.start},${i.end})=${i.value}`)
    .join(' ')

describe('IntervalSet.add', () => {
  test('an empty or inverted interval adds nothing', () => {
    const s = set([5, 5, 1], [7, 3, 1])
    assert.equal(s.size, 0)
    assert.equal(show(s), '')
  })

  test('disjoint intervals stay apart, sorted by start whatever the order added', () => {
    const s = set([10, 12, 1], [0, 2, 2], [5, 7, 3])
    assert.equal(show(s), '[0,2)=2 [5,7)=3 [10,12)=1')
  })

  test('an interval adjacent on the right or on the left merges (half-open ends touch)', () => {
    assert.equal(show(set([0, 4, 1], [4, 6, 2])), '[0,6)=2')
    assert.equal(show(set([4, 6, 2], [0, 4, 1])), '[0,6)=2')
  })

  test('a one-page gap keeps them apart', () => {
    assert.equal(show(set([0, 4, 1], [5, 6, 2])), '[0,4)=1 [5,6)=2')
  })

  test('filling the gap between two intervals merges all three into one, with the largest value', () => {
    const s = set([0, 4, 7], [6, 9, 3])
    s.add(4, 6, 5)
    assert.equal(show(s), '[0,9)=7')
  })

  test('an interval covering several swallows them; one inside another changes only the value', () => {
    const s = set([2, 3, 1], [5, 6, 2], [8, 9, 3], [20, 21, 4])
    s.add(1, 10, 0)
    assert.equal(show(s), '[1,10)=3 [20,21)=4')
    s.add(4, 5, 9)
    assert.equal(show(s), '[1,10)=9 [20,21)=4')
  })

  test('toArray is a copy: changing it does not change the set', () => {
    const s = set([0, 4, 1])
    const a = s.toArray()
    a[0].end = 100
    a.pop()
    assert.equal(show(s), '[0,4)=1')
  })
})

describe('IntervalSet.remove', () => {
  test('removing the middle splits one interval in two, both keeping its value', () => {
    const s = set([0, 10, 4])
    s.remove(3, 5)
    assert.equal(show(s), '[0,3)=4 [5,10)=4')
  })

  test('removing exactly at the boundaries leaves the neighbours whole', () => {
    const s = set([0, 4, 1], [6, 9, 2])
    s.remove(4, 6) // the gap itself
    assert.equal(show(s), '[0,4)=1 [6,9)=2')
    s.remove(0, 1) // the first page
    s.remove(8, 9) // the last page
    assert.equal(show(s), '[1,4)=1 [6,8)=2')
  })

  test('a removal spanning several trims the outer ones and drops the inner ones', () => {
    const s = set([0, 3, 1], [5, 6, 2], [8, 12, 3])
    s.remove(2, 10)
    assert.equal(show(s), '[0,2)=1 [10,12)=3')
  })

  test('removing a whole interval, an empty range or nothing present changes nothing else', () => {
    const s = set([0, 3, 1], [5, 6, 2])
    s.remove(5, 6)
    s.remove(2, 2)
    s.remove(40, 50)
    assert.equal(show(s), '[0,3)=1')
    s.clear()
    assert.equal(s.size, 0)
  })
})

describe('IntervalSet lookups', () => {
  const s = set([2, 4, 1], [10, 11, 2])

  test('contains is true on [start, end) and false on end', () => {
    assert.deepEqual(
      [1, 2, 3, 4, 9, 10, 11].map((p) => s.contains(p)),
      [false, true, true, false, false, true, false],
    )
    assert.equal(new IntervalSet().contains(0), false)
  })

  test('find returns the interval holding the page, or undefined', () => {
    assert.deepEqual(s.find(3), { start: 2, end: 4, value: 1 })
    assert.deepEqual(s.find(10), { start: 10, end: 11, value: 2 })
    assert.equal(s.find(4), undefined)
    assert.equal(s.find(11), undefined)
  })

  test('overlaps is true only when the ranges share a page', () => {
    assert.equal(s.overlaps(0, 2), false) // ends where the first starts
    assert.equal(s.overlaps(0, 3), true)
    assert.equal(s.overlaps(4, 10), false) // exactly the gap
    assert.equal(s.overlaps(3, 11), true)
    assert.equal(s.overlaps(11, 20), false)
    assert.equal(s.overlaps(5, 5), false) // empty range
  })
})

test('model: any sequence of adds and removes matches a per-page array', () => {
  const N = 40
  const op = fc.record({
    add: fc.boolean(),
    start: fc.integer({ min: 0, max: N }),
    len: fc.integer({ min: -2, max: 12 }),
    value: fc.integer({ min: 0, max: 100 }),
  })
  fc.assert(
    fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const s = new IntervalSet()
      const model: (number | undefined)[] = new Array(N + 12).fill(undefined)
      for (const o of ops) {
        const end = o.start + o.len
        if (o.add) {
          s.add(o.start, end, o.value)
          for (let p = o.start; p < end; p++) model[p] = Math.max(model[p] ?? -1, o.value)
        } else {
          s.remove(o.start, end)
          for (let p = o.start; p < end; p++) model[p] = undefined
        }
      }
      const list = s.toArray()
      // sorted, non-empty, disjoint and non-adjacent
      for (let k = 0; k < list.length; k++) {
        assert.ok(list[k].start < list[k].end)
        if (k > 0) assert.ok(list[k - 1].end < list[k].start)
      }
      // the same pages, and each interval's value is at least that of every page added into it
      for (let p = 0; p < model.length; p++) {
        assert.equal(s.contains(p), model[p] !== undefined, `page ${p}`)
        if (model[p] !== undefined) assert.ok((s.find(p)?.value ?? -1) >= (model[p] as number))
      }
    }),
    { numRuns: 300 },
  )
})
