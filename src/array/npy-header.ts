// The .npy header dictionary, parsed as the Python literal it is: a small strict parser for the subset
// NumPy writes (dict, tuple, list, str, int, True/False), then NumPy's own checks (exactly the keys
// descr, fortran_order and shape; shape a tuple of non-negative ints; fortran_order a bool). Anything
// else is refused with a message that says why: no regular expression can be fooled by a string value
// that looks like a key, and no header NumPy would refuse is read.
import { CorruptError } from '../errors.ts'

/** A parsed Python literal: str, int, bool, tuple, list or dict (keys are strs). */
export type PyValue =
  | string
  | number
  | boolean
  | { readonly tuple: readonly PyValue[] }
  | { readonly list: readonly PyValue[] }
  | { readonly dict: ReadonlyMap<string, PyValue> }

/** The header's three entries, checked as NumPy checks them. */
export interface NpyHeaderDict {
  /** A dtype string such as '<f8', or the list of fields of a structured dtype. */
  descr: string | { readonly list: readonly PyValue[] }
  fortranOrder: boolean
  shape: number[]
}

const bad = (why: string) => new CorruptError(`not a valid .npy file: ${why}`)

const WS = new Set([' ', '\t', '\n', '\r', '\f'])
const ESCAPES: Record<string, string> = { '\\': '\\', "'": "'", '"': '"', n: '\n', t: '\t', r: '\r' }

/** What a value is, in Python's words, for messages. */
function typeName(v: PyValue): string {
  if (typeof v === 'string') return 'str'
  if (typeof v === 'number') return 'int'
  if (typeof v === 'boolean') return 'bool'
  if ('tuple' in v) return 'tuple'
  if ('list' in v) return 'list'
  return 'dict'
}

/**
 * Parses `text` as one Python literal of the subset above, surrounded by whitespace only. `longInts`
 * accepts Python 2's `10L` (NumPy strips it from format 1.0 and 2.0 headers). CorruptError on
 * anything else: hex/octal/signed/float numbers, `(,)`, `(30,,)`, comments, NULs, unknown escapes.
 */
