// Ctrl-C as an AbortSignal: the first SIGINT (or SIGTERM) asks the running operation to stop at its next
// step (the command then aborts the transaction and closes the database); a second one exits at once
// with 130 and `bigfile: interrupted`, after the synchronous cleanups the command registered (e.g.
// removing a partial output file). Still safe: nothing uncommitted ever reaches the database file.
import { writeSync } from 'node:fs'
import { BigFileError } from '../errors.ts'
import { Exit } from './exit.ts'

export interface Interrupt extends Disposable {
  readonly signal: AbortSignal
}

export interface InterruptOptions {
  /**
   * Runs (synchronously, best effort) should the process exit at once on a second signal, while this
   * interrupt is in use: what the command's own error path would have cleaned up.
   */
  cleanup?: () => void
}

/** The operations listening now (each aborted by the first signal). */
const active = new Set<AbortController>()
/** Synchronous cleanups run before an immediate exit. */
const cleanups = new Set<() => void>()
let installed = false
/** How many holdInterrupts() keep the handler installed after the operations are done. */
let holds = 0

function install(): void {
  if (installed) return
  installed = true
  process.on('SIGINT', handler)
  process.on('SIGTERM', handler)
}

function uninstallIfIdle(): void {
  if (!installed || active.size > 0 || holds > 0) return
  installed = false
  process.off('SIGINT', handler)
  process.off('SIGTERM', handler)
}

function handler(): void {
  const listening = [...active].filter((ac) => !ac.signal.aborted)
  if (listening.length === 0) exitNow()
  for (const ac of listening) ac.abort(new BigFileError('EABORT', 'interrupted'))
}

/** Runs the registered cleanups, prints the one-line report and exits 130. */
function exitNow(): never {
  for (const fn of [...cleanups].reverse()) {
    try {
      fn()
    } catch {
      // best effort: the exit must happen
    }
  }
  try {
    // Synchronous: the process exits right after. On a terminal, clear a progress bar's line first.
    writeSync(2, `${process.stderr.isTTY ? '\r\x1b[K' : ''}bigfile: interrupted\n`)
  } catch {
    // stderr closed: nothing to report to
  }
  process.exit(Exit.INTERRUPTED)
}

/**
 * Until disposed, keeps the handler that an operation installed (for the whole command: a second
 * signal while the command unwinds after the first still exits 130 at once, not by Node's default).
 * Commands that never listen keep Node's default, the kill by the signal (exit status 130 in a shell
 * for Ctrl-C): their work is synchronous (SQLite), so a handler would only run once it is all done,
 * and a long `pack` could not be stopped.
 */
export function holdInterrupts(): Disposable {
  holds++
  let disposed = false
  return {
    [Symbol.dispose]() {
      if (disposed) return
      disposed = true
      holds--
      uninstallIfIdle()
    },
  }
}

/** An AbortSignal for the running operation, aborted by SIGINT (and SIGTERM) until disposed. */
export function onInterrupt(options: InterruptOptions = {}): Interrupt {
  const ac = new AbortController()
  const { cleanup } = options
  active.add(ac)
  if (cleanup) cleanups.add(cleanup)
  install()
  return {
    signal: ac.signal,
    [Symbol.dispose]() {
      active.delete(ac)
      if (cleanup) cleanups.delete(cleanup)
      uninstallIfIdle()
    },
  }
}

/** Throws the signal's reason when it was aborted (for loops of our own between array operations). */
export function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason
}
