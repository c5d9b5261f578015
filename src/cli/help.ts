// The top-level help: commands and the exit codes scripts can rely on; the version.
import { readFileSync } from 'node:fs'
import type { Command } from './command.ts'

/**
 * The version in the package's package.json, read at run time: it sits two levels up from this module
 * both in the repository (src/cli/) and in the installed package (dist/cli/).
 */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version?: unknown
  }
  if (typeof pkg.version !== 'string') throw new Error('package.json has no version')
  return pkg.version
}

export const EXIT_CODES_HELP = `Exit codes:
  0    ok
  1    runtime or storage error; failed verification (demo); an input that is not what it
       says (malformed .npy, more or fewer bytes than its header declares)
  2    usage error: unknown command or option, malformed or missing argument; an unsupported
       dtype; a directory, FIFO, device or symlink where a regular file is needed
  3    not found: database, array, input file or output directory
  4    conflict: the name or file exists (also one created while an export ran), another
       commit won, the database is locked or busy
  5    out of memory: the --ram budget is exhausted by pages that cannot be dropped
  130  interrupted (Ctrl-C / SIGTERM): the transaction was aborted, nothing half-written`

export function mainHelp(commands: Readonly<Record<string, Command>>): string {
  const w = Math.max(...Object.keys(commands).map((n) => n.length))
  const list = Object.entries(commands)
    .map(([name, c]) => `  ${name.padEnd(w)}  ${c.summary}`)
    .join('\n')
  return `Usage: bigfile <command> [options]

bigfile keeps n-dimensional arrays far bigger than RAM in a transactional database (an SQLite file),
and works on them through a fixed RAM budget (--ram).

Commands:
${list}

Run \`bigfile <command> --help\` for a command's arguments and options, \`bigfile --version\` for the version.
Errors are reported as one line on stderr (\`bigfile: <message>\`); BIGFILE_DEBUG=1 adds the stack.

${EXIT_CODES_HELP}`
}
