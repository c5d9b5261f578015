// bigfile stat DB NAME [INDEX]: count, min, max, mean and sum of an array (or a part), in one pass over
// its chunks with a progress bar.
import { BigArray } from '../../array/index.ts'
import type { Progress } from '../../array/progress.ts'
import { parseRam, str } from '../args.ts'
import { AT_OPTION, atHelp, resolveAt } from '../at.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { printFields } from '../format.ts'
import { onInterrupt } from '../interrupt.ts'
import { ProgressLine } from '../progress.ts'
import { select } from '../selection.ts'
import { makeRam, pagesizeFor, withReadOnlyDb } from '../session.ts'

export const stat: Command = {
  spec: {
    name: 'stat',
    positionals: ['DB', 'NAME'],
    optional: ['INDEX'],
    options: { json: { type: 'boolean' }, ...AT_OPTION },
  },
  summary: 'count, min, max, mean and sum of an array (one pass, with progress)',
  help: `Usage: bigfile stat DB NAME [INDEX] [--json] [--at TID|TIME]

Reads array NAME of database DB (or the part INDEX selects, as in \`bigfile show\`) once, chunk by chunk
within the --ram budget, and prints its element count, min, max, mean and sum, and for float arrays the
number of NaNs. As in NumPy a NaN makes min, max, mean and sum NaN; 64-bit integers are summed exactly.
An empty array has no min or max ("-"; null in JSON) and a NaN mean. Exit 3 when there is no such
array; 130 on Ctrl-C.

Options:
  --json         the figures as one JSON object (NaN and infinities as null; 64-bit integers beyond
                 2^53 as strings)
${atHelp()}

${COMMON_HELP}`,
  async run(p) {
    const [path, name, index] = p.positionals
    const ramBytes = parseRam(str(p, 'ram'))
    using interrupt = onInterrupt()
    const s = await withReadOnlyDb(path, async (db) => {
      const at = await resolveAt(db, p)
      const rec = await db.stat(name, { at })
      const conn = db.connect({ ram: makeRam(ramBytes, pagesizeFor(rec.blksize)), at })
      using a = await BigArray.open(conn, name)
      const v = select(a, index)
      const bar = new ProgressLine({
        label: `stat ${name}`,
        quiet: p.values.quiet === true,
      })
      try {
        const summary = await summarize(v, { signal: interrupt.signal, onProgress: bar.update })
        return summary
      } finally {
        bar.end()
      }
    })
    if (p.values.json) {
      console.log(JSON.stringify(s, (_, v) => jsonValue(v)))
      return 0
    }
    const fields: [string, string][] = [
      ['count', s.count.toLocaleString('en-US')],
      ['min', s.min === null ? '-' : String(s.min)],
      ['max', s.max === null ? '-' : String(s.max)],
      ['mean', String(s.mean)],
      ['sum', String(s.sum)],
    ]
    if (s.nan !== undefined) fields.push(['nan', s.nan.toLocaleString('en-US')])
    printFields(fields)
    return 0
  },
}

export interface Summary {
  dtype: string
  count: number
  min: number | bigint | null
  max: number | bigint | null
  mean: number
  sum: number | bigint
  /** NaNs among the elements (float arrays only). */
  nan?: number
}

type Floats = Float64Array | Float32Array
type Ints = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array

/** Min, max, sum (and NaNs) in one walk of the chunks; reductions in reduce.ts would walk three times. */
export async function summarize(a: BigArray, progress?: Progress): Promise<Summary> {
  const { dtype, size } = a
  if (dtype === 'int64' || dtype === 'uint64') {
    let min: bigint | null = null
    let max: bigint | null = null
    let sum = 0n
    await a.forEachChunk((d) => {
      const b = d as unknown as BigInt64Array | BigUint64Array
      for (let i = 0; i < b.length; i++) {
        const x = b[i]
        sum += x
        if (min === null || x < min) min = x
        if (max === null || x > max) max = x
      }
    }, progress)
    return { dtype, count: size, min, max, mean: size === 0 ? Number.NaN : Number(sum) / size, sum }
  }
  const float = dtype.startsWith('float')
  let min = Infinity
  let max = -Infinity
  let sum = 0
  let nan = 0
  await a.forEachChunk((d) => {
    const f = d as unknown as Floats | Ints
    let lo = min
    let hi = max
    // A chunk sum first: fewer rounding steps on a running total that grows large.
    let t = 0
    for (let i = 0; i < f.length; i++) {
      const x = f[i]
      t += x
      if (x < lo) lo = x
      if (x > hi) hi = x
      if (Number.isNaN(x)) nan++
    }
    sum += t
    min = lo
    max = hi
  }, progress)
  const empty = size === 0
  return {
    dtype,
    count: size,
    min: empty ? null : nan > 0 ? Number.NaN : min,
    max: empty ? null : nan > 0 ? Number.NaN : max,
    mean: empty ? Number.NaN : sum / size,
    sum,
    ...(float ? { nan } : {}),
  }
}

/** JSON has no NaN, infinities or bigints: null, and bigints as numbers where exact, else strings. */
function jsonValue(v: unknown): unknown {
  if (typeof v === 'number' && !Number.isFinite(v)) return null
  if (typeof v === 'bigint') return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : String(v)
  return v
}
