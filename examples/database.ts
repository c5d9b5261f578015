// The database layer under BigArray: files of blocks mapped through a FileH, snapshots per connection,
// commit/abort, and what another connection sees. Run:
// node --import ./scripts/bigfile-from-source.ts examples/database.ts
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase, RAM } from 'bigfile'

const dir = mkdtempSync(join(tmpdir(), 'bigfile-example-'))
try {
  const ram = new RAM({ pagesize: 64 << 10, capacity: 8 << 20 })
  await using db = await openDatabase(join(dir, 'files.bigfile'))
  const writer = db.connect({ ram })
  const reader = db.connect({ ram })

  const f = await writer.open('log', { create: { blksize: 64 << 10, meta: { kind: 'counters' } } })
  await f.resize(1 << 20)
  const vma = f.mmap(0, 16) // 1 MiB window
  vma.setFloat64(0, 42)
  vma.setFloat64(8 * 100_000, 7)
  console.log('committed tid', await writer.commit())

  // The reader's snapshot predates that commit: the file does not exist for it until it syncs.
  console.log(
    'reader at',
    reader.at,
    'files',
    (await reader.list()).map((x) => x.name),
  )
  await reader.sync()
  const r = await reader.open('log')
  console.log('reader at', reader.at, 'reads', r.mmap(0, 16).getFloat64(0), 'meta', r.meta)

  // An uncommitted change is dropped by abort.
  vma.setFloat64(0, -1)
  await writer.abort()
  console.log('after abort', vma.getFloat64(0))
  vma.unmap()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
