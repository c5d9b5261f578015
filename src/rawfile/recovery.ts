// Recovery of a journal left by a crashed commit: at open (writer or reader) and after a commit that
// failed past its commit point.
import { CorruptError } from '../errors.ts'
import { ioError, type RawIO, wrapIO } from './io.ts'
import { applyJournal, type Recovery, scanJournal } from './journal-replay.ts'
import { WriterLock } from './lock.ts'

/** The journal, opened (never created) by recovery: the rules of a file of our own. */
const OWN = { mode: 0o600 }

/**
 * A reader never replays under a live writer (the journal is that writer's commit in flight). Without
 * one, a journal left by a crash is recovered here, briefly taking the lock and write access.
 */
export function recoverForReader(
  io: RawIO,
  real: string,
  jpath: string,
  lockPath: string,
  fileSize: number,
): Recovery {
  let jfd: number
  try {
    jfd = io.open(jpath, 'r', OWN)
  } catch (e) {
    if ((e as { code?: unknown }).code === 'ENOENT') return 'none'
    throw ioError(`cannot open the journal ${jpath}`, e)
  }
  try {
    if (wrapIO(`cannot stat ${jpath}`, () => io.size(jfd)) === 0) return 'none'
  } finally {
    io.close(jfd)
  }
  const lock = WriterLock.try(lockPath, 0o600)
  if (!lock) return 'none'
  try {
    const dfd = wrapIO(`${real} has a journal to replay but cannot be opened for writing`, () =>
      io.open(real, 'rw'),
    )
    try {
      const wfd = wrapIO(`cannot open the journal ${jpath} for recovery`, () => io.open(jpath, 'rw', OWN))
      try {
        return replayOrDiscard(io, wfd, dfd, jpath, fileSize)
      } finally {
        io.close(wfd)
      }
    } finally {
      io.close(dfd)
    }
  } finally {
    lock.release()
  }
}

/** Replays a valid journal, drops a torn one; either way leaves it empty. */
export function replayOrDiscard(
  io: RawIO,
  jfd: number,
  dfd: number,
  jpath: string,
  fileSize: number,
): Recovery {
  return wrapIO(`recovering the journal ${jpath}`, () => {
    const size = io.size(jfd)
    if (size === 0) return 'none'
    const scan = scanJournal(io, jfd, size, jpath)
    let result: Recovery = 'discarded'
    if (scan.valid) {
      if (scan.dataSize !== fileSize) {
        throw new CorruptError(
          `journal ${jpath} was written for a raw file of ${scan.dataSize} bytes, but the file has ${fileSize}: ` +
            'it belongs to another version of the file; move it away if the file was replaced on purpose',
        )
      }
      applyJournal(io, jfd, dfd, scan.records)
      result = 'replayed'
    }
    io.truncate(jfd, 0)
    io.fsync(jfd)
    return result
  })
}
