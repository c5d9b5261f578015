// Holds a raw file open for writing until killed: the lock tests' other process.
import { openRawFile } from '../../../src/db/rawfile/index.ts'
import { RAM } from '../../../src/index.ts'

const ram = new RAM({ pagesize: 4096, capacity: 8 * 4096 })
const rf = openRawFile(process.argv[2], { ram, mode: 'rw' })
process.stdout.write(`locked ${rf.nblocks}\n`)
// Keep rf reachable: a collected RawFile would close its lock database and free the lock.
setInterval(() => void rf, 1 << 30)
