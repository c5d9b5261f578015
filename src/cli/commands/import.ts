// bigfile import DB NAME FILE: a .npy or raw binary file into a new array, all or nothing under NAME.
import {
  type BigArray,
  checkNpySize,
  importNpyFrom,
  importRawFrom,
  itemsizeOf,
  type NpyHeader,
  readNpyHeader,
} from '../../array/index.ts'
import { checkName } from '../../db/check.ts'
import type { Connection } from '../../db/connection.ts'
import type { Database } from '../../db/database.ts'
import { NotFoundError } from '../../errors.ts'
import { parseBlksize, parseDType, parseOrder, parseRam, parseShape, str } from '../args.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { UsageError } from '../exit.ts'
import { escapeControl } from '../format.ts'
import { onInterrupt } from '../interrupt.ts'
import { formatOf, openInput, refuseExisting, STDIO, stagingName } from '../io.ts'
import { formatShape } from '../meta.ts'
import { withDbCreating } from '../new-db.ts'
import { ProgressLine } from '../progress.ts'
import { makeRam, pagesizeFor } from '../session.ts'
import { formatBytes, formatRate, formatSeconds, parseSize } from '../size.ts'

export const importCmd: Command = {
  spec: {
    name: 'import',
    positionals: ['DB', 'NAME', 'FILE'],
    options: {
      format: { type: 'string' },
      dtype: { type: 'string' },
      shape: { type: 'string' },
      order: { type: 'string' },
      blksize: { type: 'string' },
      'commit-every': { type: 'string' },
    },
  },
  summary: 'import a .npy or raw binary file as a new array',
  help: `Usage: bigfile import DB NAME FILE.npy [--blksize 64KiB]
       bigfile import DB NAME FILE.raw --dtype DTYPE [--shape N,M,...] [--order C|F] [--blksize 64KiB]

Imports FILE into a new array NAME of database DB (created if missing). A .npy file carries its dtype,
shape and order; any other file is raw little-endian elements in C order and needs --dtype (--shape
defaults to one dimension of the file's length). FILE "-" reads stdin (raw unless --format npy; raw
from stdin needs --shape). The input is checked before the database is opened: a failed import
creates nothing.

The import commits as it goes (dirty pages cannot leave RAM before commit), into a staging name that
is renamed to NAME only when everything is in: NAME never holds a partial array. On Ctrl-C or an error
the staging file is deleted (should the process be killed outright, or a second Ctrl-C exit at once,
\`bigfile ls\` shows a leftover ".importing.<pid>...." name: remove it with \`bigfile rm\`). Exit 4
when NAME exists, 3 when FILE does not, 1 when FILE is not a valid .npy file (or holds more or fewer
bytes than its header or --shape says), 2 for an unsupported dtype.

Options:
  --format npy|raw      override the choice made by the file's extension
  --dtype DTYPE         raw only: element type
  --shape N,M,...       raw only: dimensions (their product times the itemsize must be the file size)
  --order C|F           raw only: layout of the new array (the file is read in C order)
  --blksize SIZE        storage block size (default 64KiB)
  --commit-every SIZE   also commit after every SIZE bytes (default: one transaction)

${COMMON_HELP}`,
  async run(p) {
    const [path, name, file] = p.positionals
    // (1) The command line, (2) the input and its header, and only then (3) the database: a failed
    // import leaves no new database behind.
    checkName(name) // as create does: a name it refuses is a usage error before any work
    const format = formatOf(file, str(p, 'format'))
    const blksize = parseBlksize(str(p, 'blksize') ?? '64KiB')
    const ramBytes = parseRam(str(p, 'ram'))
    const ce = str(p, 'commit-every')
    const commitEvery = ce === undefined ? undefined : parseSize(ce, '--commit-every')
    if (format === 'npy' && (str(p, 'dtype') ?? str(p, 'shape') ?? str(p, 'order')) !== undefined) {
      throw new UsageError(
        'import: --dtype, --shape and --order are for raw files; a .npy file carries its own',
      )
    }
    if (format === 'raw' && str(p, 'dtype') === undefined)
      throw new UsageError('import: a raw file needs --dtype (and optionally --shape)')
    if (format === 'raw' && file === STDIO && str(p, 'shape') === undefined)
      throw new UsageError('import: raw data from stdin needs --shape (its length is not known in advance)')
    const ram = makeRam(ramBytes, pagesizeFor(blksize))

    await using input = await openInput(file)
    const what = file === STDIO ? 'stdin' : file
    let header: NpyHeader | undefined
    let raw: ReturnType<typeof rawLayout> | undefined
    if (format === 'npy') {
      header = await readNpyHeader(input.src, what)
      if (input.size !== undefined) checkNpySize(header, input.size, what)
    } else raw = rawLayout(p, input.size)
    const bytes = header ? header.dataBytes : (raw?.bytes ?? 0)

    await withDbCreating(path, async (db) => {
      await refuseExisting(db, name, 'bigfile rm it first, or import under another name')
      const staging = stagingName(name)
      const conn = db.connect({ ram })
      using interrupt = onInterrupt()
      const label = escapeControl(name)
      const bar = new ProgressLine({ label: `import ${label}`, quiet: p.values.quiet === true })
      const progress = {
        signal: interrupt.signal,
        onProgress: bar.update,
        onCommit: bar.committing,
        commitEvery,
        what,
      }
      let a: BigArray
      try {
        a = header
          ? await importNpyFrom(conn, staging, input.src, header, {
              blksize,
              // a regular file reads at disk speed: its blocks go straight into one storage transaction
              straight: input.size !== undefined,
              ...progress,
            })
          : await importRawFrom(conn, staging, input.src, { ...(raw as RawLayout), blksize, ...progress })
        bar.committing()
        await conn.commit()
        await db.renameFile(staging, name)
      } catch (e) {
        await discardStaging(db, conn, staging)
        throw e
      } finally {
        bar.end()
      }
      if (!p.values.quiet) {
        const ms = bar.elapsed
        console.log(
          `imported ${label}: ${a.dtype} [${formatShape(a.shape)}] order ${a.order}, ${formatBytes(bytes)} in ${formatSeconds(ms)} (${formatRate(bytes, ms)})`,
        )
      }
    })
    return 0
  },
}

