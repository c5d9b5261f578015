// BigArray element access on resident pages vs a plain Float64Array: node bench/array-get.bench.ts
import { BigArray } from '../src/array/index.ts'
import { FileH, MemoryBigFile, RAM } from '../src/index.ts'

const N = 1 << 20 // 8 MiB of float64, all resident
const ram = new RAM({ pagesize: 64 << 10, capacity: 32 << 20 })
const a = BigArray.over(new FileH(new MemoryBigFile(64 << 10), ram), { dtype: 'float64', shape: [N] })
const m = BigArray.over(new FileH(new MemoryBigFile(64 << 10), ram), {
  dtype: 'float64',
  shape: [1024, 1024],
})
const plain = new Float64Array(N)
for (let i = 0; i < N; i++) {
  a.set1(i, i)
  plain[i] = i
}
await m.copyFrom(plain)
const idx = Uint32Array.from({ length: N }, () => Math.floor(Math.random() * N))

function time(name: string, fn: () => number): void {
  let best = Infinity
  let sink = 0
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint()
    sink += fn()
    best = Math.min(best, Number(process.hrtime.bigint() - t) / N)
  }
  console.log(`${name.padEnd(28)} ${best.toFixed(2)} ns/element${sink === -1 ? '' : ''}`)
}

time('Float64Array random', () => {
  let s = 0
  for (let k = 0; k < N; k++) s += plain[idx[k]]
  return s
})
time('get1 random', () => {
  let s = 0
  for (let k = 0; k < N; k++) s += a.get1(idx[k]) as number
  return s
})
time('get random', () => {
  let s = 0
  for (let k = 0; k < N; k++) s += a.get(idx[k]) as number
  return s
})
time('get2 random', () => {
  let s = 0
  for (let k = 0; k < N; k++) {
    const i = idx[k]
    s += m.get2(i >>> 10, i & 1023) as number
  }
  return s
})
time('get(i,j) random', () => {
  let s = 0
  for (let k = 0; k < N; k++) {
    const i = idx[k]
    s += m.get(i >>> 10, i & 1023) as number
  }
  return s
})
time('Float64Array sequential', () => {
  let s = 0
  for (let k = 0; k < N; k++) s += plain[k]
  return s
})
time('get1 sequential', () => {
  let s = 0
  for (let k = 0; k < N; k++) s += a.get1(k) as number
  return s
})
time('set1 sequential', () => {
  for (let k = 0; k < N; k++) a.set1(k, k)
  return 0
})
let t = process.hrtime.bigint()
for (let r = 0; r < 5; r++) await a.sum()
console.log(
  `${'sum() (chunked)'.padEnd(28)} ${(Number(process.hrtime.bigint() - t) / 5 / N).toFixed(2)} ns/element`,
)
const vma = a._shared.vma
time('vma.getFloat64 random', () => {
  let s = 0
  for (let k = 0; k < N; k++) s += vma.getFloat64(idx[k] * 8)
  return s
})
time('get1 random (again)', () => {
  let s = 0
  for (let k = 0; k < N; k++) s += a.get1(idx[k]) as number
  return s
})
t = process.hrtime.bigint()
for (let r = 0; r < 20; r++) await a.sum()
console.log(
  `${'sum() x20'.padEnd(28)} ${(Number(process.hrtime.bigint() - t) / 20 / N).toFixed(2)} ns/element`,
)
