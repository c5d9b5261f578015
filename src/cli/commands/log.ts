// bigfile log DB [NAME]: the commit log, newest first — what each commit changed, and when.
import type { Commit } from '../../db/storage.ts'
import { parseCount, str } from '../args.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { UsageError } from '../exit.ts'
import { printTable } from '../format.ts'
import { withReadOnlyDb } from '../session.ts'

export const log: Command = {
  spec: {
    name: 'log',
    positionals: ['DB'],
    optional: ['NAME'],
    options: { limit: { type: 'string' }, json: { type: 'boolean' } },
  },
  summary: 'list the commits, newest first: tid, time, files and blocks changed',
  help: `Usage: bigfile log DB [NAME] [--limit N] [--json]

Lists the commits of database DB, newest first: the tid, the time it was committed (UTC), and for each
file it changed the name, the number of blocks written and whether its record changed (size, meta,
name) or it was deleted. With NAME, only the commits that changed that file (under any earlier name
too). Commits older than the last pack are gone; every listed tid can be read with --at TID (info, ls,
export).

Options:
  --limit N      at most N commits
  --json         one JSON array: [{ tid, time, files: [{ name, blocks: [...], record, deleted }] }]

${COMMON_HELP}`,
  async run(p) {
    const [path, name] = p.positionals
    const limitText = str(p, 'limit')
    const limit = limitText === undefined ? undefined : parseCount(limitText, '--limit')
    if (limit === 0) throw new UsageError('--limit: at least 1')
    const commits = await withReadOnlyDb(path, (db) => db.log({ name, limit }))
    if (p.values.json) {
      console.log(JSON.stringify(commits.map(toJson)))
      return 0
    }
    const rows: string[][] = []
    for (const c of commits) {
      const time = c.time.toISOString()
      if (c.files.length === 0) rows.push([String(c.tid), time, '-', '0', '-'])
      for (const f of c.files) {
        const change = f.deleted ? 'deleted' : f.record ? 'record' : '-'
        rows.push([String(c.tid), time, f.name, String(f.blocks.length), change])
      }
    }
    printTable(['TID', 'TIME', 'NAME', 'BLOCKS', 'CHANGE'], rows)
    return 0
  },
}

function toJson(c: Commit) {
  return {
    tid: c.tid,
    time: c.time.toISOString(),
    files: c.files.map((f) => ({ name: f.name, blocks: f.blocks, record: f.record, deleted: f.deleted })),
  }
}
