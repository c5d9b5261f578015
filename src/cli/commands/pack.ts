// bigfile pack DB [--keep N]: drops old versions no snapshot needs.
import { parseCount, str } from '../args.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { withDb } from '../session.ts'

export const pack: Command = {
  spec: { name: 'pack', positionals: ['DB'], options: { keep: { type: 'string' } } },
  summary: 'drop old versions (keep the newest N transactions readable)',
  help: `Usage: bigfile pack DB [--keep N]

Removes block and record versions that no snapshot at or after (head - N) can read, deleted files, and
the commit log before that point. Other processes reading older snapshots get a stale-snapshot error on
their next read. The freed space is reused by SQLite; the file does not shrink.

Options:
  --keep N       transactions before the newest that stay readable (default 0)

${COMMON_HELP}`,
  async run(p) {
    const [path] = p.positionals
    const keepText = str(p, 'keep')
    const keep = keepText === undefined ? 0 : parseCount(keepText, '--keep')
    const r = await withDb(path, (db) => db.pack({ keep }))
    if (!p.values.quiet)
      console.log(
        `packed: cutoff tid ${r.cutoff} (tids ${r.cutoff}..${r.head} stay readable), ${r.blocksRemoved} block versions and ${r.recordsRemoved} records removed`,
      )
    return 0
  },
}
