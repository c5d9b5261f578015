#!/usr/bin/env node
// The `bigfile` command: dispatches to a subcommand and turns whatever it throws into one line on
// stderr and a documented exit code (help.ts).
import { parseCommand } from './args.ts'
import type { Command } from './command.ts'
import { bench } from './commands/bench.ts'
import { check } from './commands/check.ts'
import { create } from './commands/create.ts'
import { demo } from './commands/demo.ts'
import { exportCmd } from './commands/export.ts'
import { importCmd } from './commands/import.ts'
import { info } from './commands/info.ts'
import { log } from './commands/log.ts'
import { ls } from './commands/ls.ts'
import { pack } from './commands/pack.ts'
import { rm } from './commands/rm.ts'
import { show } from './commands/show.ts'
import { stat } from './commands/stat.ts'
import { stats } from './commands/stats.ts'
import { Exit, exitCodeOf, reportError, UsageError } from './exit.ts'
import { mainHelp, packageVersion } from './help.ts'
import { holdInterrupts } from './interrupt.ts'

export const COMMANDS: Readonly<Record<string, Command>> = {
  create,
  info,
  ls,
  show,
  stat,
  rm,
  import: importCmd,
  export: exportCmd,
  stats,
  log,
  pack,
  check,
  bench,
  demo,
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv
  // Once a long operation listens for Ctrl-C, the handler stays until the command is done.
  using _interrupts = holdInterrupts()
  try {
    if (name === undefined) {
      // Without a command it is a usage error: the help goes to stderr.
      console.error(mainHelp(COMMANDS))
      return Exit.USAGE
    }
    if (name === '--version') {
      if (rest.length > 0) throw new UsageError(`--version: unexpected argument ${JSON.stringify(rest[0])}`)
      console.log(`bigfile ${packageVersion()}`)
      return Exit.OK
    }
    if (name === 'help' || name === '--help' || name === '-h') {
      // `bigfile help CMD`: that command's help.
      if (rest.length > 1) throw new UsageError(`help: unexpected argument ${JSON.stringify(rest[1])}`)
      console.log(rest.length === 0 ? mainHelp(COMMANDS) : commandNamed(rest[0]).help)
      return Exit.OK
    }
    const cmd = commandNamed(name)
    const parsed = parseCommand(cmd.spec, rest)
    if (!parsed) {
      console.log(cmd.help)
      return Exit.OK
    }
    return (await cmd.run(parsed)) ?? Exit.OK
  } catch (e) {
    const code = exitCodeOf(e)
    // The command aborted its transaction before it rethrew: say so rather than "aborted: ...".
    if (code === Exit.INTERRUPTED) console.error('bigfile: interrupted; the transaction was aborted')
    else console.error(reportError(e))
    return code
  }
}

function commandNamed(name: string): Command {
  const cmd = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!cmd) throw new UsageError(`unknown command ${JSON.stringify(name)} (see bigfile --help)`)
  return cmd
}

/** The process entry (bin.ts, or `node src/cli/main.ts` in the repository): runs `argv`, sets the exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  process.exitCode = await run(argv)
  // The command is done: a late Ctrl-C ends the process with the command's own exit code rather than
  // Node's default kill by the signal.
  const exit = () => process.exit()
  process.on('SIGINT', exit)
  process.on('SIGTERM', exit)
}

if (import.meta.main) await main(process.argv.slice(2))
