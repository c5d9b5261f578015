// Streaming between files and arrays in bounded pieces: exports batch pinned chunks into one buffer per
// write; imports write straight into the array's pages (dirty pages beyond the budget spill) and commit once.
import type { Connection } from '../db/connection.ts'
import { BigFileError, BusyError, InvalidArgumentError } from '../errors.ts'
import { BigArray, type CreateArrayOptions } from './bigarray.ts'
import { type ByteSink, type ByteSource, readFully } from './bytes.ts'
import { copyRange } from './copy.ts'
import { checkAbort, type Progress, report } from './progress.ts'

/** Options of `importNpy` / `importRaw`: progress and abort (bytes of data), and how often to commit. */
export interface ImportOptions extends Progress {
  /**
   * Write the blocks straight into one storage transaction as they are read, instead of through the
   * array's pages (no spill beyond the RAM budget, no page faults, one copy less): the database's write
   * lock is then held for the whole read, so only for a source that reads at disk speed (a regular file;
   * `importNpy` sets it). Ignored with `commitEvery`. Default false.
   */
  straight?: boolean
  /**
   * Opt-in intermediate commits: commit whenever this many bytes were written since the last commit.
   * Those pieces stay committed if the import then fails. Default: none, the import is one transaction.
   */
  commitEvery?: number
  /** Called just before each of those commits (a progress display can say so: a commit takes a while). */
  onCommit?: () => void
}

/**
 * Runs an import as a transaction of its own: refused (BusyError) while the connection has uncommitted
 * changes, committed before it returns, aborted on any failure (the commit's included) — so without
 * `commitEvery` other connections see all of it or nothing.
 */
export async function importTransaction<T>(
  conn: Connection,
  what: string,
  body: () => Promise<T>,
): Promise<T> {
  if (conn.hasChanges()) {
    throw new BusyError(`${what} commits on its own: commit or abort the connection's pending changes first`)
  }
  try {
    const out = await body()
    await conn.commit()
    return out
  } catch (e) {
    await conn.abort().catch(() => {})
    throw e
  }
}

const BUFFER = 1 << 20

/**
 * An import of a new array written straight into one storage transaction (ImportOptions.straight): (1)
 * the array is created and dropped again in the connection, so that every check of BigArray.create
 * (name taken, blksize, a shape the VM cannot map) fails as it would there, before any I/O; (2) the
 * storage transaction: the file, then its blocks in order from one buffer of whole blocks (the last one
 * padded with zeros); (3) `end` (trailing bytes?) and the commit; (4) the connection commits (moving to
 * the new snapshot) and opens the array. Any failure rolls the transaction back: nothing is left. The contract is
 * importTransaction's; BusyError while the connection has uncommitted changes.
 */
