// bigfile stats DB: how big the database is and where it stands.
import { statSync } from 'node:fs'
import type { Command } from '../command.ts'
import { COMMON_HELP } from '../command.ts'
import { printFields } from '../format.ts'
import { arrayMeta } from '../meta.ts'
import { withReadOnlyDb } from '../session.ts'
import { formatBytes } from '../size.ts'
import { fileSpace, isSqliteFile } from '../sqlite-file.ts'

function fileSize(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

export const stats: Command = {
  spec: { name: 'stats', positionals: ['DB'], options: { json: { type: 'boolean' } } },
  summary: 'files, bytes, head tid, on-disk size, free pages and segment bytes of a database',
  help: `Usage: bigfile stats DB [--json]

Prints the number of files and arrays, their total logical size, the newest tid (head), the size of
the SQLite database file and its write-ahead log on disk (old versions count until \`bigfile pack\`),
the free pages in the file: space left by pack, rm or an aborted import, which SQLite reuses for
later writes and \`bigfile pack\` returns to the file system; and the block segments (DB-seg/, where
the block data lives): their bytes, the bytes of stored block versions (old ones count until
\`bigfile pack\`) and dead bytes no version uses.

Options:
  --json         the figures as one JSON object (sizes in bytes)

${COMMON_HELP}`,
  async run(p) {
    const [path] = p.positionals
    const { files, head } = await withReadOnlyDb(path, async (db) => ({
      files: await db.files(),
      head: await db.head(),
    }))
    // After the close: the write-ahead log is checkpointed (unless another process has the file open).
    const space = isSqliteFile(path) ? fileSpace(path) : undefined
    const s = {
      files: files.length,
      arrays: files.filter((f) => arrayMeta(f) !== undefined).length,
      bytes: files.reduce((n, f) => n + f.size, 0),
      head,
      dbFileBytes: fileSize(path),
      walBytes: fileSize(`${path}-wal`),
      ...(space && {
        pageSize: space.pageSize,
        pages: space.pages,
        freePages: space.freePages,
        segments: space.segments,
        segmentBytes: space.segmentBytes,
        liveBytes: space.liveBytes,
        deadBytes: space.deadBytes,
      }),
    }
    if (p.values.json) {
      console.log(JSON.stringify(s))
      return 0
    }
    const fields: [string, string][] = [
      ['files', String(s.files)],
      ['arrays', String(s.arrays)],
      ['bytes', `${formatBytes(s.bytes)} (${s.bytes} bytes)`],
      ['head tid', String(s.head)],
      ['sqlite file', `${formatBytes(s.dbFileBytes)} (${s.dbFileBytes} bytes)`],
      ['wal file', `${formatBytes(s.walBytes)} (${s.walBytes} bytes)`],
    ]
    if (space) {
      const free = space.freePages * space.pageSize
      fields.push([
        'free pages',
        `${space.freePages.toLocaleString('en-US')} of ${space.pages.toLocaleString('en-US')} pages of ${formatBytes(space.pageSize)}: ${formatBytes(free)}${free > 0 ? ' (bigfile pack returns them)' : ''}`,
      ])
      fields.push([
        'segments',
        `${space.segments} file(s), ${formatBytes(space.segmentBytes)} (${space.segmentBytes} bytes): ${formatBytes(space.liveBytes)} of block versions, ${formatBytes(space.deadBytes)} dead`,
      ])
    }
    printFields(fields)
    return 0
  },
}
