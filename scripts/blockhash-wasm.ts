// Emits the WebAssembly SIMD module of the block checksum (src/util/blockhash.ts) from the readable
// instruction lists below, so the committed bytes can be checked against their source (test/db/checksum.test.ts).
//
//   node scripts/blockhash-wasm.ts    rewrites src/util/blockhash-wasm.ts
//
// The module imports its memory (env.mem): the RAM arena when blocks are hashed in place, a small scratch
// memory when they are copied in. Its state is `LANES / 4` v128 accumulators (globals), each lane one
// xxh32-style round per 32-bit word: acc = rotl(acc + w * P2, 13) * P1, words in stripes of LANES words.
//   reset()                 accumulators to their initial values
//   update(ptr, n)          n stripes from ptr
//   fold() -> i32           the accumulators folded into one word (see blockhash.ts)
//   hash(ptr, n) -> i32     reset, update, fold
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'

export const P1 = 0x9e3779b1
export const P2 = 0x85ebca77
export const P3 = 0xc2b2ae3d
export const P4 = 0x27d4eb2f
/** Words per stripe (independent lanes): 8 v128 accumulators. */
export const LANES = 32

/** The initial value of lane `i`. */
export const laneInit = (i: number): number => (Math.imul(i + 1, P3) + P4) >>> 0

// Opcodes (WebAssembly core 2.0 with fixed-width SIMD).
const I32 = 0x7f
const V128 = 0x7b
const BLOCK = 0x02
const LOOP = 0x03
const BR_IF = 0x0d
const END = 0x0b
const CALL = 0x10
const LOCAL_GET = 0x20
const LOCAL_SET = 0x21
const LOCAL_TEE = 0x22
const GLOBAL_GET = 0x23
const GLOBAL_SET = 0x24
const I32_CONST = 0x41
const I32_EQZ = 0x45
const I32_ADD = 0x6a
const I32_SUB = 0x6b
const I32_MUL = 0x6c
const I32_ROTL = 0x77
const EMPTY = 0x40
const simd = (op: number) => [0xfd, ...uleb(op)]
const V128_LOAD = (offset: number) => [...simd(0x00), 4, ...uleb(offset)]
const V128_CONST = (lanes: number[]) => [...simd(0x0c), ...lanes.flatMap(u32le)]
const I32X4_EXTRACT_LANE = (j: number) => [...simd(0x1b), j]
const V128_OR = simd(0x50)
const I32X4_SHL = simd(0xab)
const I32X4_SHR_U = simd(0xad)
const I32X4_ADD = simd(0xae)
const I32X4_MUL = simd(0xb5)

function uleb(n: number): number[] {
  const out: number[] = []
  do {
    let b = n & 0x7f
    n >>>= 7
    if (n !== 0) b |= 0x80
    out.push(b)
  } while (n !== 0)
  return out
}

function sleb(n: number): number[] {
  n |= 0
  const out: number[] = []
  for (;;) {
    const b = n & 0x7f
    n >>= 7
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return [...out, b]
    out.push(b | 0x80)
  }
}

function u32le(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]
}

const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()]
const name = (s: string) => vec([...s].map((c) => [c.charCodeAt(0)]))
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body]
const splat = (n: number) => [n, n, n, n]

