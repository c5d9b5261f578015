import { type Awaitable, isPromise } from '../util/awaitable.ts'

/**
 * Runs step(0..n-1) strictly in order. Stays synchronous while every step does, and continues
 * asynchronously from the first step that answers with a Promise.
 */
export function runSeq(n: number, step: (i: number) => Awaitable<void>): Awaitable<void> {
  for (let i = 0; i < n; i++) {
    const r = step(i)
    if (isPromise(r)) return r.then(() => runSeqAsync(i + 1, n, step))
  }
}

async function runSeqAsync(from: number, n: number, step: (i: number) => Awaitable<void>): Promise<void> {
  for (let i = from; i < n; i++) await step(i)
}

/** Calls `done` once `r` settles (now, if it is not a Promise), passing errors through. */
export function settle<T>(r: () => Awaitable<T>, done: () => void): Awaitable<T> {
  let v: Awaitable<T>
  try {
    v = r()
  } catch (e) {
    done()
    throw e
  }
  if (!isPromise(v)) {
    done()
    return v
  }
  return v.then(
    (x) => {
      done()
      return x
    },
    (e) => {
      done()
      throw e
    },
  )
}
