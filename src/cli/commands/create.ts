// bigfile create DB NAME --dtype D --shape S: a new (all zeros) array; the database is created if missing.
import { BigArray, itemsizeOf } from '../../array/index.ts'
import { checkShape } from '../../array/layout.ts'
import { checkName } from '../../db/check.ts'
import { parseBlksize, parseDType, parseOrder, parseRam, parseShape, str } from '../args.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { UsageError } from '../exit.ts'
import { escapeControl } from '../format.ts'
import { refuseExisting } from '../io.ts'
import { formatShape } from '../meta.ts'
import { withDbCreating } from '../new-db.ts'
import { makeRam, pagesizeFor } from '../session.ts'
import { formatBytes } from '../size.ts'

export const create: Command = {
  spec: {
    name: 'create',
    positionals: ['DB', 'NAME'],
    options: {
      dtype: { type: 'string' },
      shape: { type: 'string' },
      order: { type: 'string' },
      blksize: { type: 'string' },
    },
  },
  summary: 'create an array (zeros); the database is created if missing',
  help: `Usage: bigfile create DB NAME --dtype DTYPE --shape N[,M...] [--order C|F] [--blksize 64KiB]

Creates array NAME in database DB (an SQLite file, created if missing), reading as zeros until written.
Exit 4 when NAME exists.

Options:
  --dtype DTYPE    int8 uint8 int16 uint16 int32 uint32 int64 uint64 float16 float32 float64
  --shape N,M,...  the dimensions, e.g. 1000,64 (the first may grow later by append)
  --order C|F      row-major (C, default) or column-major (F) layout
  --blksize SIZE   storage block size, a power of two from 512 B to 16 MiB (default 64KiB)

${COMMON_HELP}`,
  async run(p) {
    const [path, name] = p.positionals
    // Everything is checked before the database is opened (or created): a failed create leaves nothing.
    checkName(name)
    const dtypeText = str(p, 'dtype')
    const shapeText = str(p, 'shape')
    if (dtypeText === undefined) throw new UsageError('create: --dtype is required (e.g. --dtype float64)')
    if (shapeText === undefined) throw new UsageError('create: --shape is required (e.g. --shape 1000,64)')
    const dtype = parseDType(dtypeText)
    const shape = checkShape(parseShape(shapeText))
    if (!Number.isSafeInteger(shape.reduce((x, y) => x * y, 1) * itemsizeOf(dtype)))
      throw new UsageError(`--shape: ${formatShape(shape)} of ${dtype} is too large`)
    const order = parseOrder(str(p, 'order'))
    const blksize = parseBlksize(str(p, 'blksize') ?? '64KiB')
    const ram = makeRam(parseRam(str(p, 'ram')), pagesizeFor(blksize))
    const a = await withDbCreating(path, async (db) => {
      // Before a connection: an existing NAME is "exists" whatever its block size.
      await refuseExisting(db, name, 'bigfile rm it first, or create under another name')
      const conn = db.connect({ ram })
      const a = await BigArray.create(conn, name, { dtype, shape, order, blksize })
      await conn.commit()
      return a
    })
    if (!p.values.quiet)
      console.log(
        `created ${escapeControl(name)}: ${dtype} [${formatShape(shape)}] order ${order}, ${formatBytes(a.size * a.itemsize)} in ${formatBytes(blksize)} blocks`,
      )
    return 0
  },
}
