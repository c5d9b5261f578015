// A plain in-memory reference for shapes and basic indexing: a view is a shape plus a function from its
// index to the base's index, built independently of src/array/layout.ts.
import { type Index, newaxis, type Slice } from '../../src/array/index.ts'

export interface Ref {
  shape: number[]
  base: (idx: number[]) => number[]
}

/** The positions list(range(len))[start:stop:step] of Python, by filtering. */
export function sliceIndexes(s: Slice, len: number): number[] {
  const step = s.step ?? 1
  const norm = (v: number) => (v < 0 ? v + len : v)
  const out: number[] = []
  if (step > 0) {
    const lo = s.start === null ? 0 : Math.max(0, norm(s.start))
    const hi = s.stop === null ? len : Math.min(len, norm(s.stop))
    for (let i = 0; i < len; i++) if (i >= lo && i < hi && (i - lo) % step === 0) out.push(i)
  } else {
    const hi = s.start === null ? len - 1 : Math.min(len - 1, norm(s.start))
    const lo = s.stop === null ? -1 : Math.max(-1, norm(s.stop))
    for (let i = len - 1; i >= 0; i--) if (i <= hi && i > lo && (hi - i) % -step === 0) out.push(i)
  }
  return out
}

export function refSelect(r: Ref, sel: readonly Index[]): Ref {
  const shape: number[] = []
  // For each output axis: which input axis it feeds and the position table; ints fix input axes.
  const parts: ((idx: number[], out: number[]) => void)[] = []
  let axis = 0
  let oaxis = 0
  for (const s of sel) {
    if (s === newaxis) {
      shape.push(1)
      oaxis++
      continue
    }
    const a = axis
    const len = r.shape[a]
    if (typeof s === 'number') {
      const j = s < 0 ? s + len : s
      parts.push((_idx, out) => {
        out[a] = j
      })
    } else {
      const pos = sliceIndexes(s as Slice, len)
      const o = oaxis
      shape.push(pos.length)
      parts.push((idx, out) => {
        out[a] = pos[idx[o]]
      })
      oaxis++
    }
    axis++
  }
  for (; axis < r.shape.length; axis++) {
    const a = axis
    const o = oaxis++
    shape.push(r.shape[a])
    parts.push((idx, out) => {
      out[a] = idx[o]
    })
  }
  return {
    shape,
    base: (idx) => {
      const inner = new Array<number>(r.shape.length).fill(0)
      for (const p of parts) p(idx, inner)
      return r.base(inner)
    },
  }
}

/** Every index of `shape` in C order. */
export function* indexes(shape: readonly number[]): Generator<number[]> {
  if (shape.some((d) => d === 0)) return
  const idx = new Array<number>(shape.length).fill(0)
  for (;;) {
    yield [...idx]
    let k = shape.length - 1
    for (; k >= 0; k--) {
      if (++idx[k] < shape[k]) break
      idx[k] = 0
    }
    if (k < 0) return
  }
}

/** The flat C-order position of `idx` in `shape`. */
export function flatC(idx: readonly number[], shape: readonly number[]): number {
  let f = 0
  for (let k = 0; k < shape.length; k++) f = f * shape[k] + idx[k]
  return f
}
