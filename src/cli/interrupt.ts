// Ctrl-C as an AbortSignal: the first SIGINT asks the running operation to stop at its next step (the
// command then aborts the transaction and closes the database); a second one exits at once — still
// safe, since nothing uncommitted ever reaches the database file.
import { BigFileError } from '../errors.ts'
import { Exit } from './exit.ts'

export interface Interrupt extends Disposable {
  readonly signal: AbortSignal
}

/** Listens for SIGINT (and SIGTERM) until disposed. */
export function onInterrupt(): Interrupt {
  const ac = new AbortController()
  const handler = () => {
    if (ac.signal.aborted) process.exit(Exit.INTERRUPTED)
    ac.abort(new BigFileError('EABORT', 'interrupted'))
  }
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
  return {
    signal: ac.signal,
    [Symbol.dispose]() {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    },
  }
}

/** Throws the signal's reason when it was aborted (for loops of our own between array operations). */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason
}
