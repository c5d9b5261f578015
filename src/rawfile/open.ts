// Opening a raw file: resolve the path, open the data file, take the writer lock and recover a journal
// left by a crashed commit, before the RawFile exists.
import { realpathSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { InvalidArgumentError } from '../errors.ts'
import { ioError, nodeIO, wrapIO } from './io.ts'
import type { Recovery } from './journal-replay.ts'
import { WriterLock } from './lock.ts'
import { checkOptions, type RawFileOptions, resolveLength } from './options.ts'
import { RawFile } from './rawfile.ts'
import { recoverForReader, replayOrDiscard } from './recovery.ts'

/** Opens (and, if a crashed commit left a journal, recovers) a raw file. */
export function openRawFile(path: string, options: RawFileOptions): RawFile {
  if (typeof path !== 'string' || path === '') {
    throw new InvalidArgumentError(`path must be a non-empty string, got ${JSON.stringify(path)}`)
  }
  const o = checkOptions(options)
  const io = options.io ?? nodeIO
  let real: string
  try {
    // One lock and one journal per file, whatever the path (relative, symlink) it was opened by.
    real = realpathSync(path)
  } catch (e) {
    throw ioError(`cannot open raw file ${path}`, e)
  }
  const jpath = `${real}.bigfile-journal`
  const lockPath = `${real}.bigfile-lock`
  const cleanup: (() => void)[] = []
  try {
    const dfd = wrapIO(`cannot open raw file ${path}`, () => io.open(real, o.mode === 'rw' ? 'rw' : 'r'))
    cleanup.push(() => io.close(dfd))
    const fileSize = wrapIO(`cannot stat raw file ${path}`, () => io.size(dfd))
    const length = resolveLength(o, fileSize, path)
    let lock: WriterLock | undefined
    let jfd = -1
    let recovery: Recovery
    if (o.mode === 'rw') {
      // The journal and the lock are no more readable than the data file they hold copies of.
      const own = { mode: wrapIO(`cannot stat raw file ${path}`, () => statSync(real).mode & 0o666) }
      lock = WriterLock.acquire(lockPath, `raw file ${path}`, own.mode)
      cleanup.push(() => lock?.release())
      jfd = wrapIO(`cannot open the journal ${jpath}`, () => io.open(jpath, 'create', own))
      cleanup.push(() => io.close(jfd))
      // The journal's directory entry must be durable before any commit relies on it.
      wrapIO(`cannot sync the directory of ${jpath}`, () => io.fsyncDir(dirname(jpath)))
      recovery = replayOrDiscard(io, jfd, dfd, jpath, fileSize)
    } else {
      recovery = recoverForReader(io, real, jpath, lockPath, fileSize)
    }
    return new RawFile({
      path,
      mode: o.mode,
      blksize: o.blksize,
      offset: o.offset,
      length,
      ram: options.ram,
      options,
      io,
      dfd,
      jfd,
      jpath,
      lock,
      fileSize,
      recovery,
    })
  } catch (e) {
    for (const f of cleanup.reverse()) {
      try {
        f()
      } catch {}
    }
    throw e
  }
}
