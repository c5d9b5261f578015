// Errors of the array layer; the shared ones live in src/errors.ts.
import { BigFileError } from '../errors.ts'

/** A long operation was stopped by its AbortSignal; `cause` is the signal's reason. */
export class AbortError extends BigFileError {
  constructor(reason: unknown) {
    super('EABORT', `aborted${reason instanceof Error ? `: ${reason.message}` : ''}`, { cause: reason })
  }
}
