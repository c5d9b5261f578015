// bigfile show DB NAME [INDEX]: the data itself, as NumPy prints it (a preview of a big array: its first
// and last elements along each axis).
import { BigArray } from '../../array/index.ts'
import { parseCount, parseRam, str } from '../args.ts'
import { AT_OPTION, atHelp, resolveAt } from '../at.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { preview } from '../preview.ts'
import { select } from '../selection.ts'
import { makeRam, pagesizeFor, withReadOnlyDb } from '../session.ts'

export const show: Command = {
  spec: {
    name: 'show',
    positionals: ['DB', 'NAME'],
    optional: ['INDEX'],
    options: { edgeitems: { type: 'string' }, threshold: { type: 'string' }, ...AT_OPTION },
  },
  summary: 'print an array (or a part of it) as NumPy does, big ones elided with ...',
  help: `Usage: bigfile show DB NAME [INDEX] [--edgeitems 3] [--threshold 1000] [--at TID|TIME]

Prints array NAME of database DB, or the part INDEX selects, as NumPy's print() does: nested brackets,
one width for all elements. An array of more than --threshold elements is summarized: --edgeitems
elements at each end of every axis, "..." between. Only the elements shown are read.

INDEX is NumPy's basic indexing: integers (negative ones count from the end) and slices start:stop:step
separated by commas, e.g. 5, -1, 2:10, ::2, 3,1:4 or [:,0]; missing trailing axes are whole. An integer
out of bounds or too many indexes is a usage error (exit 2). Exit 3 when there is no such array.

Options:
  --edgeitems N    elements shown at each end of an axis when summarizing (default 3)
  --threshold N    summarize arrays of more elements than this (default 1000)
${atHelp(19)}

${COMMON_HELP}`,
  async run(p) {
    const [path, name, index] = p.positionals
    const edgeitems = parseCount(str(p, 'edgeitems') ?? '3', '--edgeitems')
    const threshold = parseCount(str(p, 'threshold') ?? '1000', '--threshold')
    const ramBytes = parseRam(str(p, 'ram'))
    const text = await withReadOnlyDb(path, async (db) => {
      const at = await resolveAt(db, p)
      const rec = await db.stat(name, { at })
      const conn = db.connect({ ram: makeRam(ramBytes, pagesizeFor(rec.blksize)), at })
      using a = await BigArray.open(conn, name)
      // Awaited here: the array's window must stay mapped until the preview has read it.
      const shown = await preview(select(a, index), { edgeitems, threshold })
      return shown
    })
    console.log(text)
    return 0
  },
}