/** The module's bytes, for `lanes` words per stripe (a multiple of 4). */
export function blockhashWasm(lanes = LANES): Uint8Array {
  const accs = lanes / 4
  const init = (k: number) => [0, 1, 2, 3].map((j) => laneInit(4 * k + j))

  // update(ptr, n): locals 0 ptr, 1 n, then accs accumulators, one temporary, P2 and P1 splatted.
  const acc = (k: number) => 2 + k
  const tmp = 2 + accs
  const p2 = tmp + 1
  const p1 = tmp + 2
  const round = (k: number) => [
    LOCAL_GET,
    acc(k),
    LOCAL_GET,
    0,
    ...V128_LOAD(16 * k),
    LOCAL_GET,
    p2,
    ...I32X4_MUL,
    ...I32X4_ADD,
    LOCAL_TEE,
    tmp,
    I32_CONST,
    13,
    ...I32X4_SHL,
    LOCAL_GET,
    tmp,
    I32_CONST,
    19,
    ...I32X4_SHR_U,
    ...V128_OR,
    LOCAL_GET,
    p1,
    ...I32X4_MUL,
    LOCAL_SET,
    acc(k),
  ]
  const update = [
    ...vec([[accs + 3, V128]]),
    ...Array.from({ length: accs }, (_, k) => [GLOBAL_GET, k, LOCAL_SET, acc(k)]).flat(),
    ...V128_CONST(splat(P2)),
    LOCAL_SET,
    p2,
    ...V128_CONST(splat(P1)),
    LOCAL_SET,
    p1,
    BLOCK,
    EMPTY,
    LOCAL_GET,
    1,
    I32_EQZ,
    BR_IF,
    0,
    LOOP,
    EMPTY,
    ...Array.from({ length: accs }, (_, k) => round(k)).flat(),
    LOCAL_GET,
    0,
    I32_CONST,
    ...sleb(16 * accs),
    I32_ADD,
    LOCAL_SET,
    0,
    LOCAL_GET,
    1,
    I32_CONST,
    1,
    I32_SUB,
    LOCAL_TEE,
    1,
    BR_IF,
    0,
    END,
    END,
    ...Array.from({ length: accs }, (_, k) => [LOCAL_GET, acc(k), GLOBAL_SET, k]).flat(),
    END,
  ]

  const reset = [
    0,
    ...Array.from({ length: accs }, (_, k) => [...V128_CONST(init(k)), GLOBAL_SET, k]).flat(),
    END,
  ]

  // fold(): h (local 0) = rotl(h + lane * P3, 17) * P4 over the lanes in word order.
  const fold = [
    ...vec([[1, I32]]),
    ...Array.from({ length: lanes }, (_, i) => [
      LOCAL_GET,
      0,
      GLOBAL_GET,
      i >> 2,
      ...I32X4_EXTRACT_LANE(i & 3),
      I32_CONST,
      ...sleb(P3),
      I32_MUL,
      I32_ADD,
      I32_CONST,
      17,
      I32_ROTL,
      I32_CONST,
      ...sleb(P4),
      I32_MUL,
      LOCAL_SET,
      0,
    ]).flat(),
    LOCAL_GET,
    0,
    END,
  ]

  const hash = [0, CALL, 0, LOCAL_GET, 0, LOCAL_GET, 1, CALL, 1, CALL, 2, END]

  const types = vec([
    [0x60, ...vec([]), ...vec([])], // () -> ()
    [0x60, ...vec([[I32], [I32]]), ...vec([])], // (i32, i32) -> ()
    [0x60, ...vec([]), ...vec([[I32]])], // () -> i32
    [0x60, ...vec([[I32], [I32]]), ...vec([[I32]])], // (i32, i32) -> i32
  ])
  const imports = vec([[...name('env'), ...name('mem'), 0x02, 0x00, 1]]) // memory, min 1 page
  // Functions 0 reset, 1 update, 2 fold, 3 hash (no imported functions: indices start at 0).
  const funcs = vec([[0], [1], [2], [3]])
  const globals = vec(Array.from({ length: accs }, (_, k) => [V128, 1, ...V128_CONST(init(k)), END]))
  const exports = vec([
    [...name('reset'), 0x00, 0],
    [...name('update'), 0x00, 1],
    [...name('fold'), 0x00, 2],
    [...name('hash'), 0x00, 3],
  ])
  const body = (code: number[]) => [...uleb(code.length), ...code]
  const code = [...uleb(4), ...body(reset), ...body(update), ...body(fold), ...body(hash)]
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, types),
    ...section(2, imports),
    ...section(3, funcs),
    ...section(6, globals),
    ...section(7, exports),
    ...section(10, code),
  ])
}

/** The text of src/util/blockhash-wasm.ts. */
export function blockhashWasmSource(): string {
  const b64 = Buffer.from(blockhashWasm()).toString('base64')
  const lines = b64.match(/.{1,100}/g) ?? []
  return `// Generated by scripts/blockhash-wasm.ts (its instruction lists are the source): do not edit.
/** The block checksum's WebAssembly SIMD module (${LANES} lanes), base64. */
export const BLOCKHASH_WASM =
${lines.map((l) => `  '${l}'`).join(' +\n')}
`
}

if (import.meta.main) {
  writeFileSync(join(import.meta.dirname, '../src/util/blockhash-wasm.ts'), blockhashWasmSource())
}
