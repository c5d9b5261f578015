// AbortSignal and progress reporting shared by the long array operations.
import { AbortError } from '../errors.ts'

/** Abort and progress reporting for a long operation. */
export interface Progress {
  /** Checked before each chunk: once aborted, the operation stops with AbortError (code EABORT). */
  signal?: AbortSignal
  /**
   * Called as the operation advances, with bytes done and the total bytes of the operation: bytes of
   * elements in array operations (elements × itemsize), bytes of data in file import/export.
   */
  onProgress?: (done: number, total: number) => void
}

/** Throws AbortError (code EABORT) once `p.signal` is aborted. */
export function checkAbort(p: Progress | undefined): void {
  const s = p?.signal
  if (s?.aborted) throw new AbortError(s.reason)
}

/** Calls `p.onProgress(done, total)` if there is one. */
export function report(p: Progress | undefined, done: number, total: number): void {
  p?.onProgress?.(done, total)
}

const YIELD_BYTES = 8 << 20

/**
 * With a signal, returns a counter that hands the event loop a turn every 8 MiB walked: over a synchronous
 * storage a walk runs in microtasks only, and an abort wired to SIGINT could otherwise never land.
 */
export function yielder(p: Progress | undefined): ((bytes: number) => Promise<void> | undefined) | undefined {
  if (!p?.signal) return undefined
  let since = 0
  return (bytes) => {
    since += bytes
    if (since < YIELD_BYTES) return undefined
    since = 0
    return new Promise((resolve) => setImmediate(resolve))
  }
}
