// One open write transaction of the SQLite storage: file operations and block index rows go straight
// into SQLite, block images into the current segment (appender.ts); at commit the segment is flushed and
// synced, then the log rows are written and SQLite commits.
import type { DatabaseSync } from 'node:sqlite'
import { ExistsError, InvalidArgumentError, NotFoundError } from '../../errors.ts'
import type { FilePatch, Meta, NewFile, StorageTxn, Tid, Touched } from '../storage.ts'
import type { Appender, Location } from './appender.ts'
import { encodeBlocks } from './blocklist.ts'
import { blockSum, recordSum, verifyRecord } from './checksum.ts'
import { checkConflicts } from './conflicts.ts'
import { sqliteError } from './errors.ts'
import { diff, encode, MAX_DEPTH, PIECES_MIN_BLKSIZE } from './pieces.ts'
import { KIND_IMAGE, KIND_PIECES, KIND_TOMBSTONE } from './schema.ts'
import type { RecordRow, Statements } from './statements.ts'

/**
 * Loads into `buf` the newest version of a block older than `before`, unverified (the version written over
 * it carries the whole block's checksum); answers the length of its chain of piece versions, or undefined
 * when there is no image to build on (never written, a tombstone, unreadable).
 */
export type LoadPrev = (file: number, blk: number, before: Tid, buf: Uint8Array) => number | undefined

interface FileChange {
  blocks: Set<number>
  record: boolean
}

export class SQLiteTxn implements StorageTxn {
  readonly tid: Tid
  readonly #db: DatabaseSync
  readonly #s: Statements
  readonly #changes = new Map<number, FileChange>()
  readonly #blksizes = new Map<number, number>()
  /** Files this transaction created: their blocks have no earlier version to store pieces over. */
  readonly #created = new Set<number>()
  readonly #onEnd: () => void
  readonly #appender: Appender
  readonly #loadPrev: LoadPrev
  readonly #at: Location = { seg: 0, off: 0 }
  /** The previous version of a block being written as pieces (allocated by the first such write). */
  #prev: Uint8Array | undefined
  #done = false

  readonly #path: string

  constructor(
    db: DatabaseSync,
    s: Statements,
    appender: Appender,
    loadPrev: LoadPrev,
    tid: Tid,
    path: string,
    onEnd: () => void,
  ) {
    this.#path = path
    this.#appender = appender
    this.#loadPrev = loadPrev
    this.#db = db
    this.#s = s
    this.tid = tid
    this.#onEnd = onEnd
  }

