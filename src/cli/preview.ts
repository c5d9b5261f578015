// A NumPy-style text preview of an array, as `print(a)` shows it: nested brackets, elements right-aligned
// to one width, floats in one notation for the whole array, and — beyond `threshold` elements — only
// `edgeitems` at each end of every axis with `...` between. Only the elements shown are read.
import type { BigArray } from '../array/bigarray.ts'
import type { Element } from '../array/dtype.ts'

export interface PreviewOptions {
  /** Elements kept at each end of an axis when summarizing (NumPy's edgeitems, default 3). */
  edgeitems?: number
  /** Summarize when the array has more elements than this (NumPy's threshold, default 1000). */
  threshold?: number
  /** Wrap rows longer than this many characters (NumPy's linewidth, default 75). */
  linewidth?: number
}

const ELLIPSIS = Symbol('...')
type Nested = Element | typeof ELLIPSIS | Nested[]

/** The text NumPy's `print(a)` gives (without the final newline). */
export async function preview(a: BigArray, options: PreviewOptions = {}): Promise<string> {
  const edge = options.edgeitems ?? 3
  const summarize = a.size > (options.threshold ?? 1000)
  const shape = a.shape
  if (a.size === 0) return '[]'
  // 1. Read the elements shown, nested by axis, with ELLIPSIS where an axis is cut.
  const index: number[] = []
  const gather = async (axis: number): Promise<Nested> => {
    if (axis === shape.length) return a.getAsync(...index)
    const n = shape[axis]
    const cut = summarize && n > 2 * edge
    const out: Nested[] = []
    for (let i = 0; i < n; i++) {
      if (cut && i === edge) {
        out.push(ELLIPSIS)
        i = n - edge - 1
        continue
      }
      index[axis] = i
      out.push(await gather(axis + 1))
    }
    return out
  }
  const data = await gather(0)
  // 2. One format for every element shown, 3. laid out row by row.
  const values: Element[] = []
  const collect = (x: Nested): void => {
    if (Array.isArray(x)) for (const y of x) collect(y)
    else if (x !== ELLIPSIS) values.push(x)
  }
  collect(data)
  const fmt = formatter(values, a.dtype)
  return render(data, 0, shape.length, fmt, options.linewidth ?? 75)
}

function render(x: Nested, depth: number, ndim: number, fmt: (v: Element) => string, width: number): string {
  if (!Array.isArray(x)) return x === ELLIPSIS ? '...' : fmt(x)
  if (depth === ndim - 1) {
    // A row: elements separated by a space, wrapped under the first element past the line width.
    let out = ''
    let line = '['
    // The first line starts at column `depth` (after the enclosing brackets); the others carry their
    // own indentation.
    let column = depth
    x.forEach((v, i) => {
      const word = v === ELLIPSIS ? '...' : fmt(v as Element)
      // As NumPy: room is kept on every line for the closing brackets of this row and its parents.
      if (i > 0 && column + line.length + 1 + word.length > width - depth - 1) {
        out += `${line}\n`
        line = ' '.repeat(depth + 1) + word
        column = 0
        return
      }
      line += (i > 0 ? ' ' : '') + word
    })
    return `${out}${line}]`
  }
  const sep = `${'\n'.repeat(ndim - depth - 1)}${' '.repeat(depth + 1)}`
  return `[${x.map((y) => render(y, depth + 1, ndim, fmt, width)).join(sep)}]`
}

/**
 * A function formatting each of `values` to one width. Floats as NumPy does: positional with up to 8
 * decimals, or scientific for all when the largest is >= 1e8, the smallest non-zero < 1e-4, or their
 * ratio > 1000.
 */
export function formatter(values: readonly Element[], dtype: string): (v: Element) => string {
  let text: (v: Element) => string = (v) => String(v)
  const narrow = NARROW[dtype]
  if (dtype.startsWith('float')) {
    const finite = (values as number[]).filter((v) => Number.isFinite(v)).map((v) => shortest(v, narrow))
    const abs = finite.map(Math.abs).filter((v) => v !== 0)
    const max = abs.length ? Math.max(...abs) : 0
    const min = abs.length ? Math.min(...abs) : 0
    const sci = max >= 1e8 || (abs.length > 0 && (min < 1e-4 || max / min > 1e3))
    const format = sci ? scientific(finite) : positional(finite)
    text = (v) => format(shortest(Number(v), narrow))
  }
  const width = Math.max(...values.map((v) => text(v).length))
  return (v) => text(v).padStart(width)
}

/** Rounding to the dtype's precision, for the narrower floats. */
const NARROW: Record<string, ((v: number) => number) | undefined> = {
  float32: Math.fround,
  float16: (Math as unknown as { f16round?: (v: number) => number }).f16round ?? Math.fround,
}

/**
 * The number with the fewest significant digits that rounds to `v` in the dtype's precision: a float32
 * 0.1 prints as 0.1 (as NumPy does), not as the float64 0.10000000149011612 it equals.
 */
function shortest(v: number, narrow: ((v: number) => number) | undefined): number {
  if (!narrow || !Number.isFinite(v) || v === 0) return v
  for (let p = 1; p < 17; p++) {
    const d = Number(v.toPrecision(p))
    if (narrow(d) === v) return d
  }
  return v
}

function special(v: number): string | undefined {
  if (Number.isNaN(v)) return 'nan'
  if (v === Infinity) return 'inf'
  if (v === -Infinity) return '-inf'
  return undefined
}

/** `1.`, `2.5 `, `-0.125`: integer parts right-aligned, fractions left-aligned to the longest. */
function positional(finite: readonly number[]): (v: Element) => string {
  const split = (v: number) => {
    const s = String(Number(v.toFixed(8)))
    const [int, frac = ''] = s.split('.')
    return { int: Object.is(v, -0) ? '-0' : int, frac }
  }
  const fracs = finite.map((v) => split(v).frac.length)
  const fw = fracs.length ? Math.max(...fracs) : 0
  return (e) => {
    const v = Number(e)
    const sp = special(v)
    if (sp !== undefined) return sp
    const { int, frac } = split(v)
    return `${int}.${frac.padEnd(fw)}`
  }
}

/** `1.5e+10`: mantissas with up to 8 decimals, aligned; the exponent with at least two digits. */
function scientific(finite: readonly number[]): (v: Element) => string {
  const parts = (v: number) => {
    const [m, e] = v.toExponential().split('e')
    const mant = m.includes('.') && m.split('.')[1].length > 8 ? String(Number(Number(m).toFixed(8))) : m
    const [int, frac = ''] = mant.split('.')
    const exp = Number(e)
    return { int, frac, exp: `e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}` }
  }
  const fracs = finite.map((v) => parts(v).frac.length)
  const fw = fracs.length ? Math.max(...fracs) : 0
  return (e) => {
    const v = Number(e)
    const sp = special(v)
    if (sp !== undefined) return sp
    const { int, frac, exp } = parts(v)
    return `${int}.${frac.padEnd(fw, '0')}${exp}`
  }
}
