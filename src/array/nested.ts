// Nested JavaScript arrays ([[1, 2], [3, 4]]) as NumPy reads nested lists: a rectangular shape, elements in
// C order. A ragged list or a non-numeric leaf is refused (EINVAL), never written as NaN or 0.
import { InvalidArgumentError } from '../errors.ts'
import type { Element } from './dtype.ts'

/** Whether `v` is a JavaScript array whose first item is itself an array (a nested list). */
export function isNested(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && v.length > 0 && Array.isArray(v[0])
}

/** The shape of nested list `v` (read down its first items) and its leaves flattened in C order. */
export function flattenNested(v: readonly unknown[]): { data: Element[]; shape: number[] } {
  const shape: number[] = []
  for (let x: unknown = v; Array.isArray(x); x = x[0]) shape.push(x.length)
  const data: Element[] = []
  const walk = (x: unknown, depth: number, at: string): void => {
    if (depth === shape.length) {
      if (typeof x !== 'number' && typeof x !== 'bigint')
        throw new InvalidArgumentError(`nested list: item${at} is ${describe(x)}, not a number or a bigint`)
      data.push(x)
      return
    }
    if (!Array.isArray(x) || x.length !== shape[depth])
      throw new InvalidArgumentError(
        `nested list is ragged: item${at} ${Array.isArray(x) ? `has ${x.length} items` : 'is not a list'}, ` +
          `expected ${shape[depth]} (shape ${JSON.stringify(shape)})`,
      )
    for (let i = 0; i < x.length; i++) walk(x[i], depth + 1, `${at}[${i}]`)
  }
  walk(v, 0, '')
  return { data, shape }
}

function describe(x: unknown): string {
  if (Array.isArray(x)) return 'a list'
  return typeof x === 'string' ? JSON.stringify(x) : String(x)
}
