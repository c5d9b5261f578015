// Where block images live (format 3): append-only segment files in the directory `<db>-seg/`, next to
// the database, named by 8 hex digits of their id; SQLite holds the index (blocks: file, blk, tid →
// seg, off, len, sum) and each segment's indexed high-water mark (segments: id, size). A load is one
// pread straight into the caller's buffer; a commit appends with large sequential writes and syncs the
// segment before the SQLite transaction that indexes the bytes commits. Bytes past a segment's
// high-water mark (a crashed or rolled-back writer's tail) are never read and the next writer
// truncates them. An in-memory database keeps its segments in memory (MemorySegments).
//
// Every segment starts with a HEADER-byte header: magic, format, its id and the database's uuid, so a
// segment directory left behind by another database at the same path is refused, not read.
import {
  closeSync,
  constants,
  fdatasync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { CorruptError, StorageError } from '../../errors.ts'
import { fsError } from '../../util/fserror.ts'

const { O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_DIRECTORY } = constants

/** Bytes before the first block image of a segment (its header, padded to a page). */
export const HEADER = 4096
const MAGIC = 'bigfile segment\n'
const FORMAT = 3

/** A segment a load was told about is not there (removed by a pack in another process): query again. */
export class SegmentGone extends Error {}

/** The segments of one database: reads for everyone, creation and appends for the writer. */
export interface Segments {
  /** Reads `len` bytes at `pos` of segment `seg` into `buf` at `at`; the bytes read (short at its end). */
  read(seg: number, buf: Uint8Array, at: number, len: number, pos: number): number
  /** Creates segment `seg` (exclusively; a leftover of a crashed writer of this database is reused). */
  create(seg: number): void
  /** Makes `seg` writable with `size` valid bytes; anything past them (an unindexed tail) is cut off. */
  openForAppend(seg: number, size: number): void
  /** Writes `data` at `pos` of a segment opened for append. */
  write(seg: number, data: Uint8Array, pos: number): void
  /**
   * Starts, in the background, writing segment `seg`'s data to the disk (an fdatasync in the thread
   * pool), so that the sync at commit has less left to wait for. Only a head start: `sync` still makes it
   * durable, and fails when a background one failed.
   */
  startSync(seg: number): void
  /** Makes what was written to the segments (and new names in the directory) durable. */
  sync(): void
  /** Removes segment `seg` (a pack, after the commit that stopped indexing it). Missing is fine. */
  unlink(seg: number): void
  /** Segment ids present (on disk), ascending. */
  list(): number[]
  /** Closes cached read descriptors (after a pack removed segments). */
  forget(): void
  /** On-disk bytes of every segment, for statistics. */
  bytes(): number
  close(): void
}

/** The segment directory of the database at absolute path `abs`. */
export function segmentDir(abs: string): string {
  return `${abs}-seg`
}

function segName(seg: number): string {
  return seg.toString(16).padStart(8, '0')
}

function header(seg: number, uuid: string): Buffer {
  const h = Buffer.alloc(HEADER)
  h.write(MAGIC, 0, 'latin1')
  h.writeUInt32LE(FORMAT, 16)
  h.writeDoubleLE(seg, 24)
  h.write(uuid, 32, 'latin1')
  return h
}

/** How many segment read descriptors stay open. */
const READ_FDS = 16

/** Segment files in `<db>-seg/`. */
export class SegmentFiles implements Segments {
  readonly dir: string
  readonly #uuid: string
  readonly #readOnly: boolean
  /** Read descriptors by segment, least recently used first (Map order). */
  readonly #fds = new Map<number, number>()
  /** Write descriptors of segments this writer appends to, and whether they need a sync. */
  readonly #wfds = new Map<number, number>()
  readonly #dirty = new Set<number>()
  #dirDirty = false
  /** Segments with a background fdatasync running (each on a descriptor of its own). */
  readonly #running = new Set<number>()
  /** The first error of a background fdatasync since the last sync (its pages may not have reached the disk). */
  #syncError: unknown

  constructor(abs: string, uuid: string, readOnly: boolean) {
    this.dir = segmentDir(abs)
    this.#uuid = uuid
    this.#readOnly = readOnly
  }

  read(seg: number, buf: Uint8Array, at: number, len: number, pos: number): number {
    const fd = this.#wfds.get(seg) ?? this.#readFd(seg)
    let n = 0
    while (n < len) {
      const r = readSync(fd, buf, at + n, len - n, pos + n)
      if (r === 0) break
      n += r
    }
    return n
  }

  #readFd(seg: number): number {
    let fd = this.#fds.get(seg)
    if (fd !== undefined) {
      this.#fds.delete(seg) // most recently used: to the end
      this.#fds.set(seg, fd)
      return fd
    }
    const path = join(this.dir, segName(seg))
    try {
      fd = openSync(path, O_RDONLY | O_NOFOLLOW)
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ENOENT') throw new SegmentGone(path)
      throw fsError(e, `open segment ${path}`)
    }
    this.#checked(fd, seg, path)
    if (this.#fds.size >= READ_FDS) {
      const [oldSeg, oldFd] = this.#fds.entries().next().value as [number, number]
      this.#fds.delete(oldSeg)
      closeSync(oldFd)
    }
    this.#fds.set(seg, fd)
    return fd
  }

  /** `fd` once its header checks out (see #checkHeader); closed when it does not. */
  #checked(fd: number, seg: number, path: string): number {
    try {
      this.#checkHeader(fd, seg, path)
    } catch (e) {
      closeSync(fd)
      throw e
    }
    return fd
  }

  #checkHeader(fd: number, seg: number, path: string): void {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new CorruptError(`segment ${path} is not a regular file`)
    const h = Buffer.alloc(64)
    const n = readSync(fd, h, 0, 64, 0)
    if (n < 64 || h.toString('latin1', 0, 16) !== MAGIC) {
      throw new CorruptError(`${path} is not a bigfile segment`)
    }
    if (h.readUInt32LE(16) !== FORMAT || h.readDoubleLE(24) !== seg) {
      throw new CorruptError(
        `${path}: segment header of format ${h.readUInt32LE(16)}, id ${h.readDoubleLE(24)}`,
      )
    }
    if (h.toString('latin1', 32, 32 + this.#uuid.length) !== this.#uuid) {
      throw new CorruptError(
        `${path} belongs to another database (a segment directory left behind at this path? remove ${this.dir})`,
      )
    }
  }

  create(seg: number): void {
    this.#writable()
    this.#closeSeg(seg) // a descriptor left from a rolled-back creation of the same id
    this.#makeDir()
    const path = join(this.dir, segName(seg))
    let fd: number
    try {
      fd = openSync(path, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR, 0o644)
      this.#dirDirty = true
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'EEXIST') throw fsError(e, `create segment ${path}`)
      // A writer of this database that crashed (or rolled back) after creating it: reuse it. Its name
      // may never have been synced into the directory: sync the directory at this commit too.
      this.#dirDirty = true
      fd = this.#checked(this.#openRw(path), seg, path)
      ftruncateSync(fd, HEADER)
    }
    this.#wfds.set(seg, fd)
    writeSync(fd, header(seg, this.#uuid), 0, HEADER, 0)
    this.#dirty.add(seg)
  }

  openForAppend(seg: number, size: number): void {
    this.#writable()
    let fd = this.#wfds.get(seg)
    if (fd === undefined) {
      const path = join(this.dir, segName(seg))
      fd = this.#checked(this.#openRw(path), seg, path)
      // Only the current segment is appended to: keep at most it and the one before a rollover.
      for (const [s, wfd] of this.#wfds) {
        if (this.#dirty.has(s)) continue
        this.#closeW(wfd)
        this.#wfds.delete(s)
      }
      this.#wfds.set(seg, fd)
    }
    const st = fstatSync(fd)
    if (st.size < size) {
      throw new CorruptError(
        `segment ${join(this.dir, segName(seg))} holds ${st.size} bytes, its index ${size}`,
      )
    }
    // An unindexed tail (a crashed or rolled-back writer): cut, so that it never looks like data.
    if (st.size > size) ftruncateSync(fd, size)
  }

  #openRw(path: string): number {
    try {
      return openSync(path, O_RDWR | O_NOFOLLOW)
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ENOENT') {
        throw new CorruptError(`segment ${path} is missing (was the database copied without ${this.dir}?)`)
      }
      throw fsError(e, `open segment ${path}`)
    }
  }

  write(seg: number, data: Uint8Array, pos: number): void {
    const fd = this.#wfds.get(seg)
    if (fd === undefined) throw new StorageError(`segment ${seg} is not open for writing`)
    let n = 0
    while (n < data.length) n += writeSync(fd, data, n, data.length - n, pos + n)
    this.#dirty.add(seg)
  }

  startSync(seg: number): void {
    if (!this.#wfds.has(seg) || this.#running.has(seg)) return
    // A descriptor of its own: Linux reports a writeback error once per open file description, so a
    // background fdatasync on the commit's descriptor could take the error the commit's own sync must see.
    let sfd: number
    try {
      sfd = openSync(join(this.dir, segName(seg)), O_RDONLY | O_NOFOLLOW)
    } catch {
      return // only an early start: the commit's own fdatasync is what makes the images durable
    }
    this.#running.add(seg)
    fdatasync(sfd, (e) => {
      this.#running.delete(seg)
      if (e && this.#syncError === undefined) this.#syncError = e
      closeSync(sfd)
    })
  }

  #closeW(fd: number): void {
    closeSync(fd)
  }

  sync(): void {
    // A background fdatasync that failed may have dropped the pages it could not write (they then look
    // clean to the next fdatasync): the commit fails instead.
    const e = this.#syncError
    this.#syncError = undefined
    if (e !== undefined) throw fsError(e, `sync segments in ${this.dir}`)
    for (const seg of this.#dirty) {
      const fd = this.#wfds.get(seg)
      if (fd !== undefined) fdatasyncSync(fd)
    }
    this.#dirty.clear()
    // Only the newest segment is appended to again: close the others' write descriptors, so a writer
    // that lives long (or imports much) holds one, not one per segment it ever created.
    let newest = -1
    for (const s of this.#wfds.keys()) if (s > newest) newest = s
    for (const [s, wfd] of this.#wfds) {
      if (s === newest) continue
      this.#closeW(wfd)
      this.#wfds.delete(s)
    }
    if (this.#dirDirty) {
      const dfd = openSync(this.dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
      try {
        fsyncSync(dfd)
      } finally {
        closeSync(dfd)
      }
      this.#dirDirty = false
    }
  }

  unlink(seg: number): void {
    this.#closeSeg(seg)
    try {
      unlinkSync(join(this.dir, segName(seg)))
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'ENOENT') throw fsError(e, `remove segment ${seg}`)
    }
  }

  list(): number[] {
    let names: string[]
    try {
      names = readdirSync(this.dir)
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ENOENT') return []
      throw fsError(e, `list ${this.dir}`)
    }
    return names
      .filter((n) => /^[0-9a-f]{8}$/.test(n))
      .map((n) => Number.parseInt(n, 16))
      .sort((a, b) => a - b)
  }

  bytes(): number {
    let n = 0
    for (const seg of this.list()) {
      try {
        n += lstatSync(join(this.dir, segName(seg))).size
      } catch {}
    }
    return n
  }

  forget(): void {
    for (const fd of this.#fds.values()) closeSync(fd)
    this.#fds.clear()
  }

  #closeSeg(seg: number): void {
    const fd = this.#fds.get(seg)
    if (fd !== undefined) {
      closeSync(fd)
      this.#fds.delete(seg)
    }
    const wfd = this.#wfds.get(seg)
    if (wfd !== undefined) {
      this.#closeW(wfd)
      this.#wfds.delete(seg)
      this.#dirty.delete(seg)
    }
  }

  close(): void {
    this.forget()
    for (const fd of this.#wfds.values()) this.#closeW(fd)
    this.#wfds.clear()
    this.#dirty.clear()
  }

  /** Creates the directory, never through a link: an existing name must be a real directory. */
  #makeDir(): void {
    try {
      mkdirSync(this.dir, { mode: 0o755 })
      this.#dirDirty = true // its own name in the parent: synced with the parent below
      const parent = openSync(join(this.dir, '..'), O_RDONLY | O_DIRECTORY)
      try {
        fsyncSync(parent)
      } finally {
        closeSync(parent)
      }
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'EEXIST') throw fsError(e, `create ${this.dir}`)
    }
    const st = lstatSync(this.dir)
    if (!st.isDirectory())
      throw new CorruptError(`${this.dir} is not a directory (a link or a file planted there?)`)
  }

  #writable(): void {
    if (this.#readOnly) throw new StorageError('segments are open read-only')
  }
}

