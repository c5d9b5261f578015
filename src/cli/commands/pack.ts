// bigfile pack DB [--keep N]: drops old versions no snapshot needs, and gives the space back to the
// file system.
import { statSync } from 'node:fs'
import { parseCount, str } from '../args.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { withDb } from '../session.ts'
import { formatBytes } from '../size.ts'
import { fileSpace, isSqliteFile, vacuum } from '../sqlite-file.ts'

export const pack: Command = {
  spec: {
    name: 'pack',
    positionals: ['DB'],
    options: { keep: { type: 'string' }, 'no-vacuum': { type: 'boolean' } },
  },
  summary: 'drop old versions (keep the newest N transactions readable), shrink the file',
  help: `Usage: bigfile pack DB [--keep N] [--no-vacuum]

Removes block and record versions that no snapshot at or after (head - N) can read, deleted files, and
the commit log before that point. Other processes reading older snapshots get a stale-snapshot error on
their next read. Then, when the file has free pages (from this pack, rm or an aborted import), rewrites
it without them (SQLite's VACUUM) so that the file shrinks: this reads and writes the whole database
and needs temporary space up to its size; it is atomic (Ctrl-C leaves the old file). While another
process has the database open the file may only shrink at its next checkpoint. Exit 4 when another
process holds the write lock.

Options:
  --keep N       transactions before the newest that stay readable (default 0)
  --no-vacuum    only drop old versions: the freed pages stay in the file, reused by later writes

${COMMON_HELP}`,
  async run(p) {
    const [path] = p.positionals
    const keepText = str(p, 'keep')
    const keep = keepText === undefined ? 0 : parseCount(keepText, '--keep')
    const quiet = p.values.quiet === true
    const r = await withDb(path, (db) => db.pack({ keep }))
    if (!quiet)
      console.log(
        `packed: cutoff tid ${r.cutoff} (tids ${r.cutoff}..${r.head} stay readable), ${r.blocksRemoved} block versions and ${r.recordsRemoved} records removed`,
      )
    if (p.values['no-vacuum'] || !isSqliteFile(path)) return 0
    const space = fileSpace(path)
    if (space.freePages === 0) return 0
    const before = statSync(path).size
    if (!quiet)
      console.error(
        `vacuum: rewriting ${path} without its ${formatBytes(space.freePages * space.pageSize)} of free pages…`,
      )
    vacuum(path)
    const after = statSync(path).size
    if (!quiet) console.log(`vacuumed: file ${formatBytes(before)} -> ${formatBytes(after)}`)
    return 0
  },
}
