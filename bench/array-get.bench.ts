/**
 * BigArray element access on resident pages against a plain Float64Array holding the same values, driven
 * by the same index stream in the same run: get1, the generic get, get2, get(i, j), vma.getFloat64, set1.
 * Interleaved rounds timed in CPU time; median (min–max) ns per element and the ratio of medians to the
 * plain array. Loops run per chunk of 4096 (whole optimized functions, as a user's loop called per batch)
 * and as one long loop (optimized on-stack; V8 then boxes the running sum once the body holds a call).
 *
 * BIGFILE_BASELINE_SRC=/path/to/other/src adds the same rows for that copy of bigfile in this process
 * (e.g. main's), for a before/after in one run.
 */
import { BigArray } from '../src/array/index.ts'
import { FileH, MemoryBigFile, RAM } from '../src/index.ts'
import { fmtRatio, fmtSpread, measureSpread, type Spread, table } from './util.ts'

const PS = 64 << 10
const N = 8 << 20 // float64 elements: 64 MiB, resident
const M = 2 << 20 // random indexes per round
const CHUNK = 4096
const COLS = 1024

type Loop = (a: number, b: number) => number
type Case = { name: string; fn: Loop; n: number }

interface Api {
  BigArray: typeof BigArray
  FileH: typeof FileH
  MemoryBigFile: typeof MemoryBigFile
  RAM: typeof RAM
}

const idx = new Int32Array(M)
{
  let x = 1
  for (let k = 0; k < M; k++) {
    x = (x * 1103515245 + 12345) >>> 0
    idx[k] = x % N
  }
}
const plain = new Float64Array(N)
for (let i = 0; i < N; i++) plain[i] = i * 0.5

/** The loops over one copy of bigfile: 1-d and 2-d arrays holding `plain`, every page resident. */
function cases(api: Api, tag: string): Case[] {
  const ram = new api.RAM({ pagesize: PS, capacity: 2 * N * 8 + 8 * PS })
  const a = api.BigArray.over(new api.FileH(new api.MemoryBigFile(PS), ram), {
    dtype: 'float64',
    shape: [N],
  })
  const m = api.BigArray.over(new api.FileH(new api.MemoryBigFile(PS), ram), {
    dtype: 'float64',
    shape: [N / COLS, COLS],
  })
  // One array after the other: each then lies in consecutive frames, in page order, as the plain array
  // lies in memory (interleaved, each would spread over twice the address space: more TLB misses).
  for (let i = 0; i < N; i++) a.set1(i, plain[i])
  for (let i = 0; i < N; i++) m.set2(Math.floor(i / COLS), i % COLS, plain[i])
  const vma = a._shared.vma
  const t = tag ? `${tag} ` : ''
  return [
    {
      name: `${t}get1 random`,
      n: M,
      fn: (x, y) => {
        let s = 0
        for (let k = x; k < y; k++) s += a.get1(idx[k])
        return s
      },
    },
    {
      name: `${t}get(i) random`,
      n: M,
      fn: (x, y) => {
        let s = 0
        for (let k = x; k < y; k++) s += a.get(idx[k])
        return s
      },
    },
    {
      name: `${t}get2 random`,
      n: M,
      fn: (x, y) => {
        let s = 0
        for (let k = x; k < y; k++) s += m.get2(idx[k] >>> 10, idx[k] & (COLS - 1))
        return s
      },
    },
    {
      name: `${t}get(i, j) random`,
      n: M,
      fn: (x, y) => {
        let s = 0
        for (let k = x; k < y; k++) s += m.get(idx[k] >>> 10, idx[k] & (COLS - 1))
        return s
      },
    },
    {
      name: `${t}vma.getFloat64 random`,
      n: M,
      fn: (x, y) => {
        let s = 0
        for (let k = x; k < y; k++) s += vma.getFloat64(idx[k] * 8)
        return s
      },
    },
    {
      name: `${t}set1 random`,
      n: M,
      fn: (x, y) => {
        for (let k = x; k < y; k++) a.set1(idx[k], plain[idx[k]])
        return 0
      },
    },
    {
      name: `${t}get1 sequential`,
      n: N,
      fn: (x, y) => {
        let s = 0
        for (let i = x; i < y; i++) s += a.get1(i)
        return s
      },
    },
  ] as Case[]
}

const base: Case[] = [
  {
    name: 'Float64Array random',
    n: M,
    fn: (x, y) => {
      let s = 0
      for (let k = x; k < y; k++) s += plain[idx[k]]
      return s
    },
  },
  {
    name: 'Float64Array random write',
    n: M,
    fn: (x, y) => {
      for (let k = x; k < y; k++) plain[idx[k]] = plain[idx[k]]
      return 0
    },
  },
  {
    name: 'Float64Array sequential',
    n: N,
    fn: (x, y) => {
      let s = 0
      for (let i = x; i < y; i++) s += plain[i]
      return s
    },
  },
]

const ours = cases({ BigArray, FileH, MemoryBigFile, RAM }, '')
const other = process.env.BIGFILE_BASELINE_SRC
const theirs: Case[] = []
if (other) {
  const root = other.endsWith('/') ? other : `${other}/`
  const arr = (await import(`${root}array/index.ts`)) as { BigArray: typeof BigArray }
  const vm = (await import(`${root}index.ts`)) as Omit<Api, 'BigArray'>
  theirs.push(...cases({ ...vm, BigArray: arr.BigArray }, 'baseline'))
}

/** The plain row a case compares with. */
const baseOf = (c: Case) =>
  c.name.endsWith('sequential') ? 2 : c.name.includes('set1') || c.name.includes('write') ? 1 : 0

function run(all: Case[], chunked: boolean): Spread[] {
  const fns = all.map((c) =>
    chunked
      ? () => {
          let s = 0
          for (let x = 0; x < c.n; x += CHUNK) s += c.fn(x, x + CHUNK)
          return s
        }
      : () => c.fn(0, c.n),
  )
  // Each fn does its own n elements; measureSpread divides by one n, so scale per case after.
  const out = measureSpread(fns, 1, { warmup: 6, rounds: 9 })
  return out.map((s, k) => ({ median: s.median / all[k].n, min: s.min / all[k].n, max: s.max / all[k].n }))
}

console.log(`# ${N} float64 (${(N * 8) >> 20} MiB) resident in ${PS >> 10} KiB pages; ${M} random indexes`)
console.log('# CPU time per element, median (min–max) of 9 interleaved rounds after 6 warm-up rounds\n')
const all = [...base, ...ours, ...theirs]
for (const chunked of [true, false]) {
  const r = run(all, chunked)
  const rows = all.map((c, k) => {
    const b = r[baseOf(c)]
    return [c.name, fmtSpread(r[k]), k < base.length ? '' : fmtRatio(r[k].median, b.median)]
  })
  console.log(chunked ? `## loops of ${CHUNK} per call` : '## one long loop (on-stack replaced)')
  table(['case', 'ns/element', 'ratio to Float64Array'], rows)
}
console.log(
  '(ratio = median / the plain array median of the same kind: random read, random write, sequential)',
)
