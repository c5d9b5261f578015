// The child of store-crash.test.ts: commits `acks` transactions through the SQLite storage, then writes
// the blocks of one more (appended to segments, not indexed) and reports it, waiting to be killed there.
// Block `blk` of transaction n holds the byte (n * 7 + blk) & 0xff throughout.
import { SQLiteStorage } from '../../src/db/sqlite/storage.ts'

export const BS = 64 << 10
export const BLOCKS = 24

export function fill(n: number, blk: number): number {
  return (n * 7 + blk) & 0xff
}

if (process.send) {
  const [path, acksText, segText] = process.argv.slice(2)
  const s = SQLiteStorage.open(path, { _segmentBytes: Number(segText) })
  const transaction = async (n: number) => {
    const txn = await s.begin()
    let file = (await s.fileByName('f', n - 1))?.id
    if (file === undefined)
      file = await txn.createFile({ name: 'f', blksize: BS, size: BS * BLOCKS, meta: {} })
    await txn.updateFile(file, { meta: { n } })
    for (let blk = 0; blk < BLOCKS; blk++)
      await txn.writeBlock(file, blk, new Uint8Array(BS).fill(fill(n, blk)))
    return txn
  }
  let n = await s.head()
  for (let i = 0; i < Number(acksText); i++) {
    const txn = await transaction(++n)
    await txn.commit()
    process.send({ committed: n })
  }
  await transaction(++n) // appended (1.5 MiB: the batch is flushed to the segment), never committed
  process.send({ appended: n })
  setInterval(() => {}, 1000)
}
