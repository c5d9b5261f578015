// What a subcommand is: its parsing spec, its help text, and what it runs.
import type { CommandSpec, Parsed } from './args.ts'

export interface Command {
  readonly spec: CommandSpec
  /** One line for `bigfile --help`. */
  readonly summary: string
  /** The full `bigfile <name> --help` text. */
  readonly help: string
  /** Runs the command; resolves to its exit code (default 0) or throws (mapped by exitCodeOf). */
  run(p: Parsed): Promise<number | undefined>
}

/** The lines every command's help ends with. */
export const COMMON_HELP = `Common options:
  --ram SIZE     RAM budget for pages (default 256MiB); sizes like 64KiB, 256MiB, 1GiB
  -q, --quiet    no progress output
  -h, --help     this help`
