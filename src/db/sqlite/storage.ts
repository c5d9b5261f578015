// The embedded default storage: one SQLite file through node:sqlite, synchronous answers throughout
// (except a writer that has to wait for the write lock: see writers.ts).
import { randomUUID } from 'node:crypto'
import {
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  linkSync,
  lstatSync,
  openSync,
  statSync,
  unlinkSync,
} from 'node:fs'
import { dirname } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import {
  ChecksumError,
  ClosedError,
  CorruptError,
  InvalidArgumentError,
  LockedError,
  NotFoundError,
  ReadOnlyError,
  StaleSnapshotError,
  StorageError,
  VersionError,
} from '../../errors.ts'
import { readonlyFields } from '../../util/readonly.ts'
import { toRecord } from '../record-row.ts'
import type {
  Change,
  CheckOptions,
  CheckResult,
  Commit,
  FileRecord,
  LogQuery,
  PackResult,
  Storage,
  StorageTxn,
  Tid,
} from '../storage.ts'
import { Appender } from './appender.ts'
import { decodeBlocks } from './blocklist.ts'
import { blockSum, verifyRecord } from './checksum.ts'
import { sqliteError } from './errors.ts'
import { immutableUri, locate, MEMORY } from './locate.ts'
import { Locations, NONE } from './locations.ts'
import { type LogStatements, prepareLogStatements, readLog, readTidAt } from './log.ts'
import { apply, MAX_DEPTH } from './pieces.ts'
import {
  APPLICATION_ID,
  KIND_IMAGE,
  KIND_PIECES,
  KIND_TOMBSTONE,
  preflight,
  SCHEMA,
  SCHEMA_VERSION,
} from './schema.ts'
import { HEADER, MemorySegments, SegmentFiles, SegmentGone, type Segments, segmentDir } from './segments.ts'
import {
  type BlockRow,
  type LogRow,
  packedTid,
  prepareStatements,
  type RecordRow,
  type Statements,
} from './statements.ts'
import { SQLiteTxn } from './txn.ts'
import { backoff, hasQueue, joinQueue, leaveQueue, sleep, type WriterQueue } from './writers.ts'

/** Options of `SQLiteStorage.open()` and `openDatabase()`. */
export interface SQLiteOptions {
  /** Create the file when missing. Default true (false with `readOnly`). */
  create?: boolean
  /**
   * Open read-only: nothing is ever created, converted or written (no schema, no WAL switch); the file
   * must already be a bigfile database (NotFoundError, CorruptError otherwise). Commits, pack and file
   * operations fail with ReadOnlyError (EROFS). A WAL database in a directory this process cannot
   * write still reads when it was closed cleanly (no `-wal` left); see ARCHITECTURE.md.
   */
  readOnly?: boolean
  /** Accept the path ':memory:' for an in-memory database that is not kept. Default false. */
  memory?: boolean
  /**
   * 'full' (default): a commit is on disk when commit() returns, also across power loss. 'normal': in
   * WAL mode SQLite then syncs only at checkpoints, so the last commits before a power loss or OS
   * crash may be lost (the database stays consistent; a process crash loses nothing). Often several
   * times faster for small commits.
   */
  synchronous?: 'full' | 'normal'
  /**
   * How long a writer waits for another process's write lock before LockedError. Default 10 s. The wait
   * is asynchronous (retries on timers), so the process keeps running meanwhile; writers of this
   * process wait in a queue instead, for as long as the writer before them takes.
   */
  busyTimeoutMs?: number
  /** @internal Benchmarks only: skip the checksum check on block loads (bench/checksum.bench.ts). */
  _skipVerify?: boolean
  /** @internal Benchmarks only: false queries the index on every load (no location cache, locations.ts). */
  _locations?: boolean
  /** @internal Tests only: the size at which a new segment is started (default SEGMENT_BYTES). */
  _segmentBytes?: number
}

/** A new segment is started once the current one would grow past this. */
const SEGMENT_BYTES = 256 * 1024 * 1024
/** The writer's batch: images are written to the segment in pieces of up to this many bytes. */
const BATCH_BYTES = 1024 * 1024
/** How often a load looks the location up again when the segment it was told about is gone. */
const RELOOK = 3
/** A segment is rewritten by pack when at most this fraction of it is still live. */
const REWRITE_LIVE = 0.5

/** How many rows one step of `check` reads before it yields to the event loop. */
const CHECK_BATCH = 64

let memoryIds = 0

/** The embedded default storage: one SQLite file through node:sqlite, answering synchronously. */
export class SQLiteStorage implements Storage {
  /** The database path as given to `open`. */
  readonly path: string
  /** Whether it was opened with `readOnly`: commits, pack and file operations throw ReadOnlyError. */
  readonly readOnly: boolean
  readonly #db: DatabaseSync
  readonly #s: Statements
  readonly #log: LogStatements
  readonly #queue: WriterQueue
  readonly #timeout: number
  readonly #verify: boolean
  readonly #io: Segments
  readonly #segMax: number
  #appender: Appender | undefined
  /** The piece record of a load being read (grown as needed). */
  #rec = new Uint8Array(0)
  /** Block locations found by earlier loads (locations.ts). */
  readonly #locs = new Locations()
  readonly #useLocs: boolean
  /** `PRAGMA data_version` when the cutoff below was read (-1: read it again), and that cutoff. */
  #dv = -1
  #cutoff = 0
  /** The newest head this storage has read: locations are remembered only for snapshots up to it. */
  #headSeen = -1
  /** The `gen` of the last load: when a pack bumps it, cached segment descriptors are dropped. */
  #gen = -1
  /** This storage has the turn of its file's writer queue. */
  #holding = false
  #closed = false