type RawLayout = NonNullable<ReturnType<typeof rawLayout>>

/** The raw input's dtype, shape and order from the options, checked against its size when known. */
function rawLayout(p: Parameters<Command['run']>[0], bytes: number | undefined) {
  const dtype = parseDType(str(p, 'dtype') ?? '')
  const itemsize = itemsizeOf(dtype)
  const shapeText = str(p, 'shape')
  let shape: number[]
  if (shapeText === undefined) {
    const n = bytes ?? 0
    if (n % itemsize !== 0)
      throw new UsageError(`import: the file's ${n} bytes are not a whole number of ${dtype} elements`)
    shape = [n / itemsize]
  } else {
    shape = parseShape(shapeText)
    const need = shape.reduce((x, y) => x * y, 1) * itemsize
    if (!Number.isSafeInteger(need))
      throw new UsageError(`--shape: ${formatShape(shape)} of ${dtype} is too large`)
    if (bytes !== undefined && need !== bytes) {
      throw new UsageError(
        `import: shape ${formatShape(shape)} of ${dtype} is ${need} bytes, the file has ${bytes}`,
      )
    }
  }
  return {
    dtype,
    shape,
    order: parseOrder(str(p, 'order')),
    bytes: shape.reduce((x, y) => x * y, 1) * itemsize,
  }
}

/** Aborts the transaction and deletes whatever the import committed under the staging name. */
async function discardStaging(db: Database, conn: Connection, staging: string): Promise<void> {
  await conn.abort().catch(() => {})
  try {
    await db.deleteFile(staging)
  } catch (e) {
    if (!(e instanceof NotFoundError)) throw e
  }
}
