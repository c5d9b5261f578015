import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SpillError, SpillFullError } from '../errors.ts'

/**
 * The system calls the spill file makes, all synchronous (spilling happens inside synchronous faults).
 * Replaceable for fault injection in tests; `nodeSpillIO` is the real thing.
 */
export interface SpillIO {
  /** Creates a new file exclusively (never following a link), mode 0600; returns the fd. */
  create(path: string): number
  /** Writes `bufs` back to back at byte `position`; returns the bytes written. */
  writev(fd: number, bufs: Uint8Array[], position: number): number
  /** Reads into `buf` at byte `position`; returns the bytes read. */
  read(fd: number, buf: Uint8Array, position: number): number
  /** Cuts the file to `length` bytes. */
  truncate(fd: number, length: number): void
  close(fd: number): void
  unlink(path: string): void
}

const { O_CREAT, O_EXCL, O_RDWR } = fs.constants
// O_NOFOLLOW does not exist on Windows; O_EXCL alone already refuses an existing link there.
const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0

export const nodeSpillIO: SpillIO = {
  create: (path) => fs.openSync(path, O_CREAT | O_EXCL | O_RDWR | O_NOFOLLOW, 0o600),
  writev: (fd, bufs, position) => fs.writevSync(fd, bufs, position),
  read: (fd, buf, position) => fs.readSync(fd, buf, 0, buf.length, position),
  truncate: (fd, length) => fs.ftruncateSync(fd, length),
  close: (fd) => fs.closeSync(fd),
  unlink: (path) => fs.unlinkSync(path),
}

export interface SpillOptions {
  /** Directory of the spill file. Default: the OS temp dir. */
  dir?: string
  /** Most bytes the spill may hold (rounded down to whole pages). Default: unbounded (the disk's size). */
  max?: number
  io?: SpillIO
}

/** A spill file dropped without close (its RAM was garbage collected) still gives its descriptor back. */
const orphans = new FinalizationRegistry<{ io: SpillIO; fd: number }>(({ io, fd }) => {
  try {
    io.close(fd)
  } catch {
    // Already closed.
  }
})

/** Paths of spill files that could not be unlinked at creation (Windows): removed at process exit. */
const linked = new Set<string>()
let exitHook = false

/**
 * The spill file of one RAM: page images of dirty pages pushed out of RAM, one per slot of `pagesize`
 * bytes, with its own free list. It is private to the process and never part of any database: created
 * exclusively with an unpredictable name and mode 0600, and unlinked at once where the OS allows (POSIX),
 * so it vanishes with the process however it ends; else it is removed at close and at process exit.
 * Created on first use. All I/O is synchronous, so a synchronous fault can spill and read back.
 */
export class SpillFile {
  readonly pagesize: number
  readonly dir: string
  /** Most slots in use at once. */
  readonly maxSlots: number
  readonly #io: SpillIO
  #fd = -1
  #path: string | undefined
  /** Free slots below `#end`, reused lowest first so that a batch's slots tend to be consecutive. */
  readonly #free: number[] = []
  /** Slots ever handed out (the file's length in slots). */
  #end = 0
  #used = 0
  #closed = false

  constructor(pagesize: number, options: SpillOptions = {}) {
    this.pagesize = pagesize
    this.dir = options.dir ?? tmpdir()
    const max = options.max ?? Number.POSITIVE_INFINITY
    this.maxSlots = max === Number.POSITIVE_INFINITY ? max : Math.floor(max / pagesize)
    this.#io = options.io ?? nodeSpillIO
  }

  /** Slots holding pages now. */
  get used(): number {
    return this.#used
  }

  /** The file's length in bytes: its high-water mark since it was last empty (then it is cut to 0). */
  get fileBytes(): number {
    return this.#end * this.pagesize
  }

  /** Whether the file exists (it is created by the first spill). */
  get created(): boolean {
    return this.#fd >= 0
  }