  private constructor(path: string, db: DatabaseSync, key: string, io: Segments, o: Required<Opened>) {
    this.path = path
    this.#io = io
    this.#segMax = o.segMax
    this.#db = db
    this.readOnly = o.readOnly
    this.#timeout = o.timeout
    this.#verify = o.verify
    this.#useLocs = o.locations
    this.#s = prepareStatements(db)
    this.#log = prepareLogStatements(db)
    this.#queue = joinQueue(key)
    readonlyFields(this, ['path', 'readOnly'])
  }

  /**
   * Opens (by default creating) the SQLite database at `path` and checks or creates its schema.
   * NotFoundError when it is missing and not to be created, CorruptError or VersionError when it is not a
   * bigfile database of this format, InvalidArgumentError for bad options.
   */
  static open(path: string, options: SQLiteOptions = {}): SQLiteStorage {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError('SQLite options must be an object')
    }
    // (1) The path: absolute, so SQLite never reads it as a URI or as ':memory:'.
    const abs = locate(path, options.memory)
    const memory = abs === MEMORY
    const readOnly = options.readOnly === true
    const sync = options.synchronous ?? 'full'
    if (sync !== 'full' && sync !== 'normal') {
      throw new InvalidArgumentError(`synchronous must be 'full' or 'normal', got ${String(sync)}`)
    }
    const timeout = options.busyTimeoutMs ?? 10_000
    if (!Number.isSafeInteger(timeout) || timeout < 0) {
      throw new InvalidArgumentError(`busyTimeoutMs must be a non-negative integer, got ${timeout}`)
    }
    const create = !readOnly && options.create !== false
    if (readOnly && memory) throw new InvalidArgumentError('an in-memory database cannot be read-only')
    // (2) Look before SQLite does: a missing file, a non-file, an empty file when not creating. Not when
    // this process has it open already: that open checked it, and closing the descriptor the look needs
    // would drop the POSIX locks SQLite holds on the file through the other connection (sqlite.org,
    // "How To Corrupt", 2.2).
    const exists = memory || openHere(abs) || preflight(abs, create, path)
    if (!exists && !create) throw new NotFoundError(`database ${path} does not exist`)
    // A new database is built aside and published whole (see publishNew).
    if (!exists) publishNew(abs, path)
    // (3) Open; read-only opens create nothing and may fall back to an immutable open (see openReadOnly).
    let db: DatabaseSync
    try {
      db = readOnly ? openReadOnly(abs, timeout) : new DatabaseSync(abs, { timeout })
    } catch (e) {
      throw sqliteError(e, `open ${path}`)
    }
    try {
      // (4) The schema: created in a new file, checked in an existing one.
      if (readOnly) checkSchema(db, path)
      else initSchema(db, path, !memory)
      // The segments: in memory, or files in <db>-seg/ (read-only: opened on demand, nothing created).
      const uuid = (
        db.prepare(`SELECT value FROM meta WHERE key = 'uuid'`).get() as { value: string } | undefined
      )?.value
      if (typeof uuid !== 'string') throw new CorruptError(`${path}: the meta row 'uuid' is missing`)
      const io: Segments = memory ? new MemorySegments() : new SegmentFiles(abs, uuid, readOnly)
      if (!memory) checkSegmentDir(db, abs, path)
      if (!memory && !readOnly) {
        const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string }
        if (mode.journal_mode !== 'wal') throw new CorruptError(`${path}: cannot switch to WAL mode`)
      }
      if (!readOnly) db.exec(`PRAGMA synchronous = ${sync === 'full' ? 'FULL' : 'NORMAL'}`)
      // (5) The identity of the file, for the writer queue of this process.
      const key = memory ? `memory:${++memoryIds}` : fileKey(abs)
      const verify = options._skipVerify !== true
      const segMax = options._segmentBytes ?? SEGMENT_BYTES
      const locations = options._locations !== false
      return new SQLiteStorage(path, db, key, io, { readOnly, timeout, verify, segMax, locations })
    } catch (e) {
      db.close()
      throw sqliteError(e, `open ${path}`)
    }
  }

  head(): Tid {
    this.#check()
    try {
      const t = (this.#s.head.get() as { t: number }).t
      if (t > this.#headSeen && this.#useLocs) this.#headSeen = t
      return t
    } catch (e) {
      throw sqliteError(e, 'read head')
    }
  }

  listFiles(at: Tid): FileRecord[] {
    this.#check()
    try {
      return (this.#s.listFiles.all(at) as unknown as RecordRow[]).map((r) => this.#record(r))
    } catch (e) {
      throw sqliteError(e, 'list files')
    }
  }

  /** The live file named `name` as of `at`; undefined when there is none. */
  fileByName(name: string, at: Tid): FileRecord | undefined {
    this.#check()
    try {
      const row = this.#s.fileByName.get(name, at) as RecordRow | undefined
      return row ? this.#record(row) : undefined
    } catch (e) {
      throw sqliteError(e, `look up file ${JSON.stringify(name)}`)
    }
  }

  fileById(id: number, at: Tid): FileRecord | undefined {
    this.#check()
    try {
      const row = this.#s.fileById.get(id, at) as RecordRow | undefined
      return row && row.name !== null ? this.#record(row) : undefined
    } catch (e) {
      throw sqliteError(e, `look up file #${id}`)
    }
  }

  loadBlock(file: number, blk: number, at: Tid, buf: Uint8Array): void {
    this.#check()
    // (1) A location this storage found before for a snapshot range holding `at` (locations.ts).
    const hit = this.#locs.find(file, blk, at)
    if (hit >= 0 && this.#fresh(at) && this.#loadKnown(file, blk, at, buf, hit)) return
    for (let tries = 0; ; tries++) {
      // (2) The index: the newest version <= at, the pack cutoff and gen in one statement.
      let row: (BlockRow & { packed: number; gen: number }) | undefined
      try {
        row = this.#s.load.get(file, blk, at) as typeof row
      } catch (e) {
        throw sqliteError(e, `read block ${blk} of file #${file}`)
      }
      if (row === undefined) throw new CorruptError(`${this.path}: the meta row 'packed' is missing`)
      if (at < row.packed) throw new StaleSnapshotError(at, row.packed)
      this.#sawGen(row.gen)
      if (row.tid === null) {
        buf.fill(0) // never written
        if (at <= this.#headSeen) this.#locs.put(file, blk, NONE, at, NONE, 0, 0, 0, 0)
        return
      }
      try {
        this.#readVersion(file, blk, row, at, buf, 0, buf.length)
      } catch (e) {
        this.#relook(e, tries, file, blk, row, at)
        continue
      }
      // (3) Remembered for the next load of this block (whole images and tombstones only).
      if (at <= this.#headSeen && (row.kind === KIND_TOMBSTONE || row.kind === KIND_IMAGE)) {
        const r = row as { tid: number; kind: number; seg: number; off: number; len: number; sum: number }
        this.#locs.put(file, blk, r.tid, at, r.kind, r.seg ?? 0, r.off ?? 0, r.len ?? 0, r.sum)
      }
      return
    }
  }

  /**
   * Whether `at` is still at or above the pack cutoff, for a load from a remembered location (a snapshot a
   * pack passed must get StaleSnapshotError from the index, as ever). The cutoff is read again only when
   * another connection committed meanwhile (`PRAGMA data_version`) or this one packed.
   */
  #fresh(at: Tid): boolean {
    let dv: number
    try {
      dv = (this.#s.dataVersion.get() as { data_version: number }).data_version
      if (dv !== this.#dv) {
        const pg = this.#s.packedGen.get() as { packed: number; gen: number } | undefined
        if (pg === undefined) return false // the index query reports it
        this.#cutoff = pg.packed
        this.#sawGen(pg.gen)
        this.#dv = dv
      }
    } catch (e) {
      throw sqliteError(e, 'read data_version')
    }
    return at >= this.#cutoff
  }

  /**
   * A load from a remembered location (slot `i`); false when its segment is gone (a pack moved the version:
   * the entry is dropped and the index asked). An image is verified against its checksum as always.
   */
  #loadKnown(file: number, blk: number, at: Tid, buf: Uint8Array, i: number): boolean {
    const l = this.#locs
    const kind = l.kind(i)
    if (kind !== KIND_IMAGE) {
      buf.fill(0) // never written, or a tombstone (verified when it was remembered)
      return true
    }
    const len = l.len(i)
    if (len !== buf.length) {
      l.drop(i)
      return false
    }
    let n: number
    try {
      n = this.#io.read(l.seg(i), buf, 0, len, l.off(i))
    } catch (e) {
      if (!(e instanceof SegmentGone)) throw e
      n = -1
    }
    if (n < len) {
      l.drop(i)
      this.#io.forget()
      return false
    }
    if (this.#verify && blockSum(file, blk, l.tid(i), buf) !== l.sum(i)) {
      throw new ChecksumError(this.path, this.#fileName(file, at), blk, l.tid(i))
    }
    return true
  }

  /**
   * Blocks `blk` .. `blk + count - 1` as of `at` into `buf`: one range query of the index, then one pread
   * per run of versions that lie back to back in one segment (what a sequential commit writes).
   */
  loadBlocks(file: number, blk: number, count: number, at: Tid, buf: Uint8Array): void {
    this.#check()
    const bs = buf.length / count
    if (!Number.isInteger(bs)) {
      throw new InvalidArgumentError(`a buffer of ${buf.length} bytes does not hold ${count} whole blocks`)
    }
    for (let tries = 0; ; tries++) {
      let rows: (BlockRow & { blk: number; tid: number })[]
      try {
        rows = this.#s.loadRange.all(file, blk, blk + count, at) as unknown as typeof rows
        // After the range: a pack that ran before it left every version a snapshot >= its cutoff reads.
        const pg = this.#s.packedGen.get() as { packed: number; gen: number } | undefined
        if (pg === undefined) throw new CorruptError(`${this.path}: the meta row 'packed' is missing`)
        if (at < pg.packed) throw new StaleSnapshotError(at, pg.packed)
        this.#sawGen(pg.gen)
      } catch (e) {
        throw sqliteError(e, `read blocks ${blk}..${blk + count - 1} of file #${file}`)
      }
      let i = 0
      try {
        let next = 0 // the first block of the range not yet filled
        while (i < rows.length) {
          const r = rows[i]
          const k = r.blk - blk
          if (k > next) buf.fill(0, next * bs, k * bs) // never written
          // (1) the run: versions that follow each other in one segment, each a whole block
          let j = i + 1
          if (r.kind === KIND_IMAGE && r.len === bs) {
            while (j < rows.length) {
              const p = rows[j - 1]
              const q = rows[j]
              if (q.blk !== p.blk + 1 || q.kind !== KIND_IMAGE || q.seg !== p.seg || q.len !== bs) break
              if (q.off !== (p.off as number) + bs) break
              j++
            }
          }
          if (j - i === 1) this.#readVersion(file, r.blk, r, at, buf, k * bs, bs)
          else {
            // (2) one pread for the run, (3) every block verified against its own checksum
            const len = (j - i) * bs
            const n = this.#io.read(r.seg as number, buf, k * bs, len, r.off as number)
            for (let m = i; m < j; m++) {
              if (n < (m - i + 1) * bs) {
                i = m
                throw new SegmentGone(`segment ${r.seg}`)
              }
              const q = rows[m]
              this.#verifyImage(file, q.blk, q, at, buf, (q.blk - blk) * bs, bs)
            }
          }
          i = j
          next = rows[j - 1].blk - blk + 1
        }
        if (next < count) buf.fill(0, next * bs)
        return
      } catch (e) {
        const r = rows[Math.min(i, rows.length - 1)]
        this.#relook(e, tries, file, r.blk, r, at)
      }
    }
  }

  /** A pack in another process removed segments: drop the descriptors of files that may be gone. */
  #sawGen(gen: number): void {
    if (gen === this.#gen) return
    if (this.#gen !== -1) this.#io.forget()
    this.#gen = gen
  }

  /**
   * After a failed read of a version: a segment that is gone or shorter than the index says is looked up
   * again (a pack in another process moved the version), up to RELOOK times; anything else is thrown.
   */
  #relook(e: unknown, tries: number, file: number, blk: number, row: BlockRow, at: Tid): void {
    if (!(e instanceof SegmentGone)) throw e
    this.#io.forget()
    if (tries < RELOOK) return
    throw new ChecksumError(this.path, this.#fileName(file, at), blk, row.tid as number)
  }

  /** Reads and verifies one version (its index row `row`) into `buf` at `bufAt` (`bs` bytes). */
  #readVersion(
    file: number,
    blk: number,
    row: BlockRow,
    at: Tid,
    buf: Uint8Array,
    bufAt: number,
    bs: number,
  ): void {
    if (row.kind === KIND_TOMBSTONE) {
      if (this.#verify && blockSum(file, blk, row.tid as number, null) !== row.sum) {
        throw new ChecksumError(this.path, this.#fileName(file, at), blk, row.tid as number)
      }
      buf.fill(0, bufAt, bufAt + bs)
      return
    }
    this.#loadChain(file, blk, row, buf, bufAt, bs, 0)
    this.#verifyImage(file, blk, row, at, buf, bufAt, bs)
  }

  /**
   * The bytes of a version, unverified, into `buf` at `bufAt`: an image read whole; a piece version as
   * the version below it (recursively; zeros below the first) with its pieces applied. Answers the number
   * of piece versions in the chain. A version of a kind this format does not know is CorruptError.
   */
  #loadChain(
    file: number,
    blk: number,
    row: BlockRow,
    buf: Uint8Array,
    bufAt: number,
    bs: number,
    depth: number,
  ): number {
    if (row.kind === KIND_TOMBSTONE) {
      buf.fill(0, bufAt, bufAt + bs)
      return 0
    }
    if (row.kind === KIND_IMAGE) {
      if (row.len !== bs) {
        throw new CorruptError(`block ${blk} of file #${file} holds ${row.len} bytes, expected ${bs}`)
      }
      const n = this.#io.read(row.seg as number, buf, bufAt, bs, row.off as number)
      if (n < bs) throw new SegmentGone(`segment ${row.seg}`)
      return 0
    }
    if (row.kind !== KIND_PIECES || depth > 2 * MAX_DEPTH) {
      throw new CorruptError(
        `${this.path}: block ${blk} of file #${file} at tid ${row.tid} is stored as kind ${row.kind}, which this version does not read`,
      )
    }
    const below = this.#s.prevVersion.get(file, blk, row.tid) as BlockRow | undefined
    let d = 0
    if (below === undefined) buf.fill(0, bufAt, bufAt + bs)
    else d = this.#loadChain(file, blk, below, buf, bufAt, bs, depth + 1)
    const len = row.len as number
    if (this.#rec.length < len) this.#rec = new Uint8Array(len)
    const rec = this.#rec.subarray(0, len)
    if (this.#io.read(row.seg as number, rec, 0, len, row.off as number) < len)
      throw new SegmentGone(`segment ${row.seg}`)
    apply(
      rec,
      bs === buf.length ? buf : buf.subarray(bufAt, bufAt + bs),
      `${this.path}: block ${blk} of file #${file} at tid ${row.tid}`,
    )
    return d + 1
  }

  /** LoadPrev (txn.ts) for this storage's transactions. */
  #loadPrev = (file: number, blk: number, before: Tid, buf: Uint8Array): number | undefined => {
    const row = this.#s.prevVersion.get(file, blk, before) as BlockRow | undefined
    if (row === undefined || row.kind === KIND_TOMBSTONE) return undefined
    try {
      const depth = this.#loadChain(file, blk, row, buf, 0, buf.length, 0)
      // Pieces over a damaged image could never be read back (their sum is of the whole block).
      if (blockSum(file, blk, row.tid as number, buf) !== row.sum) return undefined
      return depth
    } catch {
      return undefined // unreadable: the new version is written whole
    }
  }

  #verifyImage(
    file: number,
    blk: number,
    row: BlockRow,
    at: Tid,
    buf: Uint8Array,
    bufAt: number,
    bs: number,
  ): void {
    if (!this.#verify) return
    const data = bufAt === 0 && bs === buf.length ? buf : buf.subarray(bufAt, bufAt + bs)
    if (blockSum(file, blk, row.tid as number, data) !== row.sum) {
      throw new ChecksumError(this.path, this.#fileName(file, at), blk, row.tid as number)
    }
  }

  /** A file's name for an error message: `"name" (#id)`, or `#id` when its record cannot be read. */
  #fileName(file: number, at: Tid): string {
    try {
      const row = this.#s.fileById.get(file, at) as RecordRow | undefined
      if (row && row.name !== null) return `${JSON.stringify(row.name)} (#${file})`
    } catch {}
    return `#${file}`
  }

  #record(row: RecordRow): FileRecord {
    verifyRecord(this.path, row)
    return toRecord(row)
  }

  changes(after: Tid, upto: Tid): Change[] | null {
    this.#check()
    try {
      if (after < this.#packed()) return null
      const rows = this.#s.changes.all(after, upto) as unknown as LogRow[]
      // A pack by another process between the two reads may have removed rows we needed: look again.
      if (after < this.#packed()) return null
      return rows.map((r) => ({
        tid: r.tid,
        file: r.file,
        blocks: decodeBlocks(r.blocks),
        record: r.record !== 0,
      }))
    } catch (e) {
      throw sqliteError(e, 'read the commit log')
    }
  }

  packed(): Tid {
    this.#check()
    try {
      return this.#packed()
    } catch (e) {
      throw sqliteError(e, 'read the pack cutoff')
    }
  }

  tidAt(time: Date): Tid {
    this.#check()
    try {
      return readTidAt(this.#log, time)
    } catch (e) {
      throw sqliteError(e, 'read the commit log')
    }
  }

  log(query: LogQuery): Commit[] {
    this.#check()
    try {
      const commits = readLog(this.#log, query)
      // A pack by another process during the reads may have cut entries short: keep what it kept whole.
      const packed = this.#packed()
      return commits.filter((c) => c.tid >= packed)
    } catch (e) {
      throw sqliteError(e, 'read the commit log')
    }
  }

  begin(): StorageTxn | Promise<StorageTxn> {
    return this.#asWriter(() => {
      try {
        const tid = this.head() + 1
        return new SQLiteTxn(this.#db, this.#s, this.#writer(), this.#loadPrev, tid, this.path, () =>
          this.#release(),
        )
      } catch (e) {
        this.#rollbackQuietly()
        this.#release()
        throw sqliteError(e, 'begin a write transaction')
      }
    })
  }

  /**
   * Runs `fn` holding the write lock: (1) this process's turn on the file (FIFO queue), (2) SQLite's
   * BEGIN IMMEDIATE, retried on timers while another process holds it. Synchronous when neither waits.
   * `fn` owns the turn from then on and must end it with #release (also on failure).
   */
  #asWriter<T>(fn: () => T): T | Promise<T> {
    this.#check()
    if (this.readOnly) throw new ReadOnlyError(`${this.path} is open read-only`)
    const turn = this.#queue.take(this)
    if (turn === true) return this.#locked(fn)
    return turn.then(() => this.#locked(fn))
  }

  #locked<T>(fn: () => T): T | Promise<T> {
    this.#holding = true
    try {
      this.#check()
      if (this.#tryBegin()) return fn()
    } catch (e) {
      this.#release()
      throw sqliteError(e, 'begin a write transaction')
    }
    return this.#waitForLock().then(fn)
  }

  /** (2) Retries BEGIN IMMEDIATE with backoff until the deadline; the turn is released on failure. */
  async #waitForLock(): Promise<void> {
    const deadline = performance.now() + this.#timeout
    try {
      for (let n = 0; ; n++) {
        const left = deadline - performance.now()
        if (left <= 0) {
          throw new LockedError(
            `begin a write transaction: the database is locked by another writer (waited ${this.#timeout} ms)`,
          )
        }
        await sleep(Math.min(left, backoff(n)))
        this.#check()
        if (this.#tryBegin()) return
      }
    } catch (e) {
      this.#release()
      throw sqliteError(e, 'begin a write transaction')
    }
  }

  /** BEGIN IMMEDIATE without SQLite's busy handler (which would sleep on this thread): false if busy. */
  #tryBegin(): boolean {
    const db = this.#db
    db.exec('PRAGMA busy_timeout = 0')
    try {
      db.exec('BEGIN IMMEDIATE')
      return true
    } catch (e) {
      const code = (e as { errcode?: unknown }).errcode
      if (typeof code === 'number' && ((code & 0xff) === 5 || (code & 0xff) === 6)) return false
      throw e
    } finally {
      db.exec(`PRAGMA busy_timeout = ${this.#timeout}`)
    }
  }

  pack(cutoff: Tid): PackResult | Promise<PackResult> {
    return this.#asWriter(() => this.#pack(cutoff))
  }

  /** The appender of this storage's commits (its batch buffer is allocated by the first writer). */
  #writer(): Appender {
    this.#appender ??= new Appender(this.#io, this.#s, this.#segMax, new Uint8Array(BATCH_BYTES))
    return this.#appender
  }

  /**
   * Pack's part in the segments, inside its transaction, after the index rows it removes are gone:
   * (1) the live bytes of every segment; (2) segments with at most REWRITE_LIVE of their bytes live get
   * their live versions moved (verified, in key order) to a fresh segment; (3) segments with nothing
   * live leave the index. Returns the segments to unlink once the transaction has committed.
   */
  #reclaim(): number[] {
    const db = this.#db
    const live = new Map<number, number>()
    for (const r of db
      .prepare('SELECT seg, sum(len) AS n FROM blocks WHERE seg IS NOT NULL GROUP BY seg')
      .all() as { seg: number; n: number }[])
      live.set(r.seg, r.n)
    const segs = db.prepare('SELECT id, size FROM segments ORDER BY id').all() as {
      id: number
      size: number
    }[]
    const dead: number[] = []
    const rewrite: number[] = []
    for (const { id, size } of segs) {
      const n = live.get(id) ?? 0
      if (n === 0) dead.push(id)
      else if (n <= REWRITE_LIVE * (size - HEADER)) rewrite.push(id)
    }
    if (rewrite.length > 0) {
      const w = this.#writer()
      w.fresh()
      const rows = db.prepare(
        'SELECT file_id AS file, blk, tid, kind, off, len, sum FROM blocks WHERE seg = ? ORDER BY file_id, blk, tid',
      )
      const move = db.prepare('UPDATE blocks SET seg = ?, off = ? WHERE file_id = ? AND blk = ? AND tid = ?')
      const to = { seg: 0, off: 0 }
      let buf = new Uint8Array(0)
      for (const seg of rewrite) {
        for (const r of rows.all(seg) as {
          file: number
          blk: number
          tid: number
          kind: number
          off: number
          len: number
          sum: number
        }[]) {
          if (buf.length < r.len) buf = new Uint8Array(r.len)
          const data = buf.subarray(0, r.len)
          let n = 0
          try {
            n = this.#io.read(seg, data, 0, r.len, r.off)
          } catch (e) {
            if (!(e instanceof SegmentGone)) throw e
          }
          // An image is verified here; a piece record (whose sum is the whole block's) by the loads.
          if (n < r.len || (r.kind === KIND_IMAGE && blockSum(r.file, r.blk, r.tid, data) !== r.sum)) {
            throw new ChecksumError(this.path, `#${r.file}`, r.blk, r.tid)
          }
          w.append(data, to)
          move.run(to.seg, to.off, r.file, r.blk, r.tid)
        }
        dead.push(seg)
      }
    }
    const del = db.prepare('DELETE FROM segments WHERE id = ?')
    for (const seg of dead) del.run(seg)
    if (dead.length > 0) db.exec(`UPDATE meta SET value = value + 1 WHERE key = 'gen'`)
    return dead
  }

  /**
   * Pack keeps, of every block, the newest version <= the cutoff and drops the older ones: a kept piece
   * version would lose the versions it is stored over, so it is written whole first (verified).
   */
  #fold(cutoff: Tid): void {
    const rows = this.#db
      .prepare(
        `SELECT b.file_id AS file, b.blk AS blk, b.tid AS tid, b.kind AS kind, b.seg AS seg, b.off AS off,
          b.len AS len, b.sum AS sum, (SELECT max(blksize) FROM file_versions WHERE file_id = b.file_id) AS bs
          FROM blocks b WHERE b.kind = ${KIND_PIECES}
          AND b.tid = (SELECT max(tid) FROM blocks WHERE file_id = b.file_id AND blk = b.blk AND tid <= ?)`,
      )
      .all(cutoff) as unknown as (BlockRow & { file: number; blk: number; tid: number; bs: number })[]
    if (rows.length === 0) return
    const set = this.#db.prepare(
      `UPDATE blocks SET kind = ${KIND_IMAGE}, seg = ?, off = ?, len = ? WHERE file_id = ? AND blk = ? AND tid = ?`,
    )
    const w = this.#writer()
    const to = { seg: 0, off: 0 }
    for (const r of rows) {
      const buf = new Uint8Array(r.bs)
      try {
        this.#loadChain(r.file, r.blk, r, buf, 0, r.bs, 0)
      } catch (e) {
        if (!(e instanceof SegmentGone)) throw e
        throw new ChecksumError(this.path, `#${r.file}`, r.blk, r.tid)
      }
      if (blockSum(r.file, r.blk, r.tid, buf) !== r.sum)
        throw new ChecksumError(this.path, `#${r.file}`, r.blk, r.tid)
      w.append(buf, to)
      set.run(to.seg, to.off, r.bs, r.file, r.blk, r.tid)
    }
  }

  /** After pack's commit: unlinks the segments it dropped, and any a crash kept from an earlier unlink. */
  #unlinkDead(dead: number[]): void {
    // next_segment first: the write lock is released, and a segment another writer commits between the
    // two reads then has an id >= next and is left alone (read the other way round it looked dead).
    const next = (this.#s.getMeta.get('next_segment') as { value: number }).value
    const keep = new Set(
      (this.#db.prepare('SELECT id FROM segments').all() as { id: number }[]).map((r) => r.id),
    )
    for (const seg of dead) this.#io.unlink(seg)
    // Below next_segment and not indexed: dropped by a pack that crashed before its unlink. (At
    // next_segment itself: a crashed writer's new segment, which the next writer reuses.)
    for (const seg of this.#io.list()) if (seg < next && !keep.has(seg)) this.#io.unlink(seg)
  }

  #pack(cutoff: Tid): PackResult {
    const db = this.#db
    try {
      try {
        const c = Math.min(cutoff, this.head())
        let blocks = 0
        let records = 0
        const dead = db
          .prepare(
            `WITH q(cut) AS (SELECT ?)
              SELECT file_id AS id FROM file_versions v, q WHERE name IS NULL AND tid <= cut
              AND tid = (SELECT max(tid) FROM file_versions WHERE file_id = v.file_id AND tid <= cut)`,
          )
          .all(c) as { id: number }[]
        for (const { id } of dead) {
          blocks += Number(db.prepare('DELETE FROM blocks WHERE file_id = ? AND tid <= ?').run(id, c).changes)
          records += Number(
            db.prepare('DELETE FROM file_versions WHERE file_id = ? AND tid <= ?').run(id, c).changes,
          )
          db.prepare('DELETE FROM log_files WHERE file_id = ? AND tid <= ?').run(id, c)
        }
        this.#fold(c)
        blocks += Number(
          db
            .prepare(
              `DELETE FROM blocks WHERE tid < (SELECT max(b.tid) FROM blocks b
                WHERE b.file_id = blocks.file_id AND b.blk = blocks.blk AND b.tid <= ?)`,
            )
            .run(c).changes,
        )
        blocks += Number(
          db.prepare(`DELETE FROM blocks WHERE kind = ${KIND_TOMBSTONE} AND tid <= ?`).run(c).changes,
        )
        records += Number(
          db
            .prepare(
              `DELETE FROM file_versions WHERE tid < (SELECT max(f.tid) FROM file_versions f
                WHERE f.file_id = file_versions.file_id AND f.tid <= ?)`,
            )
            .run(c).changes,
        )
        // The log from c on stays (c's own entry too): `log` and `tidAt` still see the oldest readable commit.
        db.prepare('DELETE FROM log_files WHERE tid < ?').run(c)
        db.prepare('DELETE FROM log WHERE tid < ?').run(c)
        db.prepare(`UPDATE meta SET value = max(value, ?) WHERE key = 'packed'`).run(c)
        const emptied = this.#reclaim()
        const head = this.head()
        this.#appender?.finish() // moved images on disk before the index points at them
        db.exec('COMMIT')
        this.#dv = -1 // the cutoff moved: a remembered location checks it again
        this.#appender?.reset()
        this.#unlinkDead(emptied)
        return { cutoff: c, head, blocksRemoved: blocks, recordsRemoved: records }
      } catch (e) {
        this.#rollbackQuietly()
        this.#appender?.reset()
        throw e
      }
    } catch (e) {
      throw sqliteError(e, 'pack')
    } finally {
      this.#release()
    }
  }

  /**
   * Verifies the checksum of every stored block version and file record (every version any snapshot can
   * still read), a batch at a time with a turn of the event loop between batches. Damage is collected,
   * not thrown; SQLite's own corruption errors (a damaged b-tree) end the check as CorruptError.
   */
  async check(options: CheckOptions = {}): Promise<CheckResult> {
    this.#check()
    const max = options.maxDamage ?? 1000
    const damage: ChecksumError[] = []
    const found = (e: ChecksumError) => {
      if (damage.length < max) damage.push(e)
    }
    const db = this.#db
    const q = (sql: string) => db.prepare(sql)
    try {
      const totals = q('SELECT count(*) AS n, coalesce(sum(len), 0) AS bytes FROM blocks').get() as {
        n: number
        bytes: number
      }
      const totalBlocks = totals.n
      const totalBytes = totals.bytes
      const names = new Map<number, string>()
      const blksizes = new Map<number, number>()
      let records = 0
      const recs = q(
        'SELECT file_id AS id, tid, name, blksize, size, meta, sum FROM file_versions ORDER BY file_id, tid',
      )
      for (const row of recs.iterate() as Iterable<RecordRow>) {
        records++
        if (row.name !== null) names.set(row.id, `${JSON.stringify(row.name)} (#${row.id})`)
        blksizes.set(row.id, row.blksize)
        try {
          verifyRecord(this.path, row)
        } catch (e) {
          if (e instanceof ChecksumError) found(e)
          else throw e
        }
      }
      // Keyset batches in key order: each batch is a fresh statement, so a commit meanwhile is fine.
      const batch = q(
        `SELECT file_id AS file, blk, tid, kind, seg, off, len, sum FROM blocks
          WHERE (file_id, blk, tid) > (?, ?, ?) ORDER BY file_id, blk, tid LIMIT ${CHECK_BATCH}`,
      )
      this.#io.forget() // a pack may have removed segments since the last load
      let blocks = 0
      let bytes = 0
      let last = [-1, -1, -1]
      let buf = new Uint8Array(0)
      for (;;) {
        options.signal?.throwIfAborted()
        this.#check()
        const rows = batch.all(last[0], last[1], last[2]) as unknown as (BlockRow & {
          file: number
          blk: number
          tid: number
        })[]
        if (rows.length === 0) break
        for (const row of rows) {
          blocks++
          const len = row.len ?? 0
          bytes += len
          let data: Uint8Array | null = null
          let ok = row.kind === KIND_TOMBSTONE || row.kind === KIND_IMAGE || row.kind === KIND_PIECES
          if (row.kind === KIND_IMAGE || row.kind === KIND_PIECES) {
            // A piece version is checked as loads read it: its chain, then the whole block's sum.
            const bs = row.kind === KIND_IMAGE ? len : (blksizes.get(row.file) ?? 0)
            if (buf.length < bs) buf = new Uint8Array(bs)
            data = buf.subarray(0, bs)
            try {
              this.#loadChain(row.file, row.blk, row, data, 0, bs, 0)
            } catch (e) {
              if (!(e instanceof SegmentGone) && !(e instanceof CorruptError)) throw e
              ok = false
            }
          }
          if (!ok || blockSum(row.file, row.blk, row.tid, data) !== row.sum) {
            found(new ChecksumError(this.path, names.get(row.file) ?? `#${row.file}`, row.blk, row.tid))
          }
          last = [row.file, row.blk, row.tid]
        }
        options.onProgress?.({ blocks, totalBlocks, bytes, totalBytes })
        await new Promise((r) => setImmediate(r))
      }
      return { blocks, records, bytes, damage }
    } catch (e) {
      throw sqliteError(e, `check ${this.path}`)
    }
  }

  /** Rolls back an open transaction and closes the SQLite file; later calls throw ClosedError. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    // Writers of this storage queued behind a transaction get ClosedError instead of waiting forever.
    this.#queue.dropOwner(this)
    this.#rollbackQuietly()
    this.#release()
    leaveQueue(this.#queue)
    try {
      this.#io.close()
    } catch {
      // descriptors already closed
    }
    try {
      this.#db.close()
    } catch {
      // already closed
    }
  }

  #packed(): number {
    return packedTid(this.#s)
  }

  #rollbackQuietly(): void {
    try {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
    } catch {
      // nothing to roll back
    }
  }

  /** Ends this storage's turn as the writer of its file (idempotent: close may have ended it). */
  #release(): void {
    if (!this.#holding) return
    this.#holding = false
    this.#queue.release()
  }

  #check(): void {
    if (this.#closed) throw new ClosedError('database is closed')
  }
}

interface Opened {
  readOnly: boolean
  timeout: number
  verify: boolean
  segMax: number
  locations: boolean
}

/**
 * A database whose index names segments needs its segment directory: a database copied or moved without
 * it is refused at open with a clear CorruptError instead of failing on every load.
 */
function checkSegmentDir(db: DatabaseSync, abs: string, path: string): void {
  const any = db.prepare('SELECT 1 AS x FROM segments LIMIT 1').get()
  if (any === undefined) return
  const dir = segmentDir(abs)
  const st = lstatSync(dir, { throwIfNoEntry: false })
  if (st === undefined) {
    throw new CorruptError(
      `${path}: its block segments directory ${dir} is missing (a database is the file and its -seg directory: copy, move and delete them together)`,
    )
  }
  if (!st.isDirectory()) throw new CorruptError(`${path}: ${dir} is not a directory`)
}

/** `dev:ino` of the database file: two paths (or two openDatabase calls) of one file share a queue. */
function fileKey(abs: string): string {
  const st = statSync(abs, { bigint: true })
  return `${st.dev}:${st.ino}`
}

/** Whether a storage of this process has the regular file `abs` open. */
function openHere(abs: string): boolean {
  const st = statSync(abs, { bigint: true, throwIfNoEntry: false })
  return st?.isFile() === true && hasQueue(`${st.dev}:${st.ino}`)
}

const SQLITE_CANTOPEN = 14
const SQLITE_READONLY = 8

/**
 * A read-only open that creates nothing. SQLite needs the `-shm` file of a WAL database; in a directory
 * this process cannot write, with no `-shm` there (the database was closed cleanly), it cannot make one
 * and fails with SQLITE_READONLY/CANTOPEN. If there is no `-wal` either, every committed transaction is
 * in the main file, and it is opened `immutable=1` instead (no locks, no -shm). A writer with access to
 * that directory could start while it is open: such a reader does not see its commits and may fail,
 * but a block it reads is still checked against its checksum.
 */
function openReadOnly(abs: string, timeout: number): DatabaseSync {
  const db = new DatabaseSync(abs, { readOnly: true, timeout })
  try {
    db.prepare('SELECT count(*) FROM sqlite_master').get()
    return db
  } catch (e) {
    db.close()
    const code = (e as { errcode?: unknown }).errcode
    const primary = typeof code === 'number' ? code & 0xff : -1
    if (primary !== SQLITE_READONLY && primary !== SQLITE_CANTOPEN) throw e
    if (existsSync(`${abs}-wal`)) {
      throw new ReadOnlyError(
        `${abs}: cannot read a WAL database with a pending ${abs}-wal without write access to its directory (open it once read-write to checkpoint it)`,
      )
    }
    return new DatabaseSync(immutableUri(abs), { readOnly: true })
  }
}

/** Checks, without writing, that an existing database is a bigfile database of our version. */
function checkSchema(db: DatabaseSync, path: string): void {
  const count = (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n
  if (count === 0) throw new CorruptError(`${path} is an SQLite database, but not a bigfile database`)
  checkIds(db, path)
}

function checkIds(db: DatabaseSync, path: string): void {
  const app = (db.prepare('PRAGMA application_id').get() as { application_id: number }).application_id
  if (app !== APPLICATION_ID) {
    throw new CorruptError(`${path} is an SQLite database, but not a bigfile database`)
  }
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
  if (version !== SCHEMA_VERSION) throw new VersionError(path, version, SCHEMA_VERSION)
}

/**
 * Creates a new database at `abs`, whole or not at all: (1) a private file next to it, created exclusively,
 * gets the schema and WAL mode with SQLite's journal and syncs off (nobody else opens it: a crash leaves
 * only it behind); (2) one fsync of it; (3) `link` publishes it under the name, never over an existing
 * file (EEXIST: another process created the database first, and its is kept); (4) the private name goes,
 * the directory is synced. Eight fsyncs of creating it in place (journal, directory, file, twice) become
 * two (issue 13: the open of a new database before an import).
 */
function publishNew(abs: string, path: string): void {
  const tmp = `${abs}.${randomUUID().slice(0, 8)}.new`
  const { O_CREAT, O_EXCL, O_NOFOLLOW, O_RDWR, O_RDONLY, O_DIRECTORY } = constants
  try {
    closeSync(openSync(tmp, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR, 0o644))
  } catch (e) {
    throw new StorageError(`cannot create ${path}: ${(e as Error).message}`, { cause: e })
  }
  try {
    // (1)
    const db = new DatabaseSync(tmp)
    try {
      db.exec('PRAGMA journal_mode = OFF')
      db.exec('PRAGMA synchronous = OFF')
      initSchema(db, path, false)
      const mode = db.prepare('PRAGMA journal_mode = WAL').get() as { journal_mode: string }
      if (mode.journal_mode !== 'wal') throw new CorruptError(`${path}: cannot switch to WAL mode`)
    } finally {
      db.close()
    }
    // (2)
    const fd = openSync(tmp, O_RDONLY | O_NOFOLLOW)
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    // (3)
    try {
      linkSync(tmp, abs)
    } catch (e) {
      if ((e as { code?: unknown }).code !== 'EEXIST') throw e
      // Another creator won the race, or something else is at the name: only a regular file is
      // opened next (a link planted there, even a dangling one, is refused, never created through).
      if (!lstatSync(abs).isFile())
        throw new CorruptError(`${path} is not a bigfile database (not a regular file)`)
    }
  } catch (e) {
    if (e instanceof CorruptError) throw e
    throw new StorageError(`cannot create ${path}: ${(e as Error).message}`, { cause: e })
  } finally {
    // (4)
    for (const sfx of ['', '-wal', '-shm']) {
      try {
        unlinkSync(tmp + sfx)
      } catch {}
    }
  }
  const dfd = openSync(dirname(abs), O_RDONLY | O_DIRECTORY)
  try {
    fsyncSync(dfd)
  } finally {
    closeSync(dfd)
  }
}

/** Creates the schema in a new file (in WAL mode already when `wal`), or checks that an existing one is ours. */
function initSchema(db: DatabaseSync, path: string, wal: boolean): void {
  const count = () => (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n
  if (count() === 0) {
    // page_size only takes effect before the first table. The file holds only small rows (the block index,
    // records, the log): 4 KiB pages keep a lookup's read and a scattered commit's WAL writes small.
    db.exec('PRAGMA page_size = 4096')
    // WAL before the first write: the schema's commit is then one WAL append and sync, where a
    // rollback-journal commit and then the switch to WAL took 8 fsyncs (issue 13: a new database's open).
    if (wal) db.exec('PRAGMA journal_mode = WAL')
    db.exec('BEGIN IMMEDIATE')
    try {
      if (count() === 0) {
        // another process may have won the race
        db.exec(SCHEMA)
        db.prepare(`INSERT INTO meta (key, value) VALUES ('uuid', ?)`).run(randomUUID().replaceAll('-', ''))
      }
      db.exec('COMMIT')
    } catch (e) {
      db.exec('ROLLBACK')
      throw e
    }
  }
  checkIds(db, path)
}
