// bigfile export DB NAME FILE: an array to a .npy or raw binary file, written whole or not at all.
import { statSync } from 'node:fs'
import { dirname } from 'node:path'
import { BigArray, type ByteSink, fileSink, streamSink, writeNpy, writeRaw } from '../../array/index.ts'
import { ExistsError, NotFoundError } from '../../errors.ts'
import { checkTarget, TempFile } from '../../util/publish.ts'
import { parseRam, str } from '../args.ts'
import { AT_OPTION, atHelp, resolveAt } from '../at.ts'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { UsageError } from '../exit.ts'
import { escapeControl } from '../format.ts'
import { onInterrupt } from '../interrupt.ts'
import { formatOf, STDIO } from '../io.ts'
import { formatShape } from '../meta.ts'
import { ProgressLine } from '../progress.ts'
import { makeRam, pagesizeFor, withReadOnlyDb } from '../session.ts'
import { formatBytes, formatRate, formatSeconds } from '../size.ts'

export const exportCmd: Command = {
  spec: {
    name: 'export',
    positionals: ['DB', 'NAME', 'FILE'],
    options: { format: { type: 'string' }, force: { type: 'boolean', short: 'f' }, ...AT_OPTION },
  },
  summary: 'export an array to a .npy or raw binary file',
  help: `Usage: bigfile export DB NAME FILE.npy|FILE.raw|- [--format npy|raw] [--force] [--at TID|TIME]

Writes array NAME of database DB to FILE: a .npy file (dtype, shape and order in its header), or any
other name as raw little-endian elements in C order. FILE "-" writes to stdout (raw unless --format
npy; the summary line then goes to stderr). The data goes to a new private file FILE.partial-<random>
first and gets the name FILE only when complete, so FILE is never half-written (Ctrl-C removes the
partial file). Without --force, FILE must not exist, also when the export ends (a FILE created
meanwhile is kept, exit 4); --force replaces only a regular file, never a directory, symlink, FIFO or
device (exit 2). Exit 3 when NAME or FILE's directory does not exist.

Options:
  --format npy|raw   override the choice made by the file's extension
  -f, --force        replace FILE if it is a regular file
${atHelp(21)}

${COMMON_HELP}`,
  async run(p) {
    const [path, name, file] = p.positionals
    const format = formatOf(file, str(p, 'format'))
    const force = p.values.force === true
    const toStdout = file === STDIO
    if (toStdout) {
      if (process.stdout.isTTY)
        throw new UsageError('export: not writing binary data to a terminal (redirect or pipe stdout)')
    } else {
      checkOutputDir(file)
      try {
        checkTarget(file, { replace: force }) // again at the end: see TempFile.publish
      } catch (e) {
        if (e instanceof ExistsError) throw new ExistsError(`${file} exists (--force to replace it)`)
        throw e
      }
    }
    const ramBytes = parseRam(str(p, 'ram'))
    const label = escapeControl(name)
    const bar = new ProgressLine({ label: `export ${label}`, quiet: p.values.quiet === true })
    const a = await withReadOnlyDb(path, async (db) => {
      const at = await resolveAt(db, p)
      const rec = await db.stat(name, { at })
      const conn = db.connect({ ram: makeRam(ramBytes, pagesizeFor(rec.blksize)), at })
      const a = await BigArray.open(conn, name)
      const tmp = toStdout ? undefined : await TempFile.create(file)
      // A second Ctrl-C exits at once: the partial file goes too.
      using interrupt = onInterrupt({ cleanup: () => tmp?.discardSync() })
      try {
        const progress = { signal: interrupt.signal, onProgress: bar.update }
        const out: ByteSink = tmp ? fileSink(tmp.handle) : streamSink(process.stdout)
        if (format === 'npy') await writeNpy(a, out, progress)
        else await writeRaw(a, out, progress)
        await tmp?.publish({ replace: force }).catch((e) => {
          if (!(e instanceof ExistsError)) throw e
          throw new ExistsError(`${file} appeared while the export ran; it was kept (--force to replace it)`)
        })
      } finally {
        await tmp?.discard()
        bar.end()
      }
      return a
    })
    if (!p.values.quiet) {
      const bytes = a.size * a.itemsize
      const line = `exported ${label}: ${a.dtype} [${formatShape(a.shape)}] to ${toStdout ? 'stdout' : escapeControl(file)}, ${formatBytes(bytes)} in ${formatSeconds(bar.elapsed)} (${formatRate(bytes, bar.elapsed)})`
      if (toStdout) console.error(line)
      else console.log(line)
    }
    return 0
  },
}

/** FILE's directory must exist (checked before any work, so the error names FILE, not the partial file). */
function checkOutputDir(file: string): void {
  const dir = dirname(file)
  let st: ReturnType<typeof statSync>
  try {
    st = statSync(dir)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      throw new NotFoundError(`cannot write ${file}: directory ${dir} does not exist`, { cause: e })
    if (code === 'ENOTDIR') throw new UsageError(`cannot write ${file}: ${dir} is not a directory`)
    throw e
  }
  if (!st.isDirectory()) throw new UsageError(`cannot write ${file}: ${dir} is not a directory`)
}
