import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { FileH, type InvalidateRange, PageState, RAM, type VMA } from '../../src/index.ts'
import { RecordingFile } from '../helpers/bigfiles.ts'

const PS = 4096

/** A scratch file of `pglen` pages over a RAM of `frames` frames, mapped whole. */
function scratch(frames: number, pglen = 16, options: Parameters<typeof FileH.scratch>[1] = {}) {
  const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS })
  const fh = FileH.scratch(ram, options)
  const vma = fh.mmap(0, pglen)
  return { ram, fh, vma }
}

/** Fills page pg with a recognisable byte. */
function fill(vma: VMA, pg: number, v: number) {
  vma.writeBytes(pg * PS, new Uint8Array(PS).fill(v))
}

function pageIs(vma: VMA, pg: number, v: number): boolean {
  return vma.readBytes(pg * PS, new Uint8Array(PS)).every((b) => b === v)
}

describe('scratch files', () => {
  test('read zeros, keep their dirty pages, and cannot be written out', () => {
    const { ram, fh, vma } = scratch(4)
    assert.equal(vma.getFloat64(800), 0)
    assert.equal(fh.pageState(0), PageState.LOADED)
    fill(vma, 1, 7)
    fill(vma, 2, 8)
    assert.equal(ram.reclaim(), 1) // the clean zero page only
    assert.deepEqual(fh.residentPages(), [1, 2])
    assert.throws(() => fh.writeout(1), { code: 'EINVAL' })
    assert.throws(() => fh.writeout(2), { code: 'EINVAL' })
    fill(vma, 3, 9)
    fill(vma, 4, 9)
    assert.throws(() => vma.setUint8(5 * PS, 1), { code: 'ENOMEM' })
    assert.ok(pageIs(vma, 1, 7))
  })
})

