// The typed-array hit path and the DataView miss path give the same bytes: every accessor, at aligned,
// unaligned and page-straddling offsets, on pages resident (read-only or writable) or not, against a
// little-endian DataView over a plain copy of the file.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { FileH, MemoryBigFile, RAM, WriteoutFlags } from '../../src/index.ts'

const PS = 4096
const PAGES = 4

type Kind =
  | 'Uint8'
  | 'Int8'
  | 'Uint16'
  | 'Int16'
  | 'Uint32'
  | 'Int32'
  | 'Float32'
  | 'Float64'
  | 'BigInt64'
  | 'BigUint64'
const KINDS: [Kind, number][] = [
  ['Uint8', 1],
  ['Int8', 1],
  ['Uint16', 2],
  ['Int16', 2],
  ['Uint32', 4],
  ['Int32', 4],
  ['Float32', 4],
  ['Float64', 8],
  ['BigInt64', 8],
  ['BigUint64', 8],
]

type Op = { kind: number; off: number; write: boolean; bits: number[]; state: number }

const opArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.nat(KINDS.length - 1),
  // Near page boundaries half of the time (straddling), anywhere otherwise.
  off: fc.oneof(
    fc
      .tuple(fc.integer({ min: 1, max: PAGES - 1 }), fc.integer({ min: -8, max: 7 }))
      .map(([p, d]) => p * PS + d),
    fc.nat(PAGES * PS - 8),
  ),
  write: fc.boolean(),
  bits: fc.array(fc.nat(255), { minLength: 8, maxLength: 8 }),
  // 0: leave the page table as it is; 1: write out and mark stored (entries read-only); 2: a fresh VMA (all miss)
  state: fc.nat(2),
})

test('every accessor agrees with a DataView at any offset and page state (model)', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
      const file = new MemoryBigFile(PS)
      const ram = new RAM({ pagesize: PS, capacity: (PAGES + 4) * PS })
      const fh = new FileH(file, ram)
      let vma = fh.mmap(0, PAGES)
      const ref = new Uint8Array(PAGES * PS)
      const rdv = new DataView(ref.buffer)
      const scratch = new DataView(new ArrayBuffer(8))
      for (const op of ops) {
        const [kind, size] = KINDS[op.kind]
        const off = Math.min(op.off, PAGES * PS - size)
        if (op.state === 1) fh.writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED)
        if (op.state === 2) {
          vma.unmap()
          vma = fh.mmap(0, PAGES)
        }
        const m = vma as unknown as Record<string, (o: number, v?: unknown) => unknown>
        const r = rdv as unknown as Record<string, (o: number, v?: unknown, le?: boolean) => unknown>
        if (op.write) {
          // A value from raw bits, so that every bit pattern (but NaN payloads) is tried.
          for (let k = 0; k < 8; k++) scratch.setUint8(k, op.bits[k])
          const s = scratch as unknown as Record<string, (o: number, le?: boolean) => unknown>
          let v = s[`get${kind}`].call(scratch, 0, true)
          if (typeof v === 'number' && Number.isNaN(v)) v = 0
          m[`set${kind}`].call(vma, off, v)
          r[`set${kind}`].call(rdv, off, v, true)
        } else {
          assert.equal(
            m[`get${kind}`].call(vma, off),
            r[`get${kind}`].call(rdv, off, true),
            `${kind} at ${off}`,
          )
        }
      }
      // Every byte, through the bulk path.
      assert.deepEqual(vma.readBytes(0, new Uint8Array(PAGES * PS)), ref)
      fh.writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED)
      for (let p = 0; p < PAGES; p++) {
        const blk = file.blocks.get(p) ?? new Uint8Array(PS)
        assert.deepEqual(blk, ref.subarray(p * PS, (p + 1) * PS))
      }
      vma.unmap()
      fh.close()
    }),
    { numRuns: 200 },
  )
})

test('misaligned and straddling elements hit the DataView path and keep byte order', () => {
  const ram = new RAM({ pagesize: PS, capacity: 8 * PS })
  const fh = new FileH(new MemoryBigFile(PS), ram)
  const vma = fh.mmap(0, 2)
  vma.setFloat64(PS - 3, Math.PI) // straddles pages 0 and 1
  vma.setUint32(5, 0x01020304) // unaligned, within a page
  const bytes = vma.readBytes(0, new Uint8Array(2 * PS))
  const dv = new DataView(bytes.buffer)
  assert.equal(dv.getFloat64(PS - 3, true), Math.PI)
  assert.deepEqual([...bytes.subarray(5, 9)], [4, 3, 2, 1])
  assert.equal(vma.getFloat64(PS - 3), Math.PI)
  assert.equal(vma.getUint32(5), 0x01020304)
  assert.equal(vma.getUint16(6), 0x0203)
  // A write fault through a read-only entry dirties the page and the value lands.
  fh.writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED)
  assert.equal(vma.mappedAs(0), 'r')
  vma.setFloat64(8, -2)
  assert.equal(vma.mappedAs(0), 'rw')
  assert.equal(vma.getFloat64(8), -2)
  // Bad offsets keep their errors.
  assert.throws(() => vma.getFloat64(2 * PS - 4), { code: 'ERANGE' })
  assert.throws(() => vma.getFloat64(-8), { code: 'ERANGE' })
  assert.throws(() => vma.getFloat64(8.5), { code: 'ERANGE' })
  assert.throws(() => vma.setInt8(2 * PS, 1), { code: 'ERANGE' })
  vma.unmap()
  assert.throws(() => vma.getFloat64(0), { code: 'ECLOSED' })
  fh.close()
})
