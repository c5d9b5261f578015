// Exit codes and the one-line error report: what a script calling `bigfile` can branch on.
import { escapeControl } from './format.ts'

/** The documented exit codes (README, `bigfile --help`). */
export const Exit = {
  OK: 0,
  /** Runtime or storage error, failed verification. */
  ERROR: 1,
  /** Bad command line: unknown command or option, missing or malformed argument. */
  USAGE: 2,
  /** The database, file, array or input file does not exist. */
  NOT_FOUND: 3,
  /** Conflict: the name exists, another commit won, the database is locked or busy. */
  CONFLICT: 4,
  /** The RAM budget was exhausted by pages that cannot be dropped (ENOMEM). */
  OUT_OF_MEMORY: 5,
  /** Interrupted (Ctrl-C): the transaction was aborted. */
  INTERRUPTED: 130,
} as const

/** A command-line mistake: exit 2. */
export class UsageError extends Error {
  readonly code = 'EUSAGE'
}

/** A check the command made failed (e.g. the demo's verification): exit 1. */
export class VerifyError extends Error {
  readonly code = 'EVERIFY'
}

const BY_CODE: Record<string, number> = {
  EUSAGE: Exit.USAGE,
  EINVAL: Exit.USAGE,
  ERR_PARSE_ARGS_UNKNOWN_OPTION: Exit.USAGE,
  ERR_PARSE_ARGS_INVALID_OPTION_VALUE: Exit.USAGE,
  ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL: Exit.USAGE,
  ENOENT: Exit.NOT_FOUND,
  EEXIST: Exit.CONFLICT,
  ECONFLICT: Exit.CONFLICT,
  ELOCKED: Exit.CONFLICT,
  EBUSY: Exit.CONFLICT,
  ENOMEM: Exit.OUT_OF_MEMORY,
  EABORT: Exit.INTERRUPTED,
  ABORT_ERR: Exit.INTERRUPTED,
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && code in BY_CODE) return BY_CODE[code]
  if ((err as { name?: unknown } | null)?.name === 'AbortError') return Exit.INTERRUPTED
  return Exit.ERROR
}

/** `bigfile: <message>` on one line; the stack only with BIGFILE_DEBUG=1. */
export function reportError(err: unknown, env: NodeJS.ProcessEnv = process.env): string {
  const message = err instanceof Error ? err.message : String(err)
  // One line, and no control character from a name or path reaches the terminal.
  const line = `bigfile: ${escapeControl(message.replace(/\s*\n\s*/g, ' '))}`
  if (env.BIGFILE_DEBUG === '1' && err instanceof Error && err.stack) return `${line}\n${err.stack}`
  return line
}