describe('volatile ranges', () => {
  test('without pressure nothing is purged and the bytes are unchanged', () => {
    const { fh, vma } = scratch(8)
    for (let pg = 0; pg < 4; pg++) fill(vma, pg, pg + 1)
    fh.markVolatile(0, 4 * PS)
    for (let pg = 0; pg < 4; pg++) assert.ok(pageIs(vma, pg, pg + 1))
    assert.deepEqual(fh.markNonVolatile(0, 4 * PS), { purged: false })
    for (let pg = 0; pg < 4; pg++) assert.ok(pageIs(vma, pg, pg + 1))
  })

  test('under pressure the range is purged: purged is true and the pages read as zeros', () => {
    const { ram, fh, vma } = scratch(8)
    for (let pg = 0; pg < 4; pg++) fill(vma, pg, pg + 1)
    fh.markVolatile(0, 4 * PS)
    assert.equal(ram.reclaim(), 4)
    assert.equal(ram.counters.purges, 4)
    assert.deepEqual(fh.markNonVolatile(0, 4 * PS), { purged: true })
    for (let pg = 0; pg < 4; pg++) assert.ok(pageIs(vma, pg, 0))
    // once reported, the range starts afresh
    assert.deepEqual(fh.markNonVolatile(0, 4 * PS), { purged: false })
  })

  test('one page of pressure purges a whole 8-page range (the range is the unit)', () => {
    const { fh, vma } = scratch(8)
    for (let pg = 0; pg < 8; pg++) fill(vma, pg, 0x11)
    fh.markVolatile(0, 8 * PS)
    vma.getUint8(8 * PS) // needs one frame
    assert.deepEqual(fh.residentPages(), [8])
    assert.deepEqual(fh.markNonVolatile(0, 8 * PS), { purged: true })
    for (let pg = 0; pg < 8; pg++) assert.ok(pageIs(vma, pg, 0))
  })

  test("purgeUnit 'page' gives up only as many pages as needed", () => {
    const { fh, vma } = scratch(8, 16, { purgeUnit: 'page' })
    for (let pg = 0; pg < 8; pg++) fill(vma, pg, 0x22)
    fh.markVolatile(0, 8 * PS)
    vma.getUint8(8 * PS)
    assert.deepEqual(fh.residentPages(), [1, 2, 3, 4, 5, 6, 7, 8])
    assert.deepEqual(fh.markNonVolatile(4 * PS, 4 * PS), { purged: false })
    assert.deepEqual(fh.markNonVolatile(0, PS), { purged: true })
    assert.ok(pageIs(vma, 0, 0))
    assert.ok(pageIs(vma, 5, 0x22))
  })

  test('with V volatile and C clean pages resident, K <= V new frames evict no clean page', () => {
    const ram = new RAM({ pagesize: PS, capacity: 10 * PS })
    const fh = FileH.scratch(ram, { purgeUnit: 'page' })
    const vma = fh.mmap(0, 4)
    const stored = new FileH(new RecordingFile(PS), ram)
    const svma = stored.mmap(0, 16)
    for (let pg = 0; pg < 4; pg++) fill(vma, pg, 5) // V = 4
    for (let pg = 0; pg < 4; pg++) svma.getUint8(pg * PS) // C = 4
    fh.markVolatile(0, 4 * PS)
    for (let k = 0; k < 4; k++) svma.getUint8((4 + k) * PS) // K = 4
    assert.deepEqual(stored.residentPages(), [0, 1, 2, 3, 4, 5, 6, 7])
    assert.deepEqual(fh.residentPages(), [])
    assert.equal(ram.counters.reclaims, 0)
    assert.equal(ram.counters.purges, 4)
  })

  test('least recently marked ranges are purged first', () => {
    const { fh, vma } = scratch(6)
    for (let pg = 0; pg < 6; pg++) fill(vma, pg, pg + 1)
    fh.markVolatile(4 * PS, 2 * PS) // oldest
    fh.markVolatile(0, 2 * PS)
    fh.markVolatile(2 * PS, PS) // [2,3) does not touch [0,2)? it does: adjacent ranges merge
    assert.deepEqual(fh.volatileRanges(), [
      { pgstart: 0, pgend: 3 },
      { pgstart: 4, pgend: 6 },
    ])
    vma.getUint8(8 * PS)
    assert.deepEqual(fh.residentPages(), [0, 1, 2, 3, 8])
    assert.deepEqual(fh.markNonVolatile(4 * PS, 2 * PS), { purged: true })
    assert.deepEqual(fh.markNonVolatile(0, 3 * PS), { purged: false })
  })

  test('mark [0,8) and [8,16), unmark [4,12): exactly [0,4) and [12,16) stay volatile', () => {
    const { fh } = scratch(4)
    fh.markVolatile(0, 8 * PS)
    fh.markVolatile(8 * PS, 8 * PS)
    assert.deepEqual(fh.volatileRanges(), [{ pgstart: 0, pgend: 16 }])
    fh.markNonVolatile(4 * PS, 8 * PS)
    assert.deepEqual(fh.volatileRanges(), [
      { pgstart: 0, pgend: 4 },
      { pgstart: 12, pgend: 16 },
    ])
    fh.markVolatile(2 * PS, 4 * PS) // overlapping merges
    assert.deepEqual(fh.volatileRanges(), [
      { pgstart: 0, pgend: 6 },
      { pgstart: 12, pgend: 16 },
    ])
  })

  test('byte ranges round inward when marking and outward when unmarking', () => {
    const { fh } = scratch(4)
    fh.markVolatile(100, 3 * PS) // pages wholly inside: [1, 3)
    assert.deepEqual(fh.volatileRanges(), [{ pgstart: 1, pgend: 3 }])
    fh.markVolatile(10, 20) // no whole page
    assert.deepEqual(fh.volatileRanges(), [{ pgstart: 1, pgend: 3 }])
    fh.markNonVolatile(PS + PS - 1, 2) // touches pages 1 and 2
    assert.deepEqual(fh.volatileRanges(), [])
    assert.throws(() => fh.markVolatile(-1, 5), { code: 'EINVAL' })
    assert.throws(() => fh.markNonVolatile(0, 1.5), { code: 'EINVAL' })
  })

  test('a pinned page keeps its whole range', () => {
    const { ram, fh, vma } = scratch(4)
    for (let pg = 0; pg < 4; pg++) fill(vma, pg, 3)
    fh.markVolatile(0, 4 * PS)
    const pin = vma.pin(PS, 8)
    assert.equal(ram.reclaim(), 0)
    assert.equal(ram.counters.purges, 0)
    pin.release()
    assert.equal(ram.reclaim(), 4)
  })

  test('lenient (default): a write to a volatile page takes that page out of the set', () => {
    const { ram, fh, vma } = scratch(4)
    for (let pg = 0; pg < 3; pg++) fill(vma, pg, 6)
    fh.markVolatile(0, 3 * PS)
    assert.equal(vma.mappedAs(1), 'r') // write-protected so that writes are seen
    vma.setUint8(PS + 5, 9)
    assert.deepEqual(fh.volatileRanges(), [
      { pgstart: 0, pgend: 1 },
      { pgstart: 2, pgend: 3 },
    ])
    assert.equal(ram.reclaim(), 2)
    assert.equal(vma.getUint8(PS + 5), 9)
    assert.equal(vma.getUint8(PS + 4), 6)
  })

  test('strict: a write to a volatile page and any access to a purged page throw', () => {
    const { ram, fh, vma } = scratch(4, 16, { strict: true })
    fill(vma, 0, 1)
    fill(vma, 1, 1)
    fh.markVolatile(0, 2 * PS)
    assert.throws(() => vma.setUint8(0, 2), { code: 'EVOLATILE', pgoffset: 0 })
    assert.equal(vma.getUint8(0), 1) // reading a volatile page that was not purged is fine
    assert.equal(ram.reclaim(), 2)
    assert.throws(() => vma.getUint8(PS), { code: 'EPURGED', pgoffset: 1 })
    assert.throws(() => vma.setUint8(PS, 1), { code: 'EPURGED' })
    assert.deepEqual(fh.markNonVolatile(0, 2 * PS), { purged: true })
    assert.equal(vma.getUint8(PS), 0)
  })

  test('files with a storage: dirty pages cannot be marked; clean ones drop first, unreported', () => {
    const ram = new RAM({ pagesize: PS, capacity: 8 * PS })
    const file = new RecordingFile(PS)
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 8)
    vma.setUint8(PS, 1)
    assert.throws(() => fh.markVolatile(0, 4 * PS), { code: 'EBUSY', message: /pages 1 are dirty/ })
    fh.writeout(3)
    for (let pg = 0; pg < 4; pg++) vma.getUint8(pg * PS)
    vma.getUint8(5 * PS) // an ordinary clean page, referenced later than nothing
    fh.markVolatile(0, 2 * PS)
    assert.equal(ram.reclaim(), 2)
    assert.deepEqual(fh.residentPages(), [2, 3, 5])
    assert.deepEqual(fh.markNonVolatile(0, 2 * PS), { purged: false })
    assert.equal(vma.getUint8(PS), 1) // reloaded from the storage
  })

  test('notifiers hear of purges', () => {
    const { ram, fh, vma } = scratch(4)
    fill(vma, 0, 1)
    fill(vma, 1, 1)
    fh.markVolatile(0, 2 * PS)
    const seen: string[] = []
    const fmt = (r: InvalidateRange) => `${r.reason} ${r.pgstart}`
    fh.registerNotifier({
      invalidateRangeStart: (r) => seen.push(`start ${fmt(r)}`),
      invalidateRangeEnd: (r) => seen.push(`end ${fmt(r)}`),
    })
    ram.reclaim()
    assert.deepEqual(seen, ['start purge 0', 'end purge 0', 'start purge 1', 'end purge 1'])
  })

  test('close forgets the volatile ranges and reclaim stops asking the file', () => {
    const { ram, fh, vma } = scratch(4)
    fill(vma, 0, 1)
    fh.markVolatile(0, PS)
    vma.unmap()
    fh.close()
    assert.equal(ram.reclaim(), 0)
    assert.throws(() => fh.markVolatile(0, PS), { code: 'ECLOSED' })
  })
})