export async function importStraight(
  conn: Connection,
  op: string,
  name: string,
  inp: ByteSource,
  what: string,
  create: CreateArrayOptions,
  opts: { swap: boolean; end: () => Promise<void> } & ImportOptions,
): Promise<BigArray> {
  if (conn.hasChanges()) {
    throw new BusyError(`${op} commits on its own: commit or abort the connection's pending changes first`)
  }
  // (1)
  const probe = await createForImport(conn, name, create)
  const item = probe.itemsize
  const total = probe.size * item
  const meta = { bigarray: 1, dtype: probe.dtype, shape: [...probe.shape], order: probe.order }
  const bs = create.blksize ?? conn.ram.pagesize
  probe.close()
  await conn.abort()
  // (2) Two buffers: the next piece is read (in the thread pool) while this one is stored.
  const piece = Math.max(1, Math.floor(BUFFER / bs)) * bs
  const bufs = [new Uint8Array(piece), new Uint8Array(piece)]
  const read = async (k: number, done: number): Promise<Uint8Array> => {
    const want = Math.min(piece, total - done)
    const bytes = bufs[k].subarray(0, want)
    await readFully(inp, bytes, what, total - done - want)
    return bytes
  }
  let next: Promise<Uint8Array> | undefined
  const txn = await conn.storage.begin()
  try {
    const id = await txn.createFile({ name, blksize: bs, size: total, meta })
    let done = 0
    let blk = 0
    if (total > 0) next = read(0, 0)
    for (let k = 0; next !== undefined; k ^= 1) {
      const bytes = await next
      next = done + bytes.length < total ? read(k ^ 1, done + bytes.length) : undefined
      checkAbort(opts)
      if (opts.swap && item > 1) swapBytes(bytes, item)
      const buf = bufs[k]
      const want = bytes.length
      if (want % bs !== 0) buf.fill(0, want, Math.ceil(want / bs) * bs) // the last block's tail
      for (let at = 0; at < want; at += bs) {
        const w = txn.writeBlock(id, blk++, buf.subarray(at, at + bs))
        if (w instanceof Promise) await w // a synchronous storage: no microtask per block
      }
      done += want
      report(opts, done, total)
    }
    // (3)
    await opts.end()
    checkAbort(opts)
    await txn.commit()
  } catch (e) {
    await next?.catch(() => {}) // no read left running into a buffer or a closed file
    await txn.rollback()
    throw e
  }
  // (4) As importTransaction ends: a commit (which with nothing to commit only moves to the head).
  await conn.commit()
  return await BigArray.open(conn, name)
}

/**
 * BigArray.create for an import whose size comes from the input: a shape the VM cannot map (its page
 * table would not fit: a RangeError from the allocator) is InvalidArgumentError naming it, with cause.
 */
export async function createForImport(
  conn: Connection,
  name: string,
  options: CreateArrayOptions,
): Promise<BigArray> {
  try {
    return await BigArray.create(conn, name, options)
  } catch (e) {
    if (e instanceof BigFileError) throw e
    throw new InvalidArgumentError(
      `cannot create an array of shape [${options.shape.join(',')}] for the import: ${(e as Error).message}`,
      { cause: e },
    )
  }
}

/** Writes the array's elements in C order to `out`; progress counts bytes. */
export async function writeElements(a: BigArray, out: ByteSink, progress?: Progress): Promise<void> {
  const total = a.size * a.itemsize
  const buf = new Uint8Array(Math.max(BUFFER, a.fileh.pagesize))
  let used = 0
  let done = 0
  const flush = async () => {
    await out.write(buf.subarray(0, used))
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
 * Reads `a.size` elements from `inp` into the array; CorruptError (naming `what`) if it ends early. `storageOrder`: the file holds the
 * array's bytes in storage order (written page-wise through the mapping); else they are C-order elements
 * (written through the array's C-order walk). `swap` reverses each element's bytes (big-endian files).
 */
export async function readElements(
  conn: Connection,
  a: BigArray,
  inp: ByteSource,
  what: string,
  opts: { storageOrder: boolean; swap: boolean } & ImportOptions,
): Promise<void> {
  const item = a.itemsize
  const total = a.size * item
  const ram = conn.ram
  const every = opts.commitEvery ?? Number.POSITIVE_INFINITY
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
    const bytes = buf.subarray(0, want)
    await readFully(inp, bytes, what, total - done - want)
    if (opts.swap && item > 1) swapBytes(bytes, item)
    if (opts.storageOrder) {
      await a._shared.vma.write(a._layout.offset + done, bytes)
    } else {
      await copyRange(a, done / item, new a._info.ctor(bytes.buffer, bytes.byteOffset, want / item))
    }
    done += want
    dirty += want
    report(opts, done, total)
    if (dirty >= every && done < total) {
      opts.onCommit?.()
      await conn.commit()
      dirty = 0
    }
  }
}

function swapBytes(b: Uint8Array, item: number): void {
  for (let i = 0; i < b.length; i += item) b.subarray(i, i + item).reverse()
}
