// AbortSignal and progress reporting shared by the long array operations.
import { AbortError } from './errors.ts'

/** `done`/`total` count elements for array operations and bytes for file import/export (each says which). */
export interface Progress {
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
}

export function checkAbort(p: Progress | undefined): void {
  const s = p?.signal
  if (s?.aborted) throw new AbortError(s.reason)
}

export function report(p: Progress | undefined, done: number, total: number): void {
  p?.onProgress?.(done, total)
}
