// A decoded-chunk cache in volatile memory: compressed chunks live in one BigFile; their decoded form is
// kept in a scratch file inside the same RAM budget and marked volatile while unused, so memory pressure
// may purge it instead of failing. `markNonVolatile` says whether a chunk was purged: then it is decoded
// again. Run: node examples/decoded-cache.ts
import { deflateSync, inflateSync } from 'node:zlib'
import { FileH, MemoryBigFile, RAM } from '../src/index.ts'

const PS = 64 << 10
const CHUNK = 4 * PS // one decoded chunk: 256 KiB of float64
const NCHUNKS = 64 // 16 MiB decoded, through a 4 MiB RAM

/** The source: chunk i compressed, stored as [u32 length][deflate bytes] in a page-sized block of its own. */
function makeSource(): MemoryBigFile {
  const src = new MemoryBigFile(PS)
  for (let i = 0; i < NCHUNKS; i++) {
    const values = new Float64Array(CHUNK / 8).map((_, j) => i * 1000 + (j % 1000))
    const z = deflateSync(values)
    if (z.length + 4 > PS) throw new Error(`chunk ${i} does not compress into one block`)
    const block = new Uint8Array(PS)
    new DataView(block.buffer).setUint32(0, z.length, true)
    block.set(z, 4)
    src.storeblk(i, block)
  }
  return src
}

export class DecodedCache {
  readonly #src: FileH
  readonly #srcView
  readonly #cache: FileH
  readonly #view
  readonly #decoded = new Set<number>()
  decodes = 0

  constructor(src: MemoryBigFile, ram: RAM) {
    this.#src = new FileH(src, ram)
    this.#srcView = this.#src.mmap(0, NCHUNKS)
    this.#cache = FileH.scratch(ram)
    this.#view = this.#cache.mmap(0, (NCHUNKS * CHUNK) / PS)
  }

  /** Calls fn with chunk i decoded; the chunk is pinned only inside fn. */
  with<T>(i: number, fn: (values: Float64Array[]) => T): T {
    const at = i * CHUNK
    const { purged } = this.#cache.markNonVolatile(at, CHUNK)
    if (purged || !this.#decoded.has(i)) this.#decode(i)
    try {
      using pin = this.#view.pin(at, CHUNK)
      const parts: Float64Array[] = []
      pin.forEach((bytes) => {
        parts.push(new Float64Array(bytes.buffer, bytes.byteOffset, bytes.length / 8))
      })
      return fn(parts)
    } finally {
      this.#cache.markVolatile(at, CHUNK) // regenerable: give it up first under pressure
    }
  }

  #decode(i: number): void {
    const len = this.#srcView.getUint32(i * PS)
    const z = this.#srcView.readBytes(i * PS + 4, new Uint8Array(len))
    this.#view.writeBytes(i * CHUNK, inflateSync(z))
    this.#decoded.add(i)
    this.decodes++
  }

  close(): void {
    this.#view.unmap()
    this.#srcView.unmap()
    this.#cache.close()
    this.#src.close()
  }
}

if (import.meta.main) {
  const ram = new RAM({ pagesize: PS, capacity: 4 << 20 })
  const cache = new DecodedCache(makeSource(), ram)
  let checks = 0
  // a skewed access pattern: chunks 0-3 are hot, the rest streams by
  for (let k = 0; k < 400; k++) {
    const i = k % 3 === 0 ? 4 + (k % (NCHUNKS - 4)) : k % 4
    cache.with(i, (parts) => {
      if (parts[0][1] !== i * 1000 + 1) throw new Error(`chunk ${i} decoded wrong`)
      checks++
    })
  }
  const c = ram.counters
  console.log(
    `${checks} chunk uses, ${cache.decodes} decodes, ${c.purges} pages purged, ${c.reclaims} clean pages reclaimed; ` +
      `RAM ${ram.stats().usedBytes >> 20} of ${ram.capacity >> 20} MiB`,
  )
  cache.close()
}
