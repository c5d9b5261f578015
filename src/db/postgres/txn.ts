// One open write transaction of the PostgreSQL storage, on one pooled connection that holds the
// head row lock: file operations and block writes go straight to the server (block bytes as binary
// parameters); the log rows, the new head and the NOTIFY are written at commit, right before COMMIT.
// The server transaction starts late: a transaction that only writes a batch of blocks (the usual
// small commit of a writer at the head) sends BEGIN, the lock, its blocks, the log and COMMIT in one
// round trip, its tid guessed from the newest head the storage knows and checked under the lock.
import type { PoolClient } from 'pg'
import { CorruptError, ExistsError, InvalidArgumentError, NotFoundError } from '../../errors.ts'
import { encodeBlocks } from '../sqlite/blocklist.ts'
import { blockSum, recordSum, verifyRecord } from '../sqlite/checksum.ts'
import type { FilePatch, Meta, NewFile, StorageTxn, Tid, Touched } from '../storage.ts'
import { ConnectionError, isConnectionLoss, pgError } from './errors.ts'
import { pipeline, type Statement } from './pipeline.ts'
import type { PostgresStorage, RecordRow } from './storage.ts'

/** Pending block writes leave when this many are waiting, or this many bytes. */
const BATCH_BLOCKS = 64
const BATCH_BYTES = 4 << 20

/** SQLSTATE division_by_zero: the commit's guard, when the guessed head was not the head. */
const GUARD = '22012'

interface FileChange {
  blocks: Set<number>
  record: boolean
}

export class PostgresTxn implements StorageTxn {
  #tid: Tid
  /** Whether BEGIN and the head row lock have run (until then #tid is a guess: the known head + 1). */
  #begun = false
  /** A conflict check skipped because its `at` was the guessed head: run for real if the guess was wrong. */
  #skipped: { at: Tid; touched: readonly Touched[] } | undefined
  readonly #st: PostgresStorage
  readonly #c: PoolClient
  /** Written into the log row, so a commit whose reply was lost can be recognised. */
  readonly #token: string
  readonly #changes = new Map<number, FileChange>()
  readonly #batch: { file: number; blk: number; data: Buffer | null }[] = []
  /** Index in #batch by "file:blk". */
  readonly #pendingAt = new Map<string, number>()
  #batchBytes = 0
  readonly #blksizes = new Map<number, number>()
  readonly #onEnd: (err?: unknown) => void
  #done = false

  /** `guess`: the newest head the storage knows; the tid is guess + 1 unless BEGIN finds a newer head. */
  constructor(st: PostgresStorage, c: PoolClient, guess: Tid, token: string, onEnd: (err?: unknown) => void) {
    this.#st = st
    this.#c = c
    this.#tid = guess + 1
    this.#token = token
    this.#onEnd = onEnd
  }

  /** The tid this transaction commits as (final once the server transaction has begun; always after commit). */
  get tid(): Tid {
    return this.#tid
  }

