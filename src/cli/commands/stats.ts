// bigfile stats DB: how big the database is and where it stands.
import { statSync } from 'node:fs'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { printFields } from '../format.ts'
import { arrayMeta } from '../meta.ts'
import { withReadOnlyDb } from '../session.ts'
import { formatBytes } from '../size.ts'

function fileSize(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

export const stats: Command = {
  spec: { name: 'stats', positionals: ['DB'], options: { json: { type: 'boolean' } } },
  summary: 'files, bytes, head tid and on-disk size of a database',
  help: `Usage: bigfile stats DB [--json]

Prints the number of files and arrays, their total logical size, the newest tid (head), and the size of
the SQLite database file and its write-ahead log on disk (old versions count until \`bigfile pack\`).

Options:
  --json         the figures as one JSON object

${COMMON_HELP}`,
  async run(p) {
    const [path] = p.positionals
    const { files, head } = await withReadOnlyDb(path, async (db) => ({
      files: await db.files(),
      head: await db.head(),
    }))
    const s = {
      files: files.length,
      arrays: files.filter((f) => arrayMeta(f) !== undefined).length,
      bytes: files.reduce((n, f) => n + f.size, 0),
      head,
      dbFileBytes: fileSize(path),
      walBytes: fileSize(`${path}-wal`),
    }
    if (p.values.json) {
      console.log(JSON.stringify(s))
      return 0
    }
    printFields([
      ['files', String(s.files)],
      ['arrays', String(s.arrays)],
      ['bytes', `${formatBytes(s.bytes)} (${s.bytes} bytes)`],
      ['head tid', String(s.head)],
      ['sqlite file', `${formatBytes(s.dbFileBytes)} (${s.dbFileBytes} bytes)`],
      ['wal file', `${formatBytes(s.walBytes)} (${s.walBytes} bytes)`],
    ])
    return 0
  },
}
