// bigfile export DB NAME FILE: an array to a .npy or raw binary file, written whole or not at all.
import { existsSync, renameSync, rmSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { BigArray, exportNpy, exportRaw } from '../../array/index.ts'
import { ExistsError, NotFoundError } from '../../errors.ts'
import { parseRam, str } from '../args.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { UsageError } from '../exit.ts'
import { onInterrupt } from '../interrupt.ts'
import { formatOf } from '../io.ts'
import { formatShape } from '../meta.ts'
import { ProgressLine } from '../progress.ts'
import { makeRam, pagesizeFor, withReadOnlyDb } from '../session.ts'
import { formatBytes, formatRate, formatSeconds } from '../size.ts'

export const exportCmd: Command = {
  spec: {
    name: 'export',
    positionals: ['DB', 'NAME', 'FILE'],
    options: { format: { type: 'string' }, force: { type: 'boolean', short: 'f' } },
  },
  summary: 'export an array to a .npy or raw binary file',
  help: `Usage: bigfile export DB NAME FILE.npy|FILE.raw [--format npy|raw] [--force]

Writes array NAME of database DB to FILE: a .npy file (dtype, shape and order in its header), or any
other name as raw little-endian elements in C order. The data goes to FILE.partial-<pid> first and is
renamed to FILE when complete, so FILE is never half-written (Ctrl-C removes the partial file).
Exit 4 when FILE exists (unless --force), 3 when NAME or FILE's directory does not.

Options:
  --format npy|raw   override the choice made by the file's extension
  -f, --force        overwrite FILE

${COMMON_HELP}`,
  async run(p) {
    const [path, name, file] = p.positionals
    const format = formatOf(file, str(p, 'format'))
    checkOutputPath(file)
    if (existsSync(file) && !p.values.force) throw new ExistsError(`${file} exists (--force to overwrite)`)
    const ramBytes = parseRam(str(p, 'ram'))
    const partial = `${file}.partial-${process.pid}`
    const bar = new ProgressLine({ label: `export ${name}`, quiet: p.values.quiet === true })
    const a = await withReadOnlyDb(path, async (db) => {
      const rec = await db.stat(name)
      const conn = db.connect({ ram: makeRam(ramBytes, pagesizeFor(rec.blksize)) })
      const a = await BigArray.open(conn, name)
      // A second Ctrl-C exits at once: the partial file goes too.
      using interrupt = onInterrupt({ cleanup: () => rmSync(partial, { force: true }) })
      try {
        const progress = { signal: interrupt.signal, onProgress: bar.update }
        if (format === 'npy') await exportNpy(a, partial, progress)
        else await exportRaw(a, partial, progress)
        renameSync(partial, file)
      } catch (e) {
        rmSync(partial, { force: true })
        throw e
      } finally {
        bar.end()
      }
      return a
    })
    if (!p.values.quiet) {
      const bytes = a.size * a.itemsize
      console.log(
        `exported ${name}: ${a.dtype} [${formatShape(a.shape)}] to ${file}, ${formatBytes(bytes)} in ${formatSeconds(bar.elapsed)} (${formatRate(bytes, bar.elapsed)})`,
      )
    }
    return 0
  },
}

/** FILE's directory must exist (checked before any work, so the error names FILE, not the partial file). */
function checkOutputPath(file: string): void {
  const dir = dirname(file)
  let st: ReturnType<typeof statSync>
  try {
    st = statSync(dir)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new NotFoundError(`cannot write ${file}: directory ${dir} does not exist`)
    if (code === 'ENOTDIR') throw new UsageError(`cannot write ${file}: ${dir} is not a directory`)
    throw e
  }
  if (!st.isDirectory()) throw new UsageError(`cannot write ${file}: ${dir} is not a directory`)
  if (statSync(file, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`cannot write ${file}: it is a directory`)
}
