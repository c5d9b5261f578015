// A 32-bit checksum for block images, ~8× node:zlib's crc32 (bench/checksum.bench.ts): 32 independent
// xxh32-style lanes, one 32-bit word each per 128-byte stripe (acc = rotl(acc + w * P2, 13) * P1), run as
// WebAssembly SIMD (scripts/blockhash-wasm.ts), then folded with the tail, the key and the length:
//   h = 0; for each lane, each leftover 32-bit word, each key word, the length: h = rotl(h + x * P3, 17) * P4
//   each leftover byte: h = rotl(h + b * P5, 11) * P1; finally xxh32's avalanche.
// Every step is a bijection of the changed input for the rest fixed, so any change confined to one 32-bit
// word of the data (every single-bit flip, every burst within a word) or to one key word changes the sum;
// wider changes pass with probability ~2^-32, as with any 32-bit sum.
//
// WebAssembly reads only its own memory. A RAM arena allocated by `wasmArena` is one: blocks in it are
// hashed in place. Other buffers are copied through a 64 KiB scratch memory; without WebAssembly SIMD the
// same function runs in JS. All three give the same value (test/db/checksum.test.ts).
import { BLOCKHASH_WASM } from './blockhash-wasm.ts'

const P1 = 0x9e3779b1
const P2 = 0x85ebca77
const P3 = 0xc2b2ae3d
const P4 = 0x27d4eb2f
const P5 = 0x165667b1
const LANES = 32
const STRIPE = LANES * 4
const WASM_PAGE = 65536
const MAX_PAGES = 65536 // memory32: 4 GiB

interface Hasher {
  reset(): void
  update(ptr: number, stripes: number): void
  fold(): number
  hash(ptr: number, stripes: number): number
}

/** The part of the WebAssembly API used here (the project's TypeScript libs do not declare it). */
interface Wasm {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => WasmModule
  Instance: new (module: WasmModule, imports: object) => { exports: object }
  Memory: new (limits: { initial: number; maximum: number }) => WasmMemory
}
interface WasmModule {
  readonly _module?: never
}
interface WasmMemory {
  readonly buffer: ArrayBuffer
}
/** Absent under --jitless and on some embedded hosts: then the JS path. */
const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly

/** Which way a block's stripes were hashed (tests and benchmarks force each). */
export type HashPath = 'inPlace' | 'copied' | 'js'

const module: WasmModule | undefined = compile()
const inPlace = new WeakMap<object, Hasher>()
let scratch: { h: Hasher; bytes: Uint8Array } | undefined

function compile(): WasmModule | undefined {
  try {
    const bytes = Buffer.from(BLOCKHASH_WASM, 'base64')
    return wasm?.validate(bytes) ? new wasm.Module(bytes) : undefined
  } catch {
    return undefined // no WebAssembly, or no SIMD: the JS path
  }
}

function instance(mem: WasmMemory): Hasher {
  return new wasm!.Instance(module!, { env: { mem } }).exports as unknown as Hasher
}

/** Whether this host hashes with WebAssembly SIMD (else every sum is computed in JS). */
export const wasmHashing = module !== undefined

/**
 * An ArrayBuffer of `bytes` bytes that is a WebAssembly memory, so blocks inside it are hashed in place;
 * undefined when that cannot be (no WebAssembly SIMD, not whole 64 KiB pages, over 4 GiB, or the engine
 * refuses): the caller allocates a plain ArrayBuffer. The buffer behaves as any ArrayBuffer but cannot be
 * transferred or detached; nothing ever grows it.
 */
export function wasmArena(bytes: number): ArrayBuffer | undefined {
  if (module === undefined || bytes <= 0 || bytes % WASM_PAGE !== 0 || bytes / WASM_PAGE > MAX_PAGES) {
    return undefined
  }
  try {
    const pages = bytes / WASM_PAGE
    const mem = new wasm!.Memory({ initial: pages, maximum: pages })
    inPlace.set(mem.buffer, instance(mem))
    return mem.buffer
  } catch {
    return undefined
  }
}

