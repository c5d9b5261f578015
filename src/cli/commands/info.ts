// bigfile info DB NAME: one file's description (dtype, shape, order, block size, size, meta).
import { itemsizeOf } from '../../array/dtype.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { printFields } from '../format.ts'
import { arrayMeta, formatShape } from '../meta.ts'
import { withReadOnlyDb } from '../session.ts'
import { formatBytes } from '../size.ts'

export const info: Command = {
  spec: { name: 'info', positionals: ['DB', 'NAME'], options: { json: { type: 'boolean' } } },
  summary: 'describe one array: dtype, shape, order, block size, size, meta',
  help: `Usage: bigfile info DB NAME [--json]

Describes array (or file) NAME of database DB: dtype, shape, order, elements, block size, size in bytes,
the tid of its last change, and its metadata. Exit 3 when there is no such file.

Options:
  --json         the record as one JSON object

${COMMON_HELP}`,
  async run(p) {
    const [path, name] = p.positionals
    const rec = await withReadOnlyDb(path, (db) => db.stat(name))
    if (p.values.json) {
      const { blksize, size, meta, tid } = rec
      console.log(JSON.stringify({ name: rec.name, blksize, size, meta, tid }))
      return 0
    }
    const a = arrayMeta(rec)
    const fields: [string, string][] = [['name', rec.name]]
    if (a) {
      const elements = a.shape.reduce((x, y) => x * y, 1)
      fields.push(['kind', 'array'], ['dtype', a.dtype], ['shape', formatShape(a.shape)], ['order', a.order])
      fields.push(['itemsize', String(itemsizeOf(a.dtype))], ['elements', elements.toLocaleString('en-US')])
    } else fields.push(['kind', 'file'])
    fields.push(
      ['blksize', formatBytes(rec.blksize)],
      ['size', `${formatBytes(rec.size)} (${rec.size} bytes)`],
      ['tid', String(rec.tid)],
      ['meta', JSON.stringify(rec.meta)],
    )
    printFields(fields)
    return 0
  },
}
