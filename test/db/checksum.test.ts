// The block checksum (util/blockhash.ts, used by sqlite/checksum.ts): every single-bit flip of a 64 KiB
// block and every one-field change of its key changes it; in place, copied and in JS it is one function
// of the bytes, whatever the length and alignment; the committed WebAssembly bytes are their generator's.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import fc from 'fast-check'
import { blockhashWasmSource } from '../../scripts/blockhash-wasm.ts'
import { blockSum } from '../../src/db/sqlite/checksum.ts'
import { blockHash, type HashPath, wasmArena, wasmHashing } from '../../src/util/blockhash.ts'
import { rng } from '../../src/util/rng.ts'
import { RAM } from '../../src/virtmem/ram.ts'

const KiB = 1024

function random(n: number, seed: number): Uint8Array {
  const r = rng(seed)
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = r() & 0xff
  return b
}

/** `data` placed at byte `offset` of an arena (a WebAssembly memory) or of a plain ArrayBuffer. */
function placed(data: Uint8Array, offset: number, inWasm: boolean): Uint8Array {
  const size = Math.ceil((data.length + offset) / (64 * KiB)) * 64 * KiB || 64 * KiB
  const buf = inWasm ? wasmArena(size)! : new ArrayBuffer(size)
  const view = new Uint8Array(buf, offset, data.length)
  view.set(data)
  return view
}

test('this host hashes with WebAssembly SIMD; the committed module is what its generator emits', () => {
  assert.equal(wasmHashing, true)
  const committed = readFileSync(new URL('../../src/util/blockhash-wasm.ts', import.meta.url), 'utf8')
  assert.equal(committed, blockhashWasmSource())
})

test('known answers: the stored format does not drift', () => {
  const data = new Uint8Array(1000)
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff
  assert.equal(blockHash(new Uint8Array(0), 0, 0, 0), 2409726741)
  assert.equal(blockHash(data, 1, 2, 3), 3002197908)
  assert.equal(blockHash(data, 2 ** 53 - 1, 2 ** 40, 5), 1246372806)
  assert.equal(blockSum(1, 2, 3, null), 2816740823)
})

test('every single-bit flip of a 64 KiB block (in place) and of a 1,003-byte one (in JS) is detected', () => {
  for (const [n, inWasm, path] of [
    [64 * KiB, true, undefined],
    [1003, false, 'js'],
  ] as const) {
    const data = placed(random(n, n), 0, inWasm)
    const sum = blockHash(data, 7, 11, 13, path)
    for (let i = 0; i < n; i++) {
      const byte = data[i]
      for (let bit = 0; bit < 8; bit++) {
        data[i] = byte ^ (1 << bit)
        if (blockHash(data, 7, 11, 13, path) === sum)
          assert.fail(`flip of bit ${bit} of byte ${i} undetected`)
      }
      data[i] = byte
    }
    assert.equal(blockHash(data, 7, 11, 13, path), sum)
  }
})

test('a block moved to another key (file, blk or tid changed) fails its checksum', () => {
  const data = random(64 * KiB, 1)
  const key = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
  fc.assert(
    fc.property(key, key, key, fc.integer({ min: 0, max: 2 }), key, (file, blk, tid, which, other) => {
      const k = [file, blk, tid]
      fc.pre(k[which] !== other)
      const moved = [...k]
      moved[which] = other
      assert.notEqual(blockSum(moved[0], moved[1], moved[2], data), blockSum(file, blk, tid, data))
      assert.notEqual(blockSum(moved[0], moved[1], moved[2], null), blockSum(file, blk, tid, null))
    }),
    { numRuns: 300 },
  )
})

test('in place, copied and in JS give the same sum for any length and alignment', () => {
  const paths: [boolean, HashPath | undefined][] = [
    [true, 'inPlace'],
    [true, 'copied'],
    [true, 'js'],
    [false, undefined],
    [false, 'js'],
  ]
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 300_000 }),
      fc.integer({ min: 0, max: 15 }),
      fc.integer(),
      (n, offset, seed) => {
        const data = random(n, seed)
        const sums = paths.map(([inWasm, path]) =>
          blockHash(placed(data, offset, inWasm), 1, n, seed >>> 0, path),
        )
        assert.deepEqual(
          sums,
          sums.map(() => sums[0]),
        )
      },
    ),
    { numRuns: 60 },
  )
})

test('a RAM arena is a WebAssembly memory when whole 64 KiB pages; else a plain ArrayBuffer', () => {
  const inWasm = new RAM({ pagesize: 64 * KiB, capacity: 4 * 64 * KiB })
  assert.equal(inWasm.arena.byteLength, 4 * 64 * KiB)
  const frame = inWasm.bytes.subarray(64 * KiB, 128 * KiB)
  frame.set(random(64 * KiB, 3))
  assert.equal(blockHash(frame, 1, 2, 3, 'inPlace'), blockHash(frame, 1, 2, 3, 'js'))
  const plain = new RAM({ pagesize: 4 * KiB, capacity: 5 * 4 * KiB })
  assert.equal(plain.arena.byteLength, 5 * 4 * KiB)
  assert.throws(() => blockHash(plain.bytes, 1, 2, 3, 'inPlace'), TypeError)
  // Not whole pages, or over memory32's 4 GiB: the caller allocates a plain ArrayBuffer.
  assert.equal(wasmArena(100 * KiB), undefined)
  assert.equal(wasmArena(2 ** 32 + 64 * KiB), undefined)
  inWasm.close()
  plain.close()
})
