// bigfile import DB NAME FILE: a .npy or raw binary file into a new array, all or nothing under NAME.
import { type BigArray, importNpy, importRaw, itemsizeOf } from '../../array/index.ts'
import { checkName } from '../../db/check.ts'
import type { Connection } from '../../db/connection.ts'
import type { Database } from '../../db/database.ts'
import { ExistsError, NotFoundError } from '../../errors.ts'
import { parseBlksize, parseDType, parseOrder, parseRam, parseShape, str } from '../args.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { UsageError } from '../exit.ts'
import { onInterrupt } from '../interrupt.ts'
import { formatOf, inputSize, stagingName } from '../io.ts'
import { formatShape } from '../meta.ts'
import { ProgressLine } from '../progress.ts'
import { makeRam, openDb, pagesizeFor } from '../session.ts'
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
defaults to one dimension of the file's length).

The import commits as it goes (dirty pages cannot leave RAM before commit), into a staging name that
is renamed to NAME only when everything is in: NAME never holds a partial array. On Ctrl-C or an error
the staging file is deleted (should the process be killed outright, or a second Ctrl-C exit at once,
\`bigfile ls\` shows a leftover ".importing.<pid>...." name: remove it with \`bigfile rm\`). Exit 4
when NAME exists.

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
    checkName(name) // as create does: a name it refuses is a usage error before any work
    const format = formatOf(file, str(p, 'format'))
    const bytes = inputSize(file)
    const blksize = parseBlksize(str(p, 'blksize') ?? '64KiB')
    const ramBytes = parseRam(str(p, 'ram'))
    const ce = str(p, 'commit-every')
    const commitEvery = ce === undefined ? undefined : parseSize(ce, '--commit-every')
    const raw = format === 'raw' ? rawLayout(p, bytes) : undefined
    if (format === 'npy' && (str(p, 'dtype') ?? str(p, 'shape') ?? str(p, 'order')) !== undefined) {
      throw new UsageError(
        'import: --dtype, --shape and --order are for raw files; a .npy file carries its own',
      )
    }
    const ram = makeRam(ramBytes, pagesizeFor(blksize))

    const db = await openDb(path, { create: true })
    try {
      await refuseExisting(db, name)
      const staging = stagingName(name)
      const conn = db.connect({ ram })
      using interrupt = onInterrupt()
      const bar = new ProgressLine({ label: `import ${name}`, quiet: p.values.quiet === true })
      const progress = {
        signal: interrupt.signal,
        onProgress: bar.update,
        onCommit: bar.committing,
        commitEvery,
      }
      let a: BigArray
      try {
        a = raw
          ? await importRaw(conn, staging, file, { ...raw, blksize, ...progress })
          : await importNpy(conn, staging, file, { blksize, ...progress })
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
          `imported ${name}: ${a.dtype} [${formatShape(a.shape)}] order ${a.order}, ${formatBytes(bytes)} in ${formatSeconds(ms)} (${formatRate(bytes, ms)})`,
        )
      }
    } finally {
      await db.close()
    }
    return 0
  },
}

/** The raw file's dtype, shape and order from the options, checked against its size. */
function rawLayout(p: Parameters<Command['run']>[0], bytes: number) {
  const dtypeText = str(p, 'dtype')
  if (dtypeText === undefined)
    throw new UsageError('import: a raw file needs --dtype (and optionally --shape)')
  const dtype = parseDType(dtypeText)
  const itemsize = itemsizeOf(dtype)
  const shapeText = str(p, 'shape')
  let shape: number[]
  if (shapeText === undefined) {
    if (bytes % itemsize !== 0)
      throw new UsageError(`import: the file's ${bytes} bytes are not a whole number of ${dtype} elements`)
    shape = [bytes / itemsize]
  } else {
    shape = parseShape(shapeText)
    const need = shape.reduce((x, y) => x * y, 1) * itemsize
    if (need !== bytes) {
      throw new UsageError(
        `import: shape ${formatShape(shape)} of ${dtype} is ${need} bytes, the file has ${bytes}`,
      )
    }
  }
  return { dtype, shape, order: parseOrder(str(p, 'order')) }
}

async function refuseExisting(db: Database, name: string): Promise<void> {
  try {
    await db.stat(name)
  } catch (e) {
    if (e instanceof NotFoundError) return
    throw e
  }
  throw new ExistsError(`${name} exists (bigfile rm it first, or import under another name)`)
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
