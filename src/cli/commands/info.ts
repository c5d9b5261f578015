// bigfile info DB NAME: one file's description (dtype, shape, order, block size, size, meta).
import { itemsizeOf } from '../../array/dtype.ts'
import type { FileRecord } from '../../db/storage.ts'
import { AT_OPTION, atHelp, resolveAt } from '../at.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { printFields } from '../format.ts'
import { arrayMeta, formatShape } from '../meta.ts'
import { withReadOnlyDb } from '../session.ts'
import { formatBytes } from '../size.ts'

export const info: Command = {
  spec: { name: 'info', positionals: ['DB', 'NAME'], options: { json: { type: 'boolean' }, ...AT_OPTION } },
  summary: 'describe one array: dtype, shape, order, block size, size, meta',
  help: `Usage: bigfile info DB NAME [--json] [--at TID|TIME]

Describes array (or file) NAME of database DB: dtype, shape, order, elements, block size, size in bytes,
the tid of its last change, and its metadata. Exit 3 when there is no such file.

Options:
  --json         the same fields as one JSON object (shape as a list, sizes in bytes)
${atHelp()}

${COMMON_HELP}`,
  async run(p) {
    const [path, name] = p.positionals
    const d = describe(
      await withReadOnlyDb(path, async (db) => db.stat(name, { at: await resolveAt(db, p) })),
    )
    if (p.values.json) {
      console.log(JSON.stringify(d))
      return 0
    }
    const fields: [string, string][] = [
      ['name', d.name],
      ['kind', d.kind],
    ]
    if (d.kind === 'array') {
      fields.push(['dtype', d.dtype], ['shape', formatShape(d.shape)], ['order', d.order])
      fields.push(['itemsize', String(d.itemsize)], ['elements', d.elements.toLocaleString('en-US')])
    }
    fields.push(
      ['blksize', formatBytes(d.blksize)],
      ['size', `${formatBytes(d.size)} (${d.size} bytes)`],
      ['tid', String(d.tid)],
      ['meta', JSON.stringify(d.meta)],
    )
    printFields(fields)
    return 0
  },
}

type Description = { name: string; blksize: number; size: number; tid: number; meta: unknown } & (
  | { kind: 'file' }
  | { kind: 'array'; dtype: string; shape: number[]; order: string; itemsize: number; elements: number }
)

/** What both views show, in the order the human view lists it. */
function describe(rec: FileRecord): Description {
  const { name, blksize, size, tid, meta } = rec
  const a = arrayMeta(rec)
  if (!a) return { name, kind: 'file', blksize, size, tid, meta }
  const elements = a.shape.reduce((x, y) => x * y, 1)
  const array = {
    dtype: a.dtype,
    shape: [...a.shape],
    order: a.order,
    itemsize: itemsizeOf(a.dtype),
    elements,
  }
  return { name, kind: 'array', ...array, blksize, size, tid, meta }
}
