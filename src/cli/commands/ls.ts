// bigfile ls DB: the files of a database, with their array shapes; imports still in progress (or left
// over by a killed one) are hidden unless asked for.
import { AT_OPTION, atHelp, resolveAt } from '../at.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { printTable } from '../format.ts'
import { arrayMeta, formatShape } from '../meta.ts'
import { withReadOnlyDb } from '../session.ts'
import { formatBytes } from '../size.ts'

/**
 * The names `bigfile import` writes to until it is done: `.importing.<pid>.<time>.<NAME>` (stagingName
 * in io.ts; test/cli/options.test.ts checks that the two agree).
 */
export const STAGING_NAME = /^\.importing\.\d+\.[0-9a-z]+\./

export const ls: Command = {
  spec: {
    name: 'ls',
    positionals: ['DB'],
    options: { json: { type: 'boolean' }, all: { type: 'boolean', short: 'a' }, ...AT_OPTION },
  },
  summary: 'list the arrays and files of a database',
  help: `Usage: bigfile ls DB [--all] [--json] [--at TID|TIME]

Lists the files of database DB at its newest snapshot (or --at a past one): name, dtype, shape, order, block size, bytes.
Files that are not arrays show "-" for dtype and shape. The staging files of imports in progress
(".importing.<pid>.<time>.<NAME>", renamed to NAME when the import is done) are left out; a note on
stderr counts them. One left over by a killed import can be removed with \`bigfile rm\`.

Options:
  -a, --all      also list staging files, marked "(importing)" (in JSON: "staging": true)
  --json         one JSON array of records instead of the table
${atHelp()}

${COMMON_HELP}`,
  async run(p) {
    const [path] = p.positionals
    const all = await withReadOnlyDb(path, async (db) => db.files({ at: await resolveAt(db, p) }))
    const showStaging = p.values.all === true
    const files = showStaging ? all : all.filter((f) => !STAGING_NAME.test(f.name))
    const hidden = all.length - files.length
    if (p.values.json) {
      const records = files.map(({ name, blksize, size, meta, tid }) => {
        const r = { name, blksize, size, meta, tid }
        return STAGING_NAME.test(name) ? { ...r, staging: true } : r
      })
      console.log(JSON.stringify(records))
    } else {
      const rows = files.map((f) => {
        const a = arrayMeta(f)
        const name = f.name // the one place a name is printed
        return [
          STAGING_NAME.test(f.name) ? `${name} (importing)` : name,
          a?.dtype ?? '-',
          a ? formatShape(a.shape) : '-',
          a?.order ?? '-',
          formatBytes(f.blksize),
          formatBytes(f.size),
        ]
      })
      printTable(['NAME', 'DTYPE', 'SHAPE', 'ORDER', 'BLKSIZE', 'SIZE'], rows)
    }
    if (hidden > 0 && !p.values.quiet) {
      console.error(
        `(${hidden} staging file${hidden === 1 ? '' : 's'} of imports in progress or killed not listed: bigfile ls --all)`,
      )
    }
    return 0
  },
}
