// PageTable: the sparse page table of a VMA. Leaves are allocated when a page of theirs is mapped and freed
// with their last mapping; a model test checks it against a Map.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { OutOfRangeError } from '../../src/errors.ts'
import { FileH, MemoryBigFile, RAM, WriteoutFlags } from '../../src/index.ts'
import { LEAF, NEAR, PageTable } from '../../src/virtmem/pagetable.ts'

const entries = (pt: PageTable) => {
  const out: [number, number][] = []
  pt.forEachMapped((i, e) => out.push([i, e]))
  return out
}

describe('PageTable', () => {
  test('a new table maps nothing and holds no leaf', () => {
    const pt = new PageTable(10)
    assert.equal(pt.get(0), -1)
    assert.equal(pt.get(9), -1)
    assert.equal(pt.mapped, 0)
    assert.equal(pt.leaves, 0)
    assert.deepEqual(entries(pt), [])
  })

  test('get is -1 outside [0, length), for fractions and NaN', () => {
    const pt = new PageTable(4)
    pt.set(3, 7)
    for (const i of [-1, 4, 5, LEAF, 2 ** 40, 3.5, Number.NaN, Number.POSITIVE_INFINITY])
      assert.equal(pt.get(i), -1, String(i))
    assert.equal(pt.get(3), 7)
  })

  test('near entries need no leaf; a far leaf is allocated once and freed with its last entry', () => {
    const pt = new PageTable(NEAR + 3 * LEAF)
    pt.set(5, 1)
    assert.equal(pt.leaves, 0)
    const f = NEAR + LEAF
    pt.set(f + 1, 4)
    pt.set(f + 2, 5)
    assert.equal(pt.leaves, 1)
    assert.equal(pt.mapped, 3)
    pt.set(f + 1, 9) // overwrite: still three mapped
    assert.equal(pt.mapped, 3)
    assert.deepEqual(entries(pt), [
      [5, 1],
      [f + 1, 9],
      [f + 2, 5],
    ])
    pt.clear(f + 1)
    assert.equal(pt.leaves, 1)
    pt.clear(f + 1) // not mapped: no-op
    assert.equal(pt.mapped, 2)
    pt.clear(f + 2)
    assert.equal(pt.leaves, 0)
    assert.equal(pt.mapped, 1)
    assert.equal(pt.get(f + 2), -1)
    pt.clear(5)
    assert.equal(pt.mapped, 0)
    assert.equal(pt.get(5), -1)
  })

  test('entries 0 and 0x7fffffff (frame 2^30 - 1, writable) round-trip', () => {
    const pt = new PageTable(NEAR + 1)
    for (const i of [0, NEAR]) {
      for (const e of [0, 1, 0x7ffffffe, 0x7fffffff]) {
        pt.set(i, e)
        assert.equal(pt.get(i), e)
      }
    }
    assert.equal(pt.mapped, 2)
  })

  test('clearAll frees every leaf, near and far', () => {
    const pt = new PageTable(2 ** 38)
    pt.set(0, 1)
    pt.set(2 ** 37 + 3, 2)
    assert.equal(pt.mapped, 2)
    assert.equal(pt.leaves, 1)
    pt.clearAll()
    assert.equal(pt.leaves, 0)
    assert.equal(pt.mapped, 0)
    assert.equal(pt.get(0), -1)
    assert.equal(pt.get(2 ** 37 + 3), -1)
  })

  test('set refuses an entry outside the table or a negative value', () => {
    const pt = new PageTable(4)
    assert.throws(() => pt.set(4, 0), OutOfRangeError)
    assert.throws(() => pt.set(-1, 0), OutOfRangeError)
    assert.throws(() => pt.set(1.5, 0), OutOfRangeError)
    assert.throws(() => pt.set(0, -1), { code: 'EINVAL' })
  })

  test('2^38 entries (2^50 bytes of 4 KiB pages): made, set and read in milliseconds, a leaf per page touched', (t) => {
    const t0 = performance.now()
    const pt = new PageTable(2 ** 38)
    const at = [0, 1, 2 ** 20 - 1, 2 ** 20, 2 ** 32 + 5, 2 ** 38 - 1]
    for (const [k, i] of at.entries()) pt.set(i, k * 2)
    for (const [k, i] of at.entries()) assert.equal(pt.get(i), k * 2)
    assert.equal(pt.mapped, at.length)
    assert.equal(pt.leaves, 3) // past the near part: 2^20, 2^32 + 5, 2^38 - 1
    assert.equal(pt.near.length, NEAR)
    assert.deepEqual(
      entries(pt).map(([i]) => i),
      at,
    )
    t.diagnostic(`${(performance.now() - t0).toFixed(2)} ms`) // reported, not asserted: machine speed varies
  })

  test('model: any sequence of set/clear/clearAll agrees with a Map', () => {
    const len = fc.constantFrom(1, 7, LEAF, 3 * LEAF + 5, 2 ** 21 + 3, 2 ** 40)
    fc.assert(
      fc.property(
        len,
        fc.array(fc.tuple(fc.nat(20), fc.nat(), fc.nat(1000)), { maxLength: 200 }),
        (n, ops) => {
          const pt = new PageTable(n)
          const ref = new Map<number, number>()
          // Indexes cluster near 0, leaf bounds, the near/far boundary and the end.
          const spots = [0, 1, LEAF - 1, LEAF, 2 ** 20 - 1, 2 ** 20, 2 ** 20 + LEAF, n - 1, n - LEAF].filter(
            (i) => i >= 0 && i < n,
          )
          for (const [op, r, v] of ops) {
            const i = r % 3 === 0 ? spots[r % spots.length] : (spots[r % spots.length] + (r % 97)) % n
            if (op < 12) {
              pt.set(i, v)
              ref.set(i, v)
            } else if (op < 20) {
              pt.clear(i)
              ref.delete(i)
            } else {
              pt.clearAll()
              ref.clear()
            }
            assert.equal(pt.get(i), ref.get(i) ?? -1)
          }
          assert.equal(pt.mapped, ref.size)
          const want = [...ref.entries()].sort((a, b) => a[0] - b[0])
          assert.deepEqual(entries(pt), want)
          const leaves = new Set(want.filter(([i]) => i >= NEAR).map(([i]) => Math.floor(i / LEAF)))
          assert.equal(pt.leaves, leaves.size, 'a far leaf exists exactly while one of its entries is mapped')
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('VMA over a sparse page table', () => {
  test('a 2^50-byte VMA: mmap, read and write at far pages, unmap; page states as for a small one', (t) => {
    const ps = 4096
    const ram = new RAM({ pagesize: ps, capacity: 16 * ps })
    const file = new MemoryBigFile(ps)
    const fh = new FileH(file, ram)
    const t0 = performance.now()
    const vma = fh.mmap(0, 2 ** 38)
    assert.equal(vma.byteLength, 2 ** 50)
    const offs = [0, 2 ** 32 - 8, 2 ** 32, 2 ** 40 + 8, 2 ** 50 - 8]
    for (const [k, o] of offs.entries()) vma.setFloat64(o, k + 0.5)
    for (const [k, o] of offs.entries()) assert.equal(vma.getFloat64(o), k + 0.5)
    for (const o of offs) assert.equal(vma.mappedAs(Math.floor(o / ps)), 'rw')
    assert.equal(vma.mappedAs(5), 'none')
    assert.equal(vma._pt.mapped, offs.length)
    assert.equal(fh.counters.faults, offs.length)
    // A straddling number at a far page boundary goes through the straddle path.
    vma.setFloat64(2 ** 40 + ps - 4, 1.25)
    assert.equal(vma.getFloat64(2 ** 40 + ps - 4), 1.25)
    t.diagnostic(`${(performance.now() - t0).toFixed(2)} ms`)
    vma.unmap()
    assert.equal(vma._pt.mapped, 0)
    assert.equal(vma._pt.leaves, 0)
    fh.close()
  })

  test('write-protect after a writeout and reclaim clear only the entries they concern', () => {
    const ps = 4096
    const ram = new RAM({ pagesize: ps, capacity: 8 * ps, reserve: 1 })
    const file = new MemoryBigFile(ps)
    const fh = new FileH(file, ram)
    const vma = fh.mmap(2 ** 30, 2 ** 30)
    vma.setUint8(0, 1)
    vma.setUint8(2 ** 29 * ps, 2)
    assert.equal(vma.mappedAs(2 ** 30), 'rw')
    assert.equal(vma.mappedAs(2 ** 30 + 2 ** 29), 'rw')
    fh.writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED)
    assert.equal(vma.mappedAs(2 ** 30), 'r')
    assert.equal(vma.mappedAs(2 ** 30 + 2 ** 29), 'r')
    assert.equal(file.blocks.get(2 ** 30)?.[0], 1)
    assert.equal(file.blocks.get(2 ** 30 + 2 ** 29)?.[0], 2)
    // Touch more pages than there are frames: clean pages are reclaimed and unmapped.
    for (let k = 0; k < 20; k++) vma.getUint8(k * 7919 * ps)
    assert.ok(vma._pt.mapped <= ram.frames)
    let mapped = 0
    vma._pt.forEachMapped(() => mapped++)
    assert.equal(mapped, vma._pt.mapped)
    vma.unmap()
    fh.close()
  })
})
