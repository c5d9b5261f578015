// Imports and exports stream in bounded pieces (issue 13, part 5: peak RSS ≤ budget + runtime + 32 MiB):
// counted, not timed — which buffers the import reads into and the export writes from, how large each
// piece is, and how far ahead a stream is pulled.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  BigArray,
  type ByteSink,
  type ByteSource,
  importNpyFrom,
  npyHeader,
  readNpyHeader,
  streamSource,
  writeNpy,
} from '../../src/array/index.ts'
import { openDatabase } from '../../src/index.ts'
import { RAM } from '../../src/virtmem/ram.ts'
import { tmpDir } from './helpers.ts'

const KiB = 1 << 10
const MiB = 1 << 20
const PS = 64 * KiB

/** An in-memory .npy of `n` float64 elements (element i = i) as a ByteSource that records every read. */
function recordingSource(n: number) {
  const head = npyHeader('float64', [n])
  const data = new Float64Array(n)
  for (let i = 0; i < n; i++) data[i] = i
  const file = new Uint8Array(head.length + data.byteLength)
  file.set(head)
  file.set(new Uint8Array(data.buffer), head.length)
  let pos = 0
  const reads: { buffer: ArrayBufferLike; length: number }[] = []
  const src: ByteSource = {
    async read(buf, offset, length) {
      reads.push({ buffer: buf.buffer, length })
      const k = Math.min(length, file.length - pos)
      buf.set(file.subarray(pos, pos + k), offset)
      pos += k
      return k
    },
  }
  return { src, reads }
}

async function db(t: Parameters<typeof tmpDir>[0]) {
  const d = await openDatabase(join(tmpDir(t), 'b.bigfile'))
  t.after(() => d.close())
  return d
}

for (const frames of [16, 64]) {
  test(`an import of 5 MiB reads into one buffer, in pieces of at most a quarter of the RAM (${frames} frames of 64 KiB)`, async (t) => {
    const d = await db(t)
    const ram = new RAM({ pagesize: PS, capacity: frames * PS, reserve: 2 })
    const c = d.connect({ ram })
    const n = (5 * MiB) / 8
    const { src, reads } = recordingSource(n)
    const h = await readNpyHeader(src)
    const headerReads = reads.length
    const a = await importNpyFrom(c, 'a', src, h, { blksize: PS })
    const data = reads.slice(headerReads)
    // One buffer holds the pieces; the only other read is the 1-byte check that the data ends there.
    const big = new Set(data.filter((r) => r.length > 1).map((r) => r.buffer))
    assert.equal(big.size, 1)
    assert.equal(data.filter((r) => r.length === 1).length, 1)
    const piece = Math.min(MiB, Math.floor(ram.frames / 4) * PS)
    assert.equal(Math.max(...data.map((r) => r.length)), piece)
    assert.equal(data.length, Math.ceil((5 * MiB) / piece) + 1)
    assert.equal(a.get1(n - 1), n - 1)
  })
}

test('an export batches pinned chunks into one buffer of 1 MiB (or a page when pages are larger)', async (t) => {
  const d = await db(t)
  for (const [ps, frames] of [
    [PS, 64],
    [2 * MiB, 8],
  ]) {
    const ram = new RAM({ pagesize: ps, capacity: frames * ps, reserve: 2 })
    const c = d.connect({ ram })
    const n = (5 * MiB) / 8
    const a = await BigArray.create(c, `e${ps}`, { dtype: 'float64', shape: [n], blksize: ps })
    await a.forEachChunk(
      (f, start) => {
        for (let i = 0; i < f.length; i++) f[i] = start + i
      },
      { write: true },
    )
    await c.commit()
    const writes: { buffer: ArrayBufferLike; length: number; first: number }[] = []
    const sink: ByteSink = {
      async write(bytes) {
        const first =
          bytes.length >= 8 ? new DataView(bytes.buffer, bytes.byteOffset).getFloat64(0, true) : -1
        writes.push({ buffer: bytes.buffer, length: bytes.length, first })
      },
    }
    await writeNpy(a, sink)
    const [head, ...data] = writes
    assert.equal(head.length, npyHeader('float64', [n]).length)
    const size = Math.max(MiB, ps)
    assert.equal(new Set(data.map((w) => w.buffer)).size, 1, `pagesize ${ps}`)
    assert.ok(data.every((w) => w.length <= size))
    assert.equal(
      data.reduce((s, w) => s + w.length, 0),
      5 * MiB,
    )
    // In order: each write starts where the one before ended.
    let at = 0
    for (const w of data) {
      assert.equal(w.first, at / 8)
      at += w.length
    }
  }
})

test('a stream is pulled one chunk at a time: the next only once the one before is used up', async () => {
  const chunk = 100 * KiB
  let consumed = 0
  const pulledAt: number[] = []
  function* chunks() {
    for (let k = 0; k < 10; k++) {
      pulledAt.push(consumed)
      yield new Uint8Array(chunk).fill(k)
    }
  }
  const src = streamSource(chunks())
  const buf = new Uint8Array(64 * KiB)
  for (;;) {
    const got = await src.read(buf, 0, buf.length)
    if (got === 0) break
    consumed += got
  }
  assert.equal(consumed, 10 * chunk)
  assert.deepEqual(
    pulledAt,
    Array.from({ length: 10 }, (_, k) => k * chunk),
  )
})