  /**
   * Takes up to `n` slots (at least one), ascending where the free list allows, so a batch is written
   * sequentially. SpillFullError when not even one is left under `maxSlots`.
   */
  alloc(n: number): number[] {
    if (this.#closed) throw new SpillError('the spill file is closed')
    const room = this.maxSlots - this.#used
    if (room < 1) {
      throw new SpillFullError(
        `the spill is full: ${this.#used} pages of ${this.pagesize} bytes (maxSpill ${this.maxSlots * this.pagesize} bytes)`,
      )
    }
    this.#open()
    const k = Math.min(n, room)
    const out: number[] = []
    // Freed slots first (lowest first, so runs stay contiguous), then new ones at the end of the file.
    if (this.#free.length > 0) {
      this.#free.sort((a, b) => b - a)
      while (out.length < k && this.#free.length > 0) out.push(this.#free.pop() as number)
    }
    while (out.length < k) out.push(this.#end++)
    this.#used += out.length
    return out
  }

  /** Returns a slot to the free list. The last one empties the file (its disk space and cached pages go). */
  free(slot: number): void {
    this.#free.push(slot)
    if (--this.#used > 0) return
    if (this.#closed) {
      this.#release()
      return
    }
    this.#free.length = 0
    this.#end = 0
    try {
      this.#io.truncate(this.#fd, 0)
    } catch {
      // The space stays allocated; the slots are reused all the same.
    }
  }

  /**
   * Writes `bufs[i]` (one page each) into `slots[i]`, one system call per run of consecutive slots.
   * A failure leaves the slots allocated (the caller frees them) and throws SpillFullError for a full
   * disk, SpillError otherwise.
   */
  write(slots: readonly number[], bufs: readonly Uint8Array[]): void {
    const ps = this.pagesize
    for (let i = 0; i < slots.length; ) {
      let j = i + 1
      while (j < slots.length && slots[j] === slots[j - 1] + 1) j++
      const run = bufs.slice(i, j)
      const want = (j - i) * ps
      let done = 0
      try {
        // A short write (rare, but allowed) goes on from where it stopped.
        while (done < want) {
          const rest = done === 0 ? run : remaining(run, done, ps)
          const n = this.#io.writev(this.#fd, rest, slots[i] * ps + done)
          if (n <= 0) throw new Error('writev wrote nothing')
          done += n
        }
      } catch (e) {
        throw ioError('write', e)
      }
      i = j
    }
  }

  /** Reads the page image of `slot` into `into` (one page). */
  read(slot: number, into: Uint8Array): void {
    const ps = this.pagesize
    let done = 0
    try {
      while (done < ps) {
        const n = this.#io.read(this.#fd, into.subarray(done), slot * ps + done)
        if (n <= 0) throw new Error(`spill slot ${slot} is short: ${done} of ${ps} bytes`)
        done += n
      }
    } catch (e) {
      throw ioError('read', e)
    }
  }

  /** Closes the file now if no slot is in use, else once the last one is freed. Idempotent. */
  close(): void {
    this.#closed = true
    if (this.#used === 0) this.#release()
  }

  #open(): void {
    if (this.#fd >= 0) return
    const path = join(this.dir, `bigfile-spill-${process.pid}-${randomBytes(12).toString('hex')}`)
    try {
      this.#fd = this.#io.create(path)
    } catch (e) {
      throw new SpillError(`cannot create the spill file in ${this.dir}: ${(e as Error).message}`, {
        cause: e,
      })
    }
    orphans.register(this, { io: this.#io, fd: this.#fd }, this)
    try {
      this.#io.unlink(path) // the open fd keeps it alive; nothing is left behind, even after SIGKILL
    } catch {
      this.#path = path
      linked.add(path)
      if (!exitHook) {
        exitHook = true
        process.on('exit', removeLinked)
      }
    }
  }

  #release(): void {
    if (this.#fd < 0) return
    const fd = this.#fd
    this.#fd = -1
    orphans.unregister(this)
    try {
      this.#io.close(fd)
    } catch {
      // Nothing to recover: the descriptor is gone either way.
    }
    if (this.#path !== undefined) {
      linked.delete(this.#path)
      try {
        this.#io.unlink(this.#path)
      } catch {
        // Left for the exit hook or the OS's temp cleaning.
      }
      this.#path = undefined
    }
  }
}

function removeLinked(): void {
  for (const path of linked) {
    try {
      fs.unlinkSync(path)
    } catch {
      // Best effort at exit.
    }
  }
}

/** The part of `bufs` (pages of `ps` bytes) after the first `done` bytes. */
function remaining(bufs: readonly Uint8Array[], done: number, ps: number): Uint8Array[] {
  const first = Math.floor(done / ps)
  const out = bufs.slice(first)
  out[0] = out[0].subarray(done - first * ps)
  return out
}

const FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG'])

function ioError(op: 'write' | 'read', e: unknown): Error {
  const code = (e as { code?: unknown } | null)?.code
  if (op === 'write' && typeof code === 'string' && FULL.has(code)) {
    return new SpillFullError(`the disk holding the spill file is full (${code})`, { cause: e })
  }
  return new SpillError(`spill file ${op} failed: ${(e as Error)?.message ?? String(e)}`, { cause: e })
}