  /**
   * BEGIN and the row lock on meta 'head' — the database's write lock across processes and machines,
   * held until COMMIT or ROLLBACK — in one round trip; tid = head + 1. A conflict check skipped on a
   * guess that turned out stale runs now.
   */
  async #begin(): Promise<PoolClient> {
    if (this.#begun) return this.#c
    const res = (await this.#c.query(
      `BEGIN; SELECT value AS head FROM ${this.#st.s}.meta WHERE key = 'head' FOR UPDATE`,
    )) as unknown as { rows: { head: number }[] }[]
    this.#begun = true
    const h = res[1].rows[0]
    if (h === undefined) throw new CorruptError(`${this.#st.where}: the meta row 'head' is missing`)
    this.#tid = h.head + 1
    this.#st.seen(h.head)
    const skipped = this.#skipped
    this.#skipped = undefined
    if (skipped) await this.#checkConflicts(skipped.at, skipped.touched)
    return this.#c
  }

  /** The server process of this transaction's connection (for diagnostics and fault tests). */
  get pid(): number {
    return (this.#c as unknown as { processID: number }).processID
  }

  #change(file: number): FileChange {
    let c = this.#changes.get(file)
    if (!c) this.#changes.set(file, (c = { blocks: new Set(), record: false }))
    return c
  }

  async #current(file: number): Promise<RecordRow> {
    const row = await this.#st.queryFileById(await this.#begin(), file, this.tid)
    if (!row || row.name === null) throw new NotFoundError(`file #${file} does not exist (deleted?)`)
    verifyRecord(this.#st.where, row)
    return row
  }

  async #checkFree(name: string): Promise<void> {
    if (await this.#st.queryFileByName(await this.#begin(), name, this.tid)) {
      throw new ExistsError(`a file named ${JSON.stringify(name)} already exists`)
    }
  }

  async #put(file: number, name: string | null, blksize: number, size: number, meta: string): Promise<void> {
    await (await this.#begin()).query({
      name: 'bf_put_version',
      text: `INSERT INTO ${this.#st.s}.file_versions (file_id, tid, name, blksize, size, meta, sum)
        VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (file_id, tid) DO UPDATE
        SET name = EXCLUDED.name, blksize = EXCLUDED.blksize, size = EXCLUDED.size, meta = EXCLUDED.meta,
        sum = EXCLUDED.sum`,
      values: [
        file,
        this.tid,
        name,
        blksize,
        size,
        meta,
        recordSum(file, this.tid, name, blksize, size, meta),
      ],
    })
    this.#change(file).record = true
  }

  async checkConflicts(at: Tid, touched: readonly Touched[]): Promise<void> {
    this.#open()
    // A snapshot at the head has missed no commit, so nothing can conflict and no pack can have passed
    // it (the cutoff never exceeds the head). Before BEGIN the head is a guess: when nothing but the
    // commit will need the server (#commitOnly), the guess is checked under the lock at commit (and the
    // check runs there if it was stale); otherwise BEGIN now, then check against the real head.
    if (!this.#begun && at === this.tid - 1 && this.#commitOnly(touched)) {
      this.#skipped = { at, touched }
      return
    }
    try {
      await this.#begin()
      await this.#checkConflicts(at, touched)
    } catch (e) {
      throw pgError(e, 'conflict check')
    }
  }

  async #checkConflicts(at: Tid, touched: readonly Touched[]): Promise<void> {
    if (at === this.tid - 1) return
    await this.#st.checkConflictsOn(this.#c, at, touched)
  }

  /**
   * Whether a commit of `touched` sends nothing before its commit: block writes only, to files whose
   * blksize is known, few enough to wait in one batch. (A ConflictError found at a flush would reach
   * the caller wrapped in the VM's StoreError; found at commit, it reaches it as itself.)
   */
  #commitOnly(touched: readonly Touched[]): boolean {
    let blocks = 0
    let bytes = 0
    for (const t of touched) {
      if (t.file === undefined || t.record) return false
      const bs = this.#st.blksizes.get(t.file)
      if (bs === undefined) return false
      blocks += t.blocks.length
      bytes += t.blocks.length * bs
    }
    return blocks < BATCH_BLOCKS && bytes < BATCH_BYTES
  }

  async createFile(spec: NewFile): Promise<number> {
    this.#open()
    try {
      await this.#checkFree(spec.name)
      const r = await (await this.#begin()).query({
        name: 'bf_next_file_id',
        text: `UPDATE ${this.#st.s}.meta SET value = value + 1 WHERE key = 'next_file_id' RETURNING value - 1 AS id`,
      })
      const id = r.rows[0].id as number
      await this.#put(id, spec.name, spec.blksize, spec.size, JSON.stringify(spec.meta))
      return id
    } catch (e) {
      throw pgError(e, `create file ${JSON.stringify(spec.name)}`)
    }
  }

  async updateFile(file: number, patch: FilePatch): Promise<void> {
    this.#open()
    try {
      const cur = await this.#current(file)
      const name = patch.name ?? (cur.name as string)
      if (name !== cur.name) await this.#checkFree(name)
      const meta = patch.meta === undefined ? cur.meta : JSON.stringify(patch.meta satisfies Meta)
      await this.#put(file, name, cur.blksize, patch.size ?? cur.size, meta)
    } catch (e) {
      throw pgError(e, `update file #${file}`)
    }
  }

  async deleteFile(file: number): Promise<void> {
    this.#open()
    try {
      const cur = await this.#current(file)
      await this.#put(file, null, cur.blksize, 0, '{}')
    } catch (e) {
      throw pgError(e, `delete file #${file}`)
    }
  }

  async dropBlocks(file: number, fromBlk: number): Promise<void> {
    this.#open()
    try {
      await this.#flush() // the statement below reads the table, this transaction's blocks included
      const s = this.#st.s
      const r = await (await this.#begin()).query({
        name: 'bf_live_blocks_from',
        text: `SELECT blk, tid FROM ${s}.blocks b WHERE file_id = $1 AND blk >= $2 AND data IS NOT NULL
            AND tid = (SELECT max(tid) FROM ${s}.blocks WHERE file_id = b.file_id AND blk = b.blk)`,
        values: [file, fromBlk],
      })
      const c = this.#change(file)
      const rows = r.rows as { blk: number; tid: number }[]
      // A block this transaction wrote already has its row at this tid: that row becomes the tombstone.
      for (const { blk, tid } of rows) {
        if (tid === this.tid) await this.#rewrite(file, blk, null)
      }
      for (const { blk, tid } of rows) {
        if (tid === this.tid) continue
        this.#queue(file, blk, null)
        if (this.#batch.length >= BATCH_BLOCKS) await this.#flush()
      }
      await this.#flush()
      for (const { blk } of rows) c.blocks.add(blk)
    } catch (e) {
      throw pgError(e, `drop blocks >= ${fromBlk} of file #${file}`)
    }
  }

  /**
   * Blocks are sent a few at a time: copied into a pending batch (≤ BATCH_BLOCKS blocks and
   * BATCH_BYTES), which goes out as one multi-row INSERT (bytes as binary parameters) when full, before
   * dropBlocks and at commit. One round trip per 4 KiB block would dominate small-block commits.
   */
  async writeBlock(file: number, blk: number, data: Uint8Array | null): Promise<void> {
    this.#open()
    try {
      let bytes: Buffer | null = null
      if (data !== null) {
        // A file's blksize never changes: the storage remembers it across transactions (learnt ones
        // only after COMMIT: a rolled-back creation gives its id to the next one).
        let bs = this.#st.blksizes.get(file) ?? this.#blksizes.get(file)
        if (bs === undefined) this.#blksizes.set(file, (bs = (await this.#current(file)).blksize))
        if (data.length !== bs) {
          throw new InvalidArgumentError(
            `block of ${data.length} bytes written to file #${file} of blksize ${bs}`,
          )
        }
        bytes = Buffer.from(data) // a copy: the page may change once this call returns
      }
      const key = `${file}:${blk}`
      const pending = this.#pendingAt.get(key)
      if (pending !== undefined) {
        // written twice before the batch left: the last bytes win
        this.#batchBytes += (bytes?.length ?? 0) - (this.#batch[pending].data?.length ?? 0)
        this.#batch[pending].data = bytes
      } else if (this.#changes.get(file)?.blocks.has(blk)) {
        // already in the table for this tid (a tombstone of dropBlocks): an UPDATE
        await this.#flush()
        await this.#rewrite(file, blk, bytes)
      } else {
        this.#queue(file, blk, bytes)
        if (this.#batch.length >= BATCH_BLOCKS || this.#batchBytes >= BATCH_BYTES) await this.#flush()
      }
    } catch (e) {
      throw pgError(e, `write block ${blk} of file #${file}`)
    }
    this.#change(file).blocks.add(blk)
  }

  #queue(file: number, blk: number, bytes: Buffer | null): void {
    this.#pendingAt.set(`${file}:${blk}`, this.#batch.length)
    this.#batch.push({ file, blk, data: bytes })
    this.#batchBytes += bytes?.length ?? 0
  }

  /** Replaces the row this transaction already wrote for (file, blk). */
  async #rewrite(file: number, blk: number, bytes: Buffer | null): Promise<void> {
    await (await this.#begin()).query({
      name: 'bf_rewrite_block',
      text: `UPDATE ${this.#st.s}.blocks SET data = $4, sum = $5 WHERE file_id = $1 AND blk = $2 AND tid = $3`,
      values: [file, blk, this.tid, bytes, blockSum(file, blk, this.tid, bytes)],
    })
  }

  /** Sends the pending blocks: one INSERT of plain rows (no ON CONFLICT: speculative insertion costs more). */
  async #flush(): Promise<void> {
    if (this.#batch.length === 0) return
    const c = await this.#begin()
    const st = this.#batchStatement()
    this.#clearBatch()
    if (st) await c.query({ name: `bf_write_blocks_${st.rows}`, text: st.text, values: st.values })
  }

  #clearBatch(): void {
    this.#batch.length = 0
    this.#pendingAt.clear()
    this.#batchBytes = 0
  }

  /** The pending blocks as one INSERT statement at this.tid (bytes as binary parameters). */
  #batchStatement(): (Statement & { rows: number; values: unknown[] }) | undefined {
    const batch = this.#batch
    if (batch.length === 0) return undefined
    const rows: string[] = []
    const values: (number | Buffer | null)[] = []
    for (const b of batch) {
      const k = values.length
      rows.push(`($${k + 1}, $${k + 2}, $${k + 3}, $${k + 4}, $${k + 5})`)
      values.push(b.file, b.blk, this.tid, b.data, blockSum(b.file, b.blk, this.tid, b.data))
    }
    return {
      rows: batch.length,
      text: `INSERT INTO ${this.#st.s}.blocks (file_id, blk, tid, data, sum) VALUES ${rows.join(', ')}`,
      values,
      prepare: true,
    }
  }

  /**
   * Writes the last pending blocks, the log, the new head and the NOTIFY, and COMMITs, in one round
   * trip (a pipeline of prepared statements, every value a parameter, the bytes binary). Not begun yet:
   * the statements are the server's implicit transaction (no BEGIN or COMMIT: the Sync commits it), led
   * by the head row lock with a guard that fails the statement (division by zero) unless the head is
   * the guess; then, the implicit transaction rolled back, BEGIN for real (the skipped conflict check runs) and the pipeline again at the right tid. When the
   * connection is lost meanwhile, the outcome is unknown to us: the token in the log row tells, read on
   * another connection.
   */
  async commit(): Promise<void> {
    this.#open()
    let statements = this.#commitStatements()
    try {
      try {
        await pipeline(this.#c, statements)
      } catch (e) {
        if (this.#begun || (e as { code?: unknown }).code !== GUARD) throw e
        // (the guess was stale: another process committed after the head this storage knew; the
        // implicit transaction ended at the Sync, rolled back)
        await this.#begin()
        statements = this.#commitStatements()
        await pipeline(this.#c, statements)
      }
    } catch (e) {
      if (!isConnectionLoss(e)) {
        // A statement failed: the server skipped the rest, COMMIT included; the transaction is void.
        await this.rollback()
        throw pgError(e, `commit of tid ${this.tid}`)
      }
      this.#end(e)
      let done: boolean
      try {
        done = await this.#st.committed(this.tid, this.#token)
      } catch (e2) {
        throw new ConnectionError(
          `commit of tid ${this.tid}: the connection was lost during COMMIT and the outcome cannot be read (${(e2 as Error).message}); reconnect and look at the data`,
          { cause: e },
        )
      }
      if (!done) {
        throw new ConnectionError(
          `commit of tid ${this.tid}: the connection was lost; nothing was committed`,
          { cause: e },
        )
      }
    }
    for (const [file, bs] of this.#blksizes) this.#st.blksizes.set(file, bs)
    this.#st.seen(this.tid)
    this.#end()
  }

  /**
   * The commit's statements at this.tid: [the guarded lock,] the last blocks, the log, head, NOTIFY
   * [, COMMIT]. Each is prepared (parsed once per connection): its text depends only on the schema
   * and the number of rows, every value is a parameter.
   */
  #commitStatements(): Statement[] {
    const s = this.#st.s
    const tid = this.tid
    const statements: Statement[] = []
    // Not begun: no BEGIN or COMMIT either; the statements before one Sync are the server's implicit
    // transaction, committed at the Sync unless one fails (then all of it is rolled back).
    if (!this.#begun) {
      statements.push({
        text: `SELECT CASE WHEN value = $1 THEN 1 ELSE 1 / (value - value) END
            FROM ${s}.meta WHERE key = 'head' FOR UPDATE`,
        values: [tid - 1],
        prepare: true,
      })
    }
    const blocks = this.#batchStatement()
    if (blocks) statements.push(blocks)
    // Commit times never go backwards (a clock stepped back still gives the newest commit the newest time).
    statements.push({
      text: `INSERT INTO ${s}.log (tid, time, token) VALUES ($1, greatest($2::float8,
        coalesce((SELECT time FROM ${s}.log ORDER BY tid DESC LIMIT 1), 0)), $3)`,
      values: [tid, Date.now() / 1000, this.#token],
      prepare: true,
    })
    if (this.#changes.size) {
      const rows: string[] = []
      const values: (number | boolean | Buffer | null)[] = [tid]
      for (const [file, c] of this.#changes) {
        const k = values.length
        rows.push(`($1, $${k + 1}, $${k + 2}, $${k + 3})`)
        const blocks = [...c.blocks].sort((a, b) => a - b)
        values.push(file, blocks.length ? Buffer.from(encodeBlocks(blocks)) : null, c.record)
      }
      statements.push({
        text: `INSERT INTO ${s}.log_files (tid, file_id, blocks, record) VALUES ${rows.join(', ')}`,
        values,
        prepare: true,
      })
    }
    statements.push(
      { text: `UPDATE ${s}.meta SET value = $1 WHERE key = 'head'`, values: [tid], prepare: true },
      { text: `SELECT pg_notify('${this.#st.schema}', $1)`, values: [String(tid)], prepare: true },
    )
    if (this.#begun) statements.push({ text: 'COMMIT' })
    return statements
  }

  async rollback(err?: unknown): Promise<void> {
    if (this.#done) return
    let lost = err !== undefined && isConnectionLoss(err) ? err : undefined
    // Not begun: nothing is open on the server (a failed pipeline's implicit transaction is rolled back
    // at its Sync); the ROLLBACK is then a no-op.
    if (!lost) {
      try {
        await this.#c.query('ROLLBACK')
      } catch (e) {
        // The server rolls back a transaction whose connection is gone; the pool must drop it.
        lost = e
      }
    }
    this.#end(lost)
  }

  #end(err?: unknown): void {
    if (this.#done) return
    this.#done = true
    this.#clearBatch()
    this.#onEnd(err)
  }

  #open(): void {
    if (this.#done) throw new InvalidArgumentError(`transaction ${this.tid} has already ended`)
  }
}
