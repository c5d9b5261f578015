// The child of store-pack.test.ts: reads every block of 'f' at the newest tid, over and over, until told
// to stop, checking each block against the transaction number in the file's metadata; any error but a
// snapshot packed away meanwhile (read again at the new head) ends it with a nonzero exit. Reports how
// many full reads it made.
import { SQLiteStorage } from '../../src/db/sqlite/storage.ts'
import { StaleSnapshotError } from '../../src/errors.ts'

if (process.send) {
  const [path, bsText, blocksText] = process.argv.slice(2)
  const bs = Number(bsText)
  const blocks = Number(blocksText)
  const s = SQLiteStorage.open(path, { readOnly: true })
  let stop = false
  process.on('message', () => {
    stop = true
  })
  const buf = new Uint8Array(bs * blocks)
  let reads = 0
  const step = () => {
    for (let k = 0; k < 20 && !stop; k++) {
      const at = s.head()
      const f = s.fileByName('f', at)
      if (!f) continue
      const n = f.meta.n as number
      // Alternately block by block and as one range.
      try {
        if (reads % 2 === 0)
          for (let b = 0; b < blocks; b++) s.loadBlock(f.id, b, at, buf.subarray(b * bs, (b + 1) * bs))
        else s.loadBlocks(f.id, 0, blocks, at, buf)
      } catch (e) {
        if (e instanceof StaleSnapshotError) continue
        throw e
      }
      for (let b = 0; b < blocks; b++) {
        if (buf[b * bs] !== ((n + b) & 0xff) || buf[(b + 1) * bs - 1] !== ((n + b) & 0xff))
          throw new Error(`block ${b} at tid ${at} is not transaction ${n}'s`)
      }
      reads++
    }
    if (stop) {
      process.send?.({ reads })
      s.close()
      process.disconnect()
    } else setImmediate(step)
  }
  process.send({ ready: true })
  step()
}