  #change(file: number): FileChange {
    let c = this.#changes.get(file)
    if (!c) this.#changes.set(file, (c = { blocks: new Set(), record: false }))
    return c
  }

  #current(file: number): RecordRow {
    const row = this.#s.fileById.get(file, this.tid) as RecordRow | undefined
    if (!row || row.name === null) throw new NotFoundError(`file #${file} does not exist (deleted?)`)
    verifyRecord(this.#path, row)
    return row
  }

  #checkFree(name: string): void {
    const row = this.#s.fileByName.get(name, this.tid) as RecordRow | undefined
    if (row) throw new ExistsError(`a file named ${JSON.stringify(name)} already exists`)
  }

  #put(file: number, name: string | null, blksize: number, size: number, meta: string): void {
    const sum = recordSum(file, this.tid, name, blksize, size, meta)
    this.#s.insertVersion.run(file, this.tid, name, blksize, size, meta, sum)
    this.#change(file).record = true
  }

  checkConflicts(at: Tid, touched: readonly Touched[]): void {
    this.#open()
    try {
      checkConflicts(this.#s, at, touched)
    } catch (e) {
      throw sqliteError(e, 'conflict check')
    }
  }

  createFile(spec: NewFile): number {
    this.#open()
    try {
      this.#checkFree(spec.name)
      const id = (this.#s.getMeta.get('next_file_id') as { value: number }).value
      this.#s.setMeta.run(id + 1, 'next_file_id')
      this.#put(id, spec.name, spec.blksize, spec.size, JSON.stringify(spec.meta))
      this.#created.add(id)
      return id
    } catch (e) {
      throw sqliteError(e, `create file ${JSON.stringify(spec.name)}`)
    }
  }

  updateFile(file: number, patch: FilePatch): void {
    this.#open()
    try {
      const cur = this.#current(file)
      const name = patch.name ?? (cur.name as string)
      if (name !== cur.name) this.#checkFree(name)
      const meta = patch.meta === undefined ? cur.meta : JSON.stringify(patch.meta satisfies Meta)
      this.#put(file, name, cur.blksize, patch.size ?? cur.size, meta)
    } catch (e) {
      throw sqliteError(e, `update file #${file}`)
    }
  }

  deleteFile(file: number): void {
    this.#open()
    try {
      const cur = this.#current(file)
      this.#put(file, null, cur.blksize, 0, '{}')
    } catch (e) {
      throw sqliteError(e, `delete file #${file}`)
    }
  }

  dropBlocks(file: number, fromBlk: number): void {
    this.#open()
    try {
      const rows = this.#s.liveBlocksFrom.all(file, fromBlk) as { blk: number }[]
      const c = this.#change(file)
      for (const { blk } of rows) {
        const sum = blockSum(file, blk, this.tid, null)
        this.#s.insertBlock.run(file, blk, this.tid, KIND_TOMBSTONE, null, null, null, sum)
        c.blocks.add(blk)
      }
    } catch (e) {
      throw sqliteError(e, `drop blocks >= ${fromBlk} of file #${file}`)
    }
  }

  writeBlock(file: number, blk: number, data: Uint8Array | null): void {
    this.#open()
    if (data !== null) {
      let bs = this.#blksizes.get(file)
      if (bs === undefined) this.#blksizes.set(file, (bs = this.#current(file).blksize))
      if (data.length !== bs) {
        throw new InvalidArgumentError(
          `block of ${data.length} bytes written to file #${file} of blksize ${bs}`,
        )
      }
    }
    try {
      const sum = blockSum(file, blk, this.tid, data)
      if (data === null) {
        this.#s.insertBlock.run(file, blk, this.tid, KIND_TOMBSTONE, null, null, null, sum)
      } else if (
        data.length >= PIECES_MIN_BLKSIZE &&
        !this.#created.has(file) &&
        this.#writePieces(file, blk, data, sum)
      ) {
        // stored as the pieces that changed
      } else {
        const at = this.#at
        this.#appender.append(data, at)
        this.#s.insertBlock.run(file, blk, this.tid, KIND_IMAGE, at.seg, at.off, data.length, sum)
      }
    } catch (e) {
      throw sqliteError(e, `write block ${blk} of file #${file}`)
    }
    this.#change(file).blocks.add(blk)
  }

  /**
   * Stores `data` as its changes over the block's previous version when that is worth it: (1) load the
   * previous version, (2) compare (pieces.ts), (3) append the piece record and index it. False: write the
   * whole image (no previous image, a chain already MAX_DEPTH long, or more than a quarter changed).
   */
  #writePieces(file: number, blk: number, data: Uint8Array, sum: number): boolean {
    if (this.#prev?.length !== data.length) this.#prev = new Uint8Array(data.length)
    const prev = this.#prev
    const depth = this.#loadPrev(file, blk, this.tid, prev)
    if (depth === undefined || depth >= MAX_DEPTH) return false
    const ranges = diff(prev, data)
    if (ranges === undefined) return false
    const rec = encode(data, ranges)
    const at = this.#at
    this.#appender.append(rec, at)
    this.#s.insertBlock.run(file, blk, this.tid, KIND_PIECES, at.seg, at.off, rec.length, sum)
    return true
  }

  commit(): void {
    this.#open()
    try {
      this.#s.insertLog.run(this.tid, Date.now() / 1000)
      for (const [file, c] of this.#changes) {
        const blocks = [...c.blocks].sort((a, b) => a - b)
        this.#s.insertLogFile.run(
          this.tid,
          file,
          blocks.length ? encodeBlocks(blocks) : null,
          c.record ? 1 : 0,
        )
      }
      // The images are on disk before the index that points at them commits.
      this.#appender.finish()
      this.#db.exec('COMMIT')
    } catch (e) {
      this.rollback()
      throw sqliteError(e, `commit of tid ${this.tid}`)
    }
    this.#end()
  }

  rollback(): void {
    if (this.#done) return
    try {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK')
    } catch {
      // Nothing more to do: SQLite rolls back a failed transaction itself, or at the next open.
    }
    this.#end()
  }

  #end(): void {
    if (this.#done) return
    this.#done = true
    this.#appender.reset()
    this.#prev = undefined
    this.#onEnd()
  }

  #open(): void {
    if (this.#done) throw new InvalidArgumentError(`transaction ${this.tid} has already ended`)
  }
}
