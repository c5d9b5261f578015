// Where exported bytes go and imported bytes come from, in order: a file (positional I/O on a handle)
// or a stream (a pipe: stdin/stdout, which cannot seek).
import type { FileHandle } from 'node:fs/promises'
import { CorruptError, StorageError } from '../errors.ts'
import { checkTarget, TempFile } from '../util/publish.ts'
import type { Progress } from './progress.ts'

/** Takes bytes in order. The buffer may be reused once the returned promise resolves. */
export interface ByteSink {
  /** Takes every byte of `bytes`; resolves once `bytes` may be reused. */
  write(bytes: Uint8Array): Promise<void>
}

/** Gives bytes in order; `read` resolves to how many it put in `buf` at `offset`, 0 at the end. */
export interface ByteSource {
  /** Puts up to `length` bytes into `buf` at `offset`; resolves to how many, 0 at the end. */
  read(buf: Uint8Array, offset: number, length: number): Promise<number>
}

/** Writes to `fh` from byte `pos` on. */
export function fileSink(fh: FileHandle, pos = 0): ByteSink {
  return {
    async write(bytes) {
      let at = 0
      while (at < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, at, bytes.length - at, pos)
        at += bytesWritten
        pos += bytesWritten
      }
    },
  }
}

/** Reads `fh` from byte `pos` on. */
export function fileSource(fh: FileHandle, pos = 0): ByteSource {
  return {
    async read(buf, offset, length) {
      const { bytesRead } = await fh.read(buf, offset, length, pos)
      pos += bytesRead
      return bytesRead
    },
  }
}

/** Writes to a stream (e.g. process.stdout), waiting until each piece is handed to the system. */
export function streamSink(w: NodeJS.WritableStream): ByteSink {
  return {
    write(bytes) {
      return new Promise((resolve, reject) => {
        w.write(bytes, (e) =>
          e ? reject(new StorageError(`cannot write: ${e.message}`, { cause: e })) : resolve(),
        )
      })
    },
  }
}

/** Reads a stream (e.g. process.stdin, or any iterable of chunks) piece by piece: it never holds more than one of its chunks. */
export function streamSource(
  r: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
): ByteSource {
  const it: AsyncIterator<Uint8Array | string> | Iterator<Uint8Array | string> =
    Symbol.asyncIterator in r ? r[Symbol.asyncIterator]() : r[Symbol.iterator]()
  let chunk: Uint8Array = new Uint8Array(0)
  let at = 0
  let ended = false
  return {
    async read(buf, offset, length) {
      while (at >= chunk.length) {
        if (ended) return 0
        const n = await it.next()
        if (n.done) {
          ended = true
          return 0
        }
        chunk = typeof n.value === 'string' ? Buffer.from(n.value) : n.value
        at = 0
      }
      const k = Math.min(length, chunk.length - at)
      buf.set(chunk.subarray(at, at + k), offset)
      at += k
      return k
    },
  }
}

/** Fills `buf` from `src`; CorruptError naming `what` when the source ends first (`more`: bytes still due after `buf`). */
export async function readFully(src: ByteSource, buf: Uint8Array, what: string, more = 0): Promise<void> {
  let got = 0
  while (got < buf.length) {
    const n = await src.read(buf, got, buf.length - got)
    if (n === 0) throw new CorruptError(`${what} is truncated: ${buf.length - got + more} bytes missing`)
    got += n
  }
}

/** CorruptError if `src` has anything left: the data must end where its header says. */
export async function expectEnd(src: ByteSource, what: string): Promise<void> {
  const one = new Uint8Array(1)
  if ((await src.read(one, 0, 1)) !== 0)
    throw new CorruptError(`${what} has trailing bytes after the data its header declares`)
}

export interface ExportOptions extends Progress {
  /**
   * Replace an existing regular file at `path` (default true, as `numpy.save`); false: ExistsError
   * when the name is taken, also when it appears while the export runs. Never replaced: a directory,
   * symlink, FIFO, socket or device (InvalidArgumentError).
   */
  overwrite?: boolean
}

/**
 * Runs `write` on an exclusive temporary file next to `path` and publishes it as `path` only when
 * complete (util/publish.ts); on any failure the temporary file is removed and `path` is untouched.
 */
export async function exportToFile(
  path: string,
  options: ExportOptions,
  write: (out: ByteSink) => Promise<void>,
): Promise<void> {
  const replace = options.overwrite ?? true
  checkTarget(path, { replace })
  await using tmp = await TempFile.create(path)
  await write(fileSink(tmp.handle))
  await tmp.publish({ replace })
}
