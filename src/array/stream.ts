// Streaming between files and arrays in bounded pieces: exports batch pinned chunks into one buffer per
// write; imports write straight into the array's pages and commit as they go, since dirty pages cannot
// leave RAM before a commit.
import type { FileHandle } from 'node:fs/promises'
import type { Connection } from '../db/connection.ts'
import { CorruptError, InvalidArgumentError } from '../errors.ts'
import type { BigArray } from './bigarray.ts'
import { copyRange } from './copy.ts'
import { checkAbort, type Progress, report } from './progress.ts'

/** Options of `importNpy` / `importRaw`: progress and abort (bytes of data), and how often to commit. */
export interface ImportOptions extends Progress {
  /** Commit whenever this many bytes were written since the last commit. Default: half the RAM capacity. */
  commitEvery?: number
}

const BUFFER = 1 << 20

/** Writes the array's elements in C order to `out` from its current position; progress counts bytes. */
export async function writeElements(
  a: BigArray,
  out: FileHandle,
  pos: number,
  progress?: Progress,
): Promise<void> {
  const total = a.size * a.itemsize
  const buf = new Uint8Array(Math.max(BUFFER, a.fileh.pagesize))
  let used = 0
  let done = 0
  const flush = async () => {
    let at = 0
    while (at < used) {
      const { bytesWritten } = await out.write(buf, at, used - at, pos)
      at += bytesWritten
      pos += bytesWritten
    }
    done += used
    used = 0
    report(progress, done, total)
  }
  for await (const { data } of a.chunks({ signal: progress?.signal })) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    if (used + bytes.length > buf.length) await flush()
    buf.set(bytes, used)
    used += bytes.length
  }
  checkAbort(progress)
  await flush()
}

/**
 * Reads `a.size` elements from `inp` at byte `pos` into the array. `storageOrder`: the file holds the
 * array's bytes in storage order (written page-wise through the mapping); else they are C-order elements
 * (written through the array's C-order walk). `swap` reverses each element's bytes (big-endian files).
 */
export async function readElements(
  conn: Connection,
  a: BigArray,
  inp: FileHandle,
  pos: number,
  opts: { storageOrder: boolean; swap: boolean } & ImportOptions,
): Promise<void> {
  const item = a.itemsize
  const total = a.size * item
  const ram = conn.ram
  const every = opts.commitEvery ?? Math.floor(ram.capacity / 2)
  if (!(every > 0))
    throw new InvalidArgumentError(`commitEvery must be a positive number of bytes, got ${every}`)
  // A piece is pinned whole while copied in: keep it to a quarter of the RAM.
  const ps = ram.pagesize
  const piece = Math.max(ps, Math.min(BUFFER, Math.floor(ram.frames / 4) * ps))
  const buf = new Uint8Array(piece)
  let done = 0
  let dirty = 0
  while (done < total) {
    checkAbort(opts)
    const want = Math.min(piece, total - done)
    let got = 0
    while (got < want) {
      const { bytesRead } = await inp.read(buf, got, want - got, pos + done + got)
      if (bytesRead === 0)
        throw new CorruptError(`file is truncated: ${total - done - got} bytes of data missing`)
      got += bytesRead
    }
    const bytes = buf.subarray(0, want)
    if (opts.swap && item > 1) swapBytes(bytes, item)
    if (opts.storageOrder) {
      await a._shared.vma.write(a._layout.offset + done, bytes)
    } else {
      await copyRange(a, done / item, new a._info.ctor(bytes.buffer, bytes.byteOffset, want / item))
    }
    done += want
    dirty += want
    if (dirty >= every && done < total) {
      await conn.commit()
      dirty = 0
    }
    report(opts, done, total)
  }
}

function swapBytes(b: Uint8Array, item: number): void {
  for (let i = 0; i < b.length; i += item) b.subarray(i, i + item).reverse()
}
