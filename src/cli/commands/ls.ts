// bigfile ls DB: the files of a database, with their array shapes.
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { printTable } from '../format.ts'
import { arrayMeta, formatShape } from '../meta.ts'
import { withReadOnlyDb } from '../session.ts'
import { formatBytes } from '../size.ts'

export const ls: Command = {
  spec: { name: 'ls', positionals: ['DB'], options: { json: { type: 'boolean' } } },
  summary: 'list the arrays and files of a database',
  help: `Usage: bigfile ls DB [--json]

Lists the files of database DB at its newest snapshot: name, dtype, shape, order, block size, bytes.
Files that are not arrays show "-" for dtype and shape.

Options:
  --json         one JSON array of records instead of the table

${COMMON_HELP}`,
  async run(p) {
    const [path] = p.positionals
    const files = await withReadOnlyDb(path, (db) => db.files())
    if (p.values.json) {
      console.log(
        JSON.stringify(
          files.map(({ name, blksize, size, meta, tid }) => ({ name, blksize, size, meta, tid })),
        ),
      )
      return 0
    }
    const rows = files.map((f) => {
      const a = arrayMeta(f)
      return [
        f.name,
        a?.dtype ?? '-',
        a ? formatShape(a.shape) : '-',
        a?.order ?? '-',
        formatBytes(f.blksize),
        formatBytes(f.size),
      ]
    })
    printTable(['NAME', 'DTYPE', 'SHAPE', 'ORDER', 'BLKSIZE', 'SIZE'], rows)
    return 0
  },
}
