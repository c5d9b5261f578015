/** A value now, or later: storages that answer synchronously stay on the fast path. */
export type Awaitable<T> = T | Promise<T>

export function isPromise<T>(v: Awaitable<T>): v is Promise<T> {
  return typeof (v as { then?: unknown } | null)?.then === 'function'
}