export function parsePyLiteral(text: string, longInts = false): PyValue {
  let i = 0
  const at = () => `at character ${i}`
  const skip = () => {
    while (i < text.length && WS.has(text[i])) i++
  }
  const expect = (c: string) => {
    skip()
    if (text[i] !== c) throw bad(`header: expected '${c}' ${at()}, found ${describeAt()}`)
    i++
  }
  const describeAt = () => (i >= text.length ? 'the end' : JSON.stringify(text.slice(i, i + 12)))

  const str = (): string => {
    const q = text[i++]
    let out = ''
    for (;;) {
      if (i >= text.length) throw bad('header: a string is not terminated')
      const c = text[i++]
      if (c === q) return out
      if (c === '\n') throw bad('header: a string is not terminated on its line')
      if (c === '\\') {
        const e = text[i++]
        if (e === undefined || !(e in ESCAPES)) throw bad(`header: unsupported escape \\${e ?? ''} ${at()}`)
        out += ESCAPES[e]
      } else out += c
    }
  }

  const int = (): number => {
    const start = i
    while (i < text.length && text[i] >= '0' && text[i] <= '9') i++
    const digits = text.slice(start, i)
    if (longInts && text[i] === 'L') i++
    if (/^[A-Za-z_.]$/.test(text[i] ?? ''))
      throw bad(`header: ${JSON.stringify(text.slice(start, i + 1))}… is not a decimal integer`)
    if (digits.length > 1 && digits[0] === '0')
      throw bad(`header: ${digits} has a leading zero (not a Python 3 integer)`)
    const n = Number(digits)
    if (!Number.isSafeInteger(n)) throw bad(`header: integer ${digits} is too large`)
    return n
  }

  /** Items up to `close`, separated by commas, one trailing comma allowed; `(,)` and `(1,,)` are not. */
  const items = (close: string, item: () => void): { count: number; comma: boolean } => {
    let count = 0
    let comma = false
    for (;;) {
      skip()
      if (text[i] === close) {
        i++
        return { count, comma }
      }
      if (count > 0 && !comma) throw bad(`header: expected ',' or '${close}' ${at()}, found ${describeAt()}`)
      if (text[i] === ',') throw bad(`header: a ',' with no value before it ${at()}`)
      item()
      count++
      skip()
      comma = text[i] === ','
      if (comma) i++
    }
  }

  const value = (depth: number): PyValue => {
    if (depth > 32) throw bad('header: nested too deeply')
    skip()
    const c = text[i]
    if (c === undefined) throw bad('header: ends where a value should be')
    if (c === "'" || c === '"') return str()
    if (c >= '0' && c <= '9') return int()
    if (text.startsWith('True', i) && !/\w/.test(text[i + 4] ?? '')) {
      i += 4
      return true
    }
    if (text.startsWith('False', i) && !/\w/.test(text[i + 5] ?? '')) {
      i += 5
      return false
    }
    if (c === '(') {
      i++
      const vs: PyValue[] = []
      const { count, comma } = items(')', () => vs.push(value(depth + 1)))
      // `(x)` is x in parentheses, not a tuple: Python needs the comma.
      if (count === 1 && !comma) return vs[0]
      return { tuple: vs }
    }
    if (c === '[') {
      i++
      const vs: PyValue[] = []
      items(']', () => vs.push(value(depth + 1)))
      return { list: vs }
    }
    if (c === '{') {
      i++
      const m = new Map<string, PyValue>()
      items('}', () => {
        const k = value(depth + 1)
        if (typeof k !== 'string') throw bad(`header: a dict key must be a str, got ${typeName(k)}`)
        if (m.has(k)) throw bad(`header: key ${pyRepr(k)} appears twice`)
        expect(':')
        m.set(k, value(depth + 1))
      })
      return { dict: m }
    }
    throw bad(`header: unexpected ${describeAt()} ${at()} (only dict, tuple, list, str, int, True, False)`)
  }

  const nul = text.indexOf('\0')
  if (nul >= 0) throw bad(`header contains a NUL byte at character ${nul}`)
  const v = value(0)
  skip()
  if (i < text.length) throw bad(`header: unexpected ${describeAt()} after the dict ${at()}`)
  return v
}

/** Python's repr of a str, for messages. */
export function pyRepr(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

const KEYS = ['descr', 'fortran_order', 'shape']

/** Parses and checks a header dictionary as NumPy's `_read_array_header` does. */
export function parseNpyHeaderDict(text: string, longInts = false): NpyHeaderDict {
  const v = parsePyLiteral(text, longInts)
  if (typeof v !== 'object' || !('dict' in v)) throw bad(`the header is not a dict but a ${typeName(v)}`)
  const d = v.dict
  for (const k of d.keys())
    if (!KEYS.includes(k)) throw bad(`the header has an unknown key ${pyRepr(k)} (only ${KEYS.join(', ')})`)
  for (const k of KEYS) if (!d.has(k)) throw bad(`the header has no ${pyRepr(k)}`)
  const descr = d.get('descr') as PyValue
  const fortran = d.get('fortran_order') as PyValue
  const shape = d.get('shape') as PyValue
  if (typeof descr !== 'string' && !(typeof descr === 'object' && 'list' in descr))
    throw bad(`descr is a ${typeName(descr)}, not a str or a list`)
  if (typeof fortran !== 'boolean') throw bad(`fortran_order is a ${typeName(fortran)}, not True or False`)
  if (typeof shape !== 'object' || !('tuple' in shape) || !shape.tuple.every((n) => typeof n === 'number'))
    throw bad(`shape is not a tuple of integers`)
  return { descr, fortranOrder: fortran, shape: shape.tuple as number[] }
}
