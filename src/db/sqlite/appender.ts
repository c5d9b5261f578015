// The writer's side of the segments: block images appended to the current segment through a batch
// buffer (large sequential writes), a new segment when it is full, and at commit the flush, the
// segment's new high-water mark in the index and the sync, all before SQLite's COMMIT.
import { HEADER, type Segments } from './segments.ts'
import type { Statements } from './statements.ts'

/** Where an appended image went. */
export interface Location {
  seg: number
  off: number
}

/** After this many bytes written to a segment in one transaction, its sync is started in the background. */
const EARLY_SYNC = 8 << 20

export class Appender {
  readonly #io: Segments
  readonly #s: Statements
  readonly #segMax: number
  readonly #batch: Uint8Array
  #started = false
  #seg = 0
  #end = 0
  #batchPos = 0
  #batchLen = 0
  /** Bytes written since the last background sync was started. */
  #unsynced = 0
  /** Bytes appended since the last commit or rollback. */
  appended = 0

  constructor(io: Segments, s: Statements, segMax: number, batch: Uint8Array) {
    this.#io = io
    this.#s = s
    this.#segMax = segMax
    this.#batch = batch
  }

  /** Appends a copy of `data` (copied or written before it returns); where it went is in `at`. */
  append(data: Uint8Array, at: Location): void {
    if (!this.#started) this.#start()
    const len = data.length
    if (this.#end + len > this.#segMax && this.#end > HEADER) this.#rollover()
    const off = this.#end
    if (len >= this.#batch.length) {
      this.#flush()
      this.#io.write(this.#seg, data, off)
      this.#wrote(len)
    } else {
      if (this.#batchLen + len > this.#batch.length) this.#flush()
      if (this.#batchLen === 0) this.#batchPos = off
      this.#batch.set(data, this.#batchLen)
      this.#batchLen += len
    }
    this.#end += len
    this.appended += len
    at.seg = this.#seg
    at.off = off
  }

  /** Starts a fresh segment for what follows (pack: moved images never land in a segment it empties). */
  fresh(): void {
    if (!this.#started) this.#start()
    if (this.#end > HEADER) this.#rollover()
  }

  /** (1) flush the batch, (2) record the high-water mark in the index, (3) sync: before COMMIT. */
  finish(): void {
    if (!this.#started) return
    this.#flush()
    this.#s.setSegmentSize.run(this.#end, this.#seg)
    this.#io.sync()
  }

  /** Forgets the transaction's state (after COMMIT or ROLLBACK; an unindexed tail stays for the next writer to cut). */
  reset(): void {
    this.#started = false
    this.#batchLen = 0
    this.#unsynced = 0
    this.appended = 0
  }

  #start(): void {
    this.#started = true
    const cur = this.#s.lastSegment.get() as { id: number; size: number } | undefined
    if (cur === undefined) this.#newSegment()
    else {
      this.#io.openForAppend(cur.id, cur.size)
      this.#seg = cur.id
      this.#end = cur.size
    }
  }

  #rollover(): void {
    this.#flush()
    this.#s.setSegmentSize.run(this.#end, this.#seg)
    this.#newSegment()
  }

  #newSegment(): void {
    const id = (this.#s.getMeta.get('next_segment') as { value: number }).value
    this.#s.setMeta.run(id + 1, 'next_segment')
    this.#s.insertSegment.run(id, HEADER)
    this.#io.create(id)
    this.#seg = id
    this.#end = HEADER
  }

  #flush(): void {
    if (this.#batchLen === 0) return
    this.#io.write(this.#seg, this.#batch.subarray(0, this.#batchLen), this.#batchPos)
    this.#wrote(this.#batchLen)
    this.#batchLen = 0
  }

  /**
   * A large commit's data goes to the disk while it is still being written (an import: while the next
   * piece is read), not all of it in the sync at commit.
   */
  #wrote(n: number): void {
    this.#unsynced += n
    if (this.#unsynced < EARLY_SYNC) return
    this.#unsynced = 0
    this.#io.startSync(this.#seg)
  }
}
