// bigfile rm DB NAME: deletes one array (snapshots older than the deletion still read it until pack).
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { escapeControl } from '../format.ts'
import { withDb } from '../session.ts'

export const rm: Command = {
  spec: { name: 'rm', positionals: ['DB', 'NAME'], options: {} },
  summary: 'delete an array',
  help: `Usage: bigfile rm DB NAME

Deletes array (or file) NAME in a transaction of its own. Its storage is freed by the next
\`bigfile pack\`. Exit 3 when there is no such file.

${COMMON_HELP}`,
  async run(p) {
    const [path, name] = p.positionals
    await withDb(path, (db) => db.deleteFile(name))
    if (!p.values.quiet) console.log(`removed ${escapeControl(name)}`)
    return 0
  },
}
