// The crash tests' child: opens the raw file for writing (recovering a crashed commit), prints
// "ready <recovery> <sha256 of the file> <ms since the process started>", then commits k = from, from+1, ...
// printing "k <ms the commit took>" after each (the parent aims its kills by these durations).
// It runs until killed, or for `commits` commits. With `crashAt: n` it SIGKILLs itself just before its
// n-th write-like I/O operation (with `torn`, after writing half of that write's bytes); if it never
// gets there it prints "ops <n> <op kinds>" and exits.
import { readFileSync, writeSync } from 'node:fs'
import { nodeIO, openRawFile } from '../../../src/db/rawfile/index.ts'
import { RAM } from '../../../src/index.ts'
import { BLKSIZE, commitWrites, OFFSET } from './crash-model.ts'
import { FaultIO } from './fault-io.ts'
import { sha256 } from './util.ts'

interface Args {
  path: string
  from: number
  seed: number
  commits?: number
  crashAt?: number
  torn?: boolean
  small?: boolean
}

const args = JSON.parse(process.argv[2]) as Args
const say = (line: string) => writeSync(1, `${line}\n`)
const io = new FaultIO()
const kinds: string[] = []
io.before = (_kind, _n, op, a) => {
  if (_kind !== 'write') return
  kinds.push(op)
  if (io.writes !== args.crashAt) return
  if (args.torn && a.bufs && a.fd !== undefined && a.position !== undefined) {
    const all = Buffer.concat(a.bufs)
    nodeIO.write(a.fd, [all.subarray(0, all.length >> 1)], a.position)
  }
  process.kill(process.pid, 'SIGKILL')
}

const ram = new RAM({ pagesize: BLKSIZE, capacity: 50 * BLKSIZE })
const rf = openRawFile(args.path, { ram, mode: 'rw', offset: OFFSET, blksize: BLKSIZE, io })
say(`ready ${rf.recovery} ${sha256(readFileSync(args.path))} ${performance.now().toFixed(3)}`)
const vma = rf.mmap()
const end = args.commits === undefined ? Number.POSITIVE_INFINITY : args.from + args.commits
for (let k = args.from; k < end; k++) {
  const t0 = performance.now()
  for (const w of commitWrites(args.seed, k, args.small)) vma.writeBytes(w.off, w.data)
  rf.commit()
  say(`${k} ${(performance.now() - t0).toFixed(3)}`)
}
vma.unmap()
rf.close()
say(`ops ${io.writes} ${kinds.join(',')}`)
