// bigfile check DB: verify every stored block and file record against its checksum.
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { VerifyError } from '../exit.ts'
import { onInterrupt } from '../interrupt.ts'
import { ProgressLine } from '../progress.ts'
import { withReadOnlyDb } from '../session.ts'
import { formatBytes, formatSeconds } from '../size.ts'

/** How many damaged rows are listed (all are counted). */
const LIST = 20

export const check: Command = {
  spec: { name: 'check', positionals: ['DB'], options: { json: { type: 'boolean' } } },
  summary: 'verify the checksum of every stored block and file record',
  help: `Usage: bigfile check DB [--json]

Reads every stored version of every block (every version a snapshot can still read, until
\`bigfile pack\`) and every file record of database DB and verifies its checksum. Opens DB read-only.
Prints what it checked; each damaged block or record is named (file, block, tid) on stderr.
Exit 0 when nothing is damaged, 1 on damage.

Options:
  --json         the result as one JSON object on stdout

${COMMON_HELP}`,
  async run(p) {
    const [path] = p.positionals
    const bar = new ProgressLine({ label: 'check', quiet: p.values.quiet === true })
    using interrupt = onInterrupt()
    const r = await withReadOnlyDb(path, async (db) => {
      try {
        return await db.check({
          signal: interrupt.signal,
          onProgress: (x) => bar.update(x.bytes, x.totalBytes),
        })
      } finally {
        bar.end()
      }
    })
    const damaged = r.damage.map((d) => ({ file: d.file, blk: d.blk ?? null, tid: d.tid }))
    if (p.values.json) {
      const { blocks, records, bytes } = r
      console.log(JSON.stringify({ blocks, records, bytes, damaged }))
    } else {
      console.log(
        `checked ${r.blocks} block versions (${formatBytes(r.bytes)}) and ${r.records} file records in ${formatSeconds(bar.elapsed)}`,
      )
    }
    if (r.damage.length === 0) return 0
    for (const d of r.damage.slice(0, LIST)) console.error(`bigfile: ${d.message}`)
    if (r.damage.length > LIST) console.error(`bigfile: ... and ${r.damage.length - LIST} more`)
    throw new VerifyError(`${path}: ${r.damage.length} damaged block(s) or record(s)`)
  },
}
