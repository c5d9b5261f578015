// The INDEX argument of `bigfile show` and `bigfile stat`: NumPy's basic indexing as text, e.g. `5`,
// `-1`, `2:10`, `::2`, `3,1:4` or `[:, 0]`, parsed into the array layer's Index list for `a.at(...)`.
import type { BigArray } from '../array/bigarray.ts'
import { type Index, slice } from '../array/slice.ts'
import { UsageError } from './exit.ts'

const INT = /^[-+]?\d+$/

/** `2:10,-1` → [slice(2, 10), -1]; a UsageError naming the text when it is not an index. */
export function parseSelection(text: string): Index[] {
  const bad = (why: string) =>
    new UsageError(
      `INDEX ${JSON.stringify(text)}: ${why} (write it like NumPy: 5, -1, 2:10, ::2, 3,1:4 or [:,0])`,
    )
  let t = text.trim()
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1).trim()
  if (t === '') return []
  return t.split(',').map((part) => {
    const p = part.trim()
    if (p === '') throw bad('an empty item')
    const num = (s: string): number | null => {
      const v = s.trim()
      if (v === '') return null
      if (!INT.test(v) || !Number.isSafeInteger(Number(v)))
        throw bad(`${JSON.stringify(v)} is not an integer`)
      return Number(v)
    }
    if (!p.includes(':')) {
      const v = num(p)
      if (v === null) throw bad('an empty item')
      return v
    }
    const bounds = p.split(':')
    if (bounds.length > 3) throw bad(`${JSON.stringify(p)} has more than two colons`)
    const [start, stop, step] = bounds.map(num)
    if (step === 0) throw bad('a slice step cannot be zero')
    return slice(start, stop ?? null, step ?? null)
  })
}

/** The view `a[text]`; a UsageError when the index does not fit the array (too many, out of bounds). */
export function select(a: BigArray, text: string | undefined): BigArray {
  if (text === undefined) return a
  const sel = parseSelection(text)
  try {
    return a.at(...sel)
  } catch (e) {
    const code = (e as { code?: unknown }).code
    if (code === 'ERANGE' || code === 'EINVAL')
      throw new UsageError(`INDEX ${JSON.stringify(text)}: ${(e as Error).message}`)
    throw e
  }
}