describe('the producer/consumer ring buffer of the seed', () => {
  test('under random pressure no unconsumed slot is ever lost', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('produce', 'consume', 'pressure'), { minLength: 50, maxLength: 300 }),
        fc.constantFrom<'range' | 'page'>('range', 'page'),
        (ops, purgeUnit) => {
          const SLOTS = 8
          const SLOT = 2 * PS // a slot spans two pages
          const ram = new RAM({ pagesize: PS, capacity: (SLOTS * 2 + 4 + 2) * PS })
          const ring = FileH.scratch(ram, { purgeUnit })
          const producer = ring.mmap(0, SLOTS * 2)
          const consumer = ring.mmap(0, SLOTS * 2)
          const other = new FileH(new RecordingFile(PS), ram).mmap(0, 64)
          ring.markVolatile(0, SLOTS * SLOT)
          let head = 0
          let tail = 0
          let seq = 0
          let pressure = 0
          for (const op of ops) {
            if (op === 'produce' && tail - head < SLOTS) {
              const at = (tail % SLOTS) * SLOT
              ring.markNonVolatile(at, SLOT) // whatever was purged there is overwritten now
              const v = (++seq % 250) + 1
              producer.writeBytes(at, new Uint8Array(SLOT).fill(v))
              tail++
            } else if (op === 'consume' && head < tail) {
              const at = (head % SLOTS) * SLOT
              const got = consumer.readBytes(at, new Uint8Array(SLOT))
              const want = ((seq - (tail - head) + 1) % 250) + 1
              assert.ok(
                got.every((b) => b === want),
                `slot ${head} lost: ${got[0]} != ${want}`,
              )
              ring.markVolatile(at, SLOT)
              head++
            } else if (op === 'pressure') {
              // other data streaming through the same RAM
              for (let i = 0; i < 6; i++) other.getUint8(((pressure++ * 7) % 64) * PS)
            }
            assert.ok(ram.stats().used <= ram.stats().frames)
          }
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('model: marks, unmarks, reads, writes and pressure', () => {
  test('volatile pages may lose their data, nothing else ever does, and purged tells the truth', () => {
    const N = 12
    const op = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.record({
          k: fc.constant('write' as const),
          pg: fc.nat(N - 1),
          v: fc.integer({ min: 1, max: 255 }),
        }),
      },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('read' as const), pg: fc.nat(N - 1) }) },
      {
        weight: 3,
        arbitrary: fc.record({
          k: fc.constant('mark' as const),
          pg: fc.nat(N - 1),
          n: fc.integer({ min: 1, max: 6 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          k: fc.constant('unmark' as const),
          pg: fc.nat(N - 1),
          n: fc.integer({ min: 1, max: 6 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({ k: fc.constant('pressure' as const), n: fc.integer({ min: 1, max: 12 }) }),
      },
    )
    let purges = 0
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 20, maxLength: 100 }),
        fc.constantFrom<'range' | 'page'>('range', 'page'),
        fc.integer({ min: 3, max: 8 }),
        (ops, purgeUnit, frames) => {
          const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS })
          const fh = FileH.scratch(ram, { purgeUnit })
          const vma = fh.mmap(0, N)
          const other = new FileH(new RecordingFile(PS), ram).mmap(0, 64)
          let otherPg = 0
          // val: the last value written; known: the page surely holds val (false after a reported purge
          // whose page could not be read); vol: volatile (may turn to 0 at any time); lost: seen turned to 0
          // since it was marked, so the next markNonVolatile over it must say purged
          const val = new Array<number>(N).fill(0)
          const known = new Array<boolean>(N).fill(true)
          const vol = new Array<boolean>(N).fill(false)
          const lost = new Array<boolean>(N).fill(false)
          const check = (pg: number, got: number) => {
            if (!(known[pg] && !vol[pg]) && got === 0 && val[pg] !== 0) {
              if (vol[pg] && known[pg]) lost[pg] = true
            } else {
              assert.equal(
                got,
                val[pg],
                `page ${pg}: read ${got}, model ${val[pg]} (vol ${vol[pg]}, known ${known[pg]})`,
              )
            }
            val[pg] = got
            known[pg] = true
          }
          const tolerate = (f: () => void) => {
            try {
              f()
            } catch (e) {
              if ((e as { code?: string }).code !== 'ENOMEM') throw e
            }
          }
          for (const o of ops) {
            if (o.k === 'write') {
              tolerate(() => {
                vma.setUint8(o.pg * PS, o.v)
                val[o.pg] = o.v
                known[o.pg] = true
                vol[o.pg] = false
              })
            } else if (o.k === 'read') {
              tolerate(() => check(o.pg, vma.getUint8(o.pg * PS)))
            } else if (o.k === 'mark') {
              const end = Math.min(N, o.pg + o.n)
              fh.markVolatile(o.pg * PS, (end - o.pg) * PS)
              for (let pg = o.pg; pg < end; pg++) vol[pg] = true
            } else if (o.k === 'unmark') {
              const end = Math.min(N, o.pg + o.n)
              const { purged } = fh.markNonVolatile(o.pg * PS, (end - o.pg) * PS)
              if (purged) purges++
              for (let pg = o.pg; pg < end; pg++) {
                if (lost[pg]) assert.ok(purged, `page ${pg} was seen lost but purged is false`)
                lost[pg] = false
                // Not purged: no volatile page of the range lost anything since it was marked.
                if (vol[pg] && purged) known[pg] = false
                vol[pg] = false
                tolerate(() => check(pg, vma.getUint8(pg * PS)))
              }
            } else {
              for (let i = 0; i < o.n; i++) tolerate(() => other.getUint8((otherPg++ % 64) * PS))
            }
            assert.ok(ram.stats().used <= ram.stats().frames)
            assert.deepEqual(
              fh
                .volatileRanges()
                .flatMap((r) => Array.from({ length: r.pgend - r.pgstart }, (_, i) => r.pgstart + i)),
              vol.flatMap((v, pg) => (v ? [pg] : [])),
            )
          }
        },
      ),
      { numRuns: 300 },
    )
    // the runs must have exercised purging, not just marking
    assert.ok(purges > 50, `only ${purges} unmarks reported purged`)
  })
})