/**
 * The checksum of `data` under the key (a, b, c), each an integer below 2^53, as an unsigned 32-bit
 * number. `path` forces how the stripes are hashed (tests, benchmarks); the value never depends on it.
 */
export function blockHash(data: Uint8Array, a: number, b: number, c: number, path?: HashPath): number {
  const n = Math.floor(data.length / STRIPE)
  let h: number
  const own = path === 'copied' || path === 'js' ? undefined : inPlace.get(data.buffer)
  if (n === 0) h = FOLD0
  else if (own !== undefined) h = own.hash(data.byteOffset, n)
  else if (path === 'inPlace') throw new TypeError('blockHash: data is not in a WebAssembly memory')
  else if (module !== undefined && path !== 'js') h = copied(data, n)
  else h = jsStripes(data, n)
  return finish(h, data, n * STRIPE, a, b, c)
}

/** The stripes hashed through the scratch memory, 64 KiB at a time. */
function copied(data: Uint8Array, n: number): number {
  if (scratch === undefined) {
    const mem = new wasm!.Memory({ initial: 1, maximum: 1 })
    scratch = { h: instance(mem), bytes: new Uint8Array(mem.buffer) }
  }
  const { h, bytes } = scratch
  h.reset()
  const end = n * STRIPE
  for (let at = 0; at < end; at += WASM_PAGE) {
    const len = Math.min(WASM_PAGE, end - at)
    bytes.set(data.subarray(at, at + len))
    h.update(0, len / STRIPE)
  }
  return h.fold()
}

const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1
const acc = new Int32Array(LANES)
const INIT = Int32Array.from({ length: LANES }, (_, i) => Math.imul(i + 1, P3) + P4)

/** The stripes hashed in JS: the lanes in word order, as the WebAssembly module does. */
function jsStripes(data: Uint8Array, n: number): number {
  acc.set(INIT)
  if (LE && data.byteOffset % 4 === 0) {
    const w = new Int32Array(data.buffer, data.byteOffset, n * LANES)
    for (let s = 0; s < n * LANES; s += LANES) {
      for (let i = 0; i < LANES; i++) {
        const v = (acc[i] + Math.imul(w[s + i], P2)) | 0
        acc[i] = Math.imul((v << 13) | (v >>> 19), P1)
      }
    }
  } else {
    const dv = new DataView(data.buffer, data.byteOffset, n * STRIPE)
    for (let s = 0; s < n * STRIPE; s += STRIPE) {
      for (let i = 0; i < LANES; i++) {
        const v = (acc[i] + Math.imul(dv.getInt32(s + 4 * i, true), P2)) | 0
        acc[i] = Math.imul((v << 13) | (v >>> 19), P1)
      }
    }
  }
  return fold(acc)
}

function fold(lanes: Int32Array): number {
  let h = 0
  for (let i = 0; i < LANES; i++) h = word(h, lanes[i])
  return h
}

const FOLD0 = fold(INIT)

function word(h: number, w: number): number {
  const v = (h + Math.imul(w, P3)) | 0
  return Math.imul((v << 17) | (v >>> 15), P4)
}

/** The leftover words and bytes after the stripes, the key, the length; the avalanche. */
function finish(h: number, data: Uint8Array, at: number, a: number, b: number, c: number): number {
  const end = data.length
  for (; at + 4 <= end; at += 4) {
    h = word(h, data[at] | (data[at + 1] << 8) | (data[at + 2] << 16) | (data[at + 3] << 24))
  }
  for (; at < end; at++) {
    const v = (h + Math.imul(data[at], P5)) | 0
    h = Math.imul((v << 11) | (v >>> 21), P1)
  }
  h = word(word(h, a), hi(a))
  h = word(word(h, b), hi(b))
  h = word(word(h, c), hi(c))
  h = word(word(h, end), hi(end))
  h ^= h >>> 15
  h = Math.imul(h, P2)
  h ^= h >>> 13
  h = Math.imul(h, P3)
  h ^= h >>> 16
  return h >>> 0
}

/** The high 32 bits of an integer below 2^53 (the low ones: `x | 0` in `word`). */
function hi(x: number): number {
  return Math.floor(x / 0x100000000) | 0
}