/** Segments of an in-memory database: growable buffers, gone with the process. */
export class MemorySegments implements Segments {
  readonly #segs = new Map<number, { buf: Uint8Array; size: number }>()

  read(seg: number, buf: Uint8Array, at: number, len: number, pos: number): number {
    const s = this.#segs.get(seg)
    if (!s) throw new SegmentGone(`memory segment ${seg}`)
    const n = Math.max(0, Math.min(len, s.size - pos))
    buf.set(s.buf.subarray(pos, pos + n), at)
    return n
  }

  create(seg: number): void {
    this.#segs.set(seg, { buf: new Uint8Array(1 << 20), size: HEADER })
  }

  openForAppend(seg: number, size: number): void {
    const s = this.#segs.get(seg)
    if (!s || s.size < size) throw new CorruptError(`memory segment ${seg} is shorter than its index`)
    s.size = size
  }

  write(seg: number, data: Uint8Array, pos: number): void {
    const s = this.#segs.get(seg)
    if (!s) throw new StorageError(`memory segment ${seg} is missing`)
    const end = pos + data.length
    if (end > s.buf.length) {
      const grown = new Uint8Array(Math.max(end, s.buf.length * 2))
      grown.set(s.buf.subarray(0, s.size))
      s.buf = grown
    }
    s.buf.set(data, pos)
    s.size = Math.max(s.size, end)
  }

  startSync(): void {}

  sync(): void {}

  unlink(seg: number): void {
    this.#segs.delete(seg)
  }

  list(): number[] {
    return [...this.#segs.keys()].sort((a, b) => a - b)
  }

  forget(): void {}

  bytes(): number {
    let n = 0
    for (const s of this.#segs.values()) n += s.size
    return n
  }

  close(): void {
    this.#segs.clear()
  }
}
