// The shared storage: one PostgreSQL database used by many processes on many machines. The same
// contract and the same rows as the SQLite storage (src/db/storage.ts), answered asynchronously
// through a bounded pool, plus pushed invalidations: every commit NOTIFYs its tid.
import { randomUUID } from 'node:crypto'
import type { ClientConfig, PoolClient, PoolConfig, Pool as PoolType } from 'pg'
import {
  AbortError,
  ChecksumError,
  ClosedError,
  CorruptError,
  InvalidArgumentError,
  ReadOnlyError,
  StaleSnapshotError,
} from '../../errors.ts'
import { readonlyFields } from '../../util/readonly.ts'
import { logConflicts, nameConflict, recordConflicts } from '../conflicts.ts'
import { type RecordRow, toRecord } from '../record-row.ts'
import { decodeBlocks } from '../sqlite/blocklist.ts'
import { blockSum, verifyRecord } from '../sqlite/checksum.ts'
import type {
  Change,
  CheckOptions,
  CheckResult,
  Commit,
  CommitFile,
  FileRecord,
  LogQuery,
  PackResult,
  Storage,
  StorageTxn,
  Tid,
  Touched,
} from '../storage.ts'
import { copyOut, fieldInt64 } from './copy.ts'
import { ConnectionError, isConnectionLoss, pgError } from './errors.ts'
import { Listener } from './listener.ts'
import type { PostgresOptions } from './options.ts'
import { checkSchemaName, initSchema } from './schema.ts'
import { PostgresTxn } from './txn.ts'

export type { PostgresOptions }

/** The pg module (loaded lazily by the opener, so SQLite users never need it). */
export type PG = typeof import('pg').default

/** Where to connect: a `postgres://` URL, pg connection options, or a pool of yours (not ended on close). */
export type PostgresTarget = string | ClientConfig | { pool: PoolType }

const RECORD = 'file_id AS id, tid, name, blksize, size, meta, sum'

export type { RecordRow }

/** Block versions per statement of `check`. */
const CHECK_BATCH = 64

/** Bytes of blocks per load statement at most (the driver holds a statement's answer until it ends). */
const BATCH_BYTES = 4 << 20

interface LoadRequest {
  file: number
  blk: number
  at: Tid
  buf: Uint8Array
  resolve: () => void
  reject: (e: unknown) => void
}

interface LogRow {
  tid: number
  file: number
  blocks: Buffer | null
  record: boolean
}

export class PostgresStorage implements Storage {
  /** The server and database, for messages (no password). */
  readonly where: string
  readonly schema: string
  readonly readOnly: boolean
  /** The schema name, quoted, for SQL. */
  readonly s: string
  readonly #pool: PoolType
  readonly #ownPool: boolean
  #listener: Listener | undefined
  readonly #subscribers = new Set<(tid: Tid) => void>()
  #writer: Promise<void> = Promise.resolve()
  readonly #loads: LoadRequest[] = []
  #loadsInFlight = 0
  /** Load statements in flight at most: one per pooled connection. */
  readonly #loadSlots: number
  /** @internal blksize by file id (it never changes; ids are never reused). */
  readonly blksizes = new Map<number, number>()
  readonly #poolSize: number
  /** The newest head this storage has read, committed or heard of. */
  #head: Tid = 0
  /** The type parsers of our queries (int8 as a Number), lent to a user's pool clients while we hold them. */
  readonly #types: Types
  #closed = false

  private constructor(
    pool: PoolType,
    ownPool: boolean,
    schema: string,
    where: string,
    poolSize: number,
    readOnly: boolean,
    types: Types,
  ) {
    this.#types = types
    this.readOnly = readOnly
    this.#pool = pool
    this.#poolSize = poolSize
    this.#loadSlots = poolSize
    this.#ownPool = ownPool
    this.schema = schema
    this.s = `"${schema}"`
    this.where = where
    readonlyFields(this, ['where', 'schema', 'readOnly', 's', 'blksizes'])
    // An idle connection that dies (server restart, terminated backend) is dropped by the pool; the
    // next query opens a new one. Without a listener the error would crash the process.
    pool.on('error', () => {})
    // And every client keeps a listener of its own: the pool's comes and goes with checkout, and a
    // backend killed in between would be an uncaught 'error' event. Its next query reports it.
    pool.on('connect', (client) => client.on('error', swallow))
  }

  static async open(pg: PG, target: PostgresTarget, options: PostgresOptions = {}): Promise<PostgresStorage> {
    const schema = checkSchemaName(options.schema ?? 'bigfile')
    const poolSize = options.poolSize ?? 8
    if (!Number.isSafeInteger(poolSize) || poolSize < 2) {
      throw new InvalidArgumentError(`poolSize must be an integer >= 2, got ${poolSize}`)
    }
    const timeout = options.statementTimeoutMs ?? 0
    if (!Number.isSafeInteger(timeout) || timeout < 0) {
      throw new InvalidArgumentError(`statementTimeoutMs must be a non-negative integer, got ${timeout}`)
    }
    const connectTimeout = options.connectTimeoutMs ?? 10_000
    if (!Number.isSafeInteger(connectTimeout) || connectTimeout < 0) {
      throw new InvalidArgumentError(`connectTimeoutMs must be a non-negative integer, got ${connectTimeout}`)
    }
    const types: Types = {
      // int8 as a Number: tids, block numbers and sizes stay below 2^53.
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? Number : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    }
    let pool: PoolType
    let own = true
    let config: ClientConfig
    if (typeof target === 'object' && target !== null && 'pool' in target) {
      pool = target.pool
      own = false
      config = { ...(pool as unknown as { options: ClientConfig }).options, types }
    } else {
      config = typeof target === 'string' ? { connectionString: target } : { ...target }
      config = {
        ...config,
        types,
        connectionTimeoutMillis: connectTimeout,
        ...(timeout > 0 ? { statement_timeout: timeout } : {}),
        application_name: config.application_name ?? 'bigfile',
      }
      pool = new pg.Pool({ ...(config as PoolConfig), max: poolSize })
    }
    const where = describe(config)
    const storage = new PostgresStorage(
      pool,
      own,
      schema,
      where,
      own ? poolSize : ((pool as unknown as { options: { max?: number } }).options.max ?? 10),
      options.readOnly === true,
      types,
    )
    try {
      await storage.#withClient(`open ${where}`, (c) =>
        initSchema(c, schema, options.readOnly !== true && options.create !== false, where),
      )
      if (options.listen ?? true) {
        const head = await storage.head()
        const listener = new Listener(pg, config, schema, head, {
          since: (after) => storage.#since(after),
          emit: (tid) => {
            storage.seen(tid)
            for (const fn of [...storage.#subscribers]) fn(tid)
          },
          error: () => {},
        })
        try {
          await listener.start()
        } catch (e) {
          throw pgError(e, `listen on ${where}`)
        }
        storage.#listener = listener
      }
      return storage
    } catch (e) {
      await storage.close()
      throw pgError(e, `open ${where}`)
    }
  }

  /** The LISTEN connection, for tests and diagnostics. */
  get listener(): Listener | undefined {
    return this.#listener
  }

  /**
   * Calls `fn` with the tid of every commit (this process's and others'), in order, as the server
   * pushes them; after a lost LISTEN connection, the missed ones once it is back. Returns the
   * unsubscribe function.
   */
  subscribe(fn: (tid: Tid) => void): () => void {
    this.#check()
    this.#subscribers.add(fn)
    return () => {
      this.#subscribers.delete(fn)
    }
  }

  async head(): Promise<Tid> {
    return this.#read('read head', async (c) => {
      const r = await c.query({
        name: 'bf_head',
        text: `SELECT value FROM ${this.s}.meta WHERE key = 'head'`,
      })
      if (r.rowCount !== 1) throw new CorruptError(`${this.where}: the meta row 'head' is missing`)
      const head = r.rows[0].value as number
      this.seen(head)
      return head
    })
  }

  async listFiles(at: Tid): Promise<FileRecord[]> {
    return this.#read('list files', async (c) => {
      const r = await c.query({
        name: 'bf_list',
        // COLLATE "C": names sort by bytes, as in SQLite, whatever the database's locale.
        text: `SELECT ${RECORD} FROM ${this.s}.file_versions v
          WHERE tid = (SELECT max(tid) FROM ${this.s}.file_versions WHERE file_id = v.file_id AND tid <= $1)
          AND name IS NOT NULL ORDER BY name COLLATE "C"`,
        values: [at],
      })
      return (r.rows as RecordRow[]).map((row) => this.#record(row))
    })
  }

  async fileByName(name: string, at: Tid): Promise<FileRecord | undefined> {
    return this.#read(`look up file ${JSON.stringify(name)}`, async (c) => {
      const row = await this.queryFileByName(c, name, at)
      return row ? this.#record(row) : undefined
    })
  }

  async fileById(id: number, at: Tid): Promise<FileRecord | undefined> {
    return this.#read(`look up file #${id}`, async (c) => {
      const row = await this.queryFileById(c, id, at)
      return row && row.name !== null ? this.#record(row) : undefined
    })
  }

  #record(row: RecordRow): FileRecord {
    verifyRecord(this.where, row)
    // a committed record's blksize never changes: a commit to the file may then skip reading it
    this.blksizes.set(row.id, row.blksize)
    return toRecord(row)
  }

  /** @internal The record row of `id` as of `at` (deleted ones too), on `c`. */
  async queryFileById(c: PoolClient, id: number, at: Tid): Promise<RecordRow | undefined> {
    const r = await c.query({
      name: 'bf_file_by_id',
      text: `SELECT ${RECORD} FROM ${this.s}.file_versions WHERE file_id = $1 AND tid <= $2 ORDER BY tid DESC LIMIT 1`,
      values: [id, at],
    })
    return r.rows[0] as RecordRow | undefined
  }

  /** @internal The live record named `name` as of `at`, on `c`. */
  async queryFileByName(c: PoolClient, name: string, at: Tid): Promise<RecordRow | undefined> {
    const r = await c.query({
      name: 'bf_file_by_name',
      text: `SELECT ${RECORD} FROM ${this.s}.file_versions v
        WHERE file_id IN (SELECT file_id FROM ${this.s}.file_versions WHERE name = $1 AND tid <= $2)
        AND tid = (SELECT max(tid) FROM ${this.s}.file_versions WHERE file_id = v.file_id AND tid <= $2)
        AND name = $1`,
      values: [name, at],
    })
    return r.rows[0] as RecordRow | undefined
  }

  /**
   * Loads are batched without a timer: a request waits in a queue only while every load slot (one per
   * pooled connection) is busy, and a slot that frees takes everything waiting for the same file and
   * snapshot (up to BATCH_BYTES) in one statement. So a lone fault costs one round trip, and a stream
   * of faults (the VM keeps at most RAM.maxLoads in flight and starts a new one as each ends) is served
   * a few blocks per statement instead of one round trip and one plan per block.
   */
  loadBlock(file: number, blk: number, at: Tid, buf: Uint8Array): Promise<void> {
    this.#check()
    checkInt(file)
    checkInt(blk)
    checkInt(at)
    return new Promise((resolve, reject) => {
      this.#queueLoad({ file, blk, at, buf, resolve, reject })
    })
  }

  /**
   * Blocks `blk` .. `blk + count - 1` into `buf` (count × blksize bytes): queued together, so they
   * leave in one statement (one COPY) when a load slot is free, split over free slots only when
   * there are several and the range is bigger than a slot's share.
   */
  loadBlocks(file: number, blk: number, count: number, at: Tid, buf: Uint8Array): Promise<void> {
    this.#check()
    checkInt(file)
    checkInt(blk)
    checkInt(at)
    if (!Number.isSafeInteger(count) || count < 1 || buf.length % count !== 0) {
      throw new InvalidArgumentError(`loadBlocks: ${count} blocks do not fit a buffer of ${buf.length} bytes`)
    }
    const bs = buf.length / count
    const parts: Promise<void>[] = []
    for (let k = 0; k < count; k++) {
      parts.push(
        new Promise((resolve, reject) => {
          this.#queueLoad({
            file,
            blk: blk + k,
            at,
            buf: buf.subarray(k * bs, (k + 1) * bs),
            resolve,
            reject,
          })
        }),
      )
    }
    return Promise.all(parts).then(() => {})
  }

  #queueLoad(r: LoadRequest): void {
    this.#loads.push(r)
    // Requests of one synchronous stretch (a fault of a range) are dispatched together.
    if (this.#loads.length === 1) queueMicrotask(() => this.#dispatchLoads())
  }

  /** Sends waiting loads on the free slots: (1) group by file and snapshot, (2) share among free slots. */
  #dispatchLoads(): void {
    while (this.#loads.length > 0 && this.#loadsInFlight < this.#loadSlots) {
      // (1) the oldest request's file and snapshot, every waiting request for them
      const { file, at, buf } = this.#loads[0]
      const same: LoadRequest[] = []
      const rest: LoadRequest[] = []
      for (const r of this.#loads)
        (r.file === file && r.at === at && r.buf.length === buf.length ? same : rest).push(r)
      // (2) an equal share per free slot when there is enough to share, never over BATCH_BYTES
      const free = this.#loadSlots - this.#loadsInFlight
      const per = Math.max(1, Math.min(Math.ceil(same.length / free), Math.floor(BATCH_BYTES / buf.length)))
      const part = same.slice(0, per)
      this.#loads.length = 0
      this.#loads.push(...same.slice(per), ...rest)
      this.#loadsInFlight++
      this.#loadBatch(part)
        .catch((e) => {
          for (const r of part) r.reject(e)
        })
        .finally(() => {
          this.#loadsInFlight--
          this.#dispatchLoads()
        })
    }
  }

  async #loadBatch(reqs: LoadRequest[]): Promise<void> {
    const { file, at } = reqs[0]
    const byBlk = new Map<number, LoadRequest[]>()
    for (const r of reqs) {
      const list = byBlk.get(r.blk)
      if (list) list.push(r)
      else byBlk.set(r.blk, [r])
    }
    const blks = [...byBlk.keys()]
    // One statement, one server snapshot: the pack cutoff rides along with the blocks, so a stale
    // snapshot is caught on every load (as in SQLite). The numbers are checked integers.
    const text = `COPY (SELECT m.value, q.blk, b.tid, b.sum, b.data FROM ${this.s}.meta m
        CROSS JOIN unnest('{${blks.join(',')}}'::int8[]) AS q(blk)
        LEFT JOIN LATERAL (SELECT tid, sum, data FROM ${this.s}.blocks
          WHERE file_id = ${file} AND blk = q.blk AND tid <= ${at} ORDER BY tid DESC LIMIT 1) b ON true
        WHERE m.key = 'packed') TO STDOUT (FORMAT binary)`
    const what =
      blks.length === 1
        ? `read block ${blks[0]} of file #${file}`
        : `read ${blks.length} blocks of file #${file}`
    // A block's bytes go straight into the first requester's buffer (the blk field comes first).
    const target = (row: (Uint8Array | null)[], length: number) => {
      if (row.length !== 4) return undefined
      const r = byBlk.get(fieldInt64(row[1]))?.[0]
      return r && r.buf.length === length ? r.buf : undefined
    }
    const rows = await this.#read(what, (c) => copyOut(c, text, target))
    if (rows.length !== blks.length) throw new CorruptError(`${this.where}: the meta row 'packed' is missing`)
    for (const [packedField, blkField, tidField, sumField, data] of rows) {
      const packed = fieldInt64(packedField)
      const blk = fieldInt64(blkField)
      // The checksum (sqlite/checksum.ts) covers the key and the bytes: verified before anyone reads them.
      const bad =
        tidField !== null &&
        blockSum(file, blk, fieldInt64(tidField), data) !== (sumField === null ? -1 : fieldInt64(sumField))
      for (const r of byBlk.get(blk) ?? []) {
        try {
          if (at < packed) throw new StaleSnapshotError(at, packed)
          if (bad) throw new ChecksumError(this.where, `#${file}`, blk, fieldInt64(tidField))
          const n = data === null ? 0 : data.length
          if (data === null || n === 0) r.buf.fill(0)
          else if (n !== r.buf.length) {
            throw new CorruptError(`block ${blk} of file #${file} holds ${n} bytes, expected ${r.buf.length}`)
          } else if (data !== r.buf) r.buf.set(data)
          r.resolve()
        } catch (e) {
          r.reject(e)
        }
      }
    }
  }

  async changes(after: Tid, upto: Tid): Promise<Change[] | null> {
    return this.#read('read the commit log', async (c) => {
      // The pack cutoff and the rows in one statement: no pack can slip in between.
      const r = await c.query({
        name: 'bf_changes',
        text: `SELECT m.value AS packed, l.tid, l.file_id AS file, l.blocks, l.record
          FROM ${this.s}.meta m LEFT JOIN ${this.s}.log_files l ON l.tid > $1 AND l.tid <= $2
          WHERE m.key = 'packed' ORDER BY l.tid, l.file_id`,
        values: [after, upto],
      })
      if (r.rowCount === 0) throw new CorruptError(`${this.where}: the meta row 'packed' is missing`)
      if (after < (r.rows[0].packed as number)) return null
      return (r.rows as (LogRow & { tid: number | null })[])
        .filter((row) => row.tid !== null)
        .map((row) => ({ tid: row.tid, file: row.file, blocks: blockList(row.blocks), record: row.record }))
    })
  }

  async packed(): Promise<Tid> {
    return this.#read('read the pack cutoff', async (c) => {
      const r = await c.query({
        name: 'bf_packed',
        text: `SELECT value FROM ${this.s}.meta WHERE key = 'packed'`,
      })
      if (r.rowCount !== 1) throw new CorruptError(`${this.where}: the meta row 'packed' is missing`)
      return r.rows[0].value as number
    })
  }

  async tidAt(time: Date): Promise<Tid> {
    return this.#read('read the commit log', async (c) => {
      const r = await c.query({
        name: 'bf_tid_at',
        text: `SELECT tid FROM ${this.s}.log WHERE time <= $1 ORDER BY tid DESC LIMIT 1`,
        values: [time.getTime() / 1000],
      })
      return (r.rows[0]?.tid as number | undefined) ?? 0
    })
  }

  async log(q: LogQuery): Promise<Commit[]> {
    return this.#read('read the commit log', async (c) => {
      // One statement per query, one server snapshot: the commits, their files and the cutoff agree.
      const limit = q.limit === Number.POSITIVE_INFINITY ? null : q.limit
      const file = q.file ?? null
      const r = await c.query({
        name: 'bf_log',
        text: `WITH cs AS (SELECT tid, time FROM ${this.s}.log l WHERE tid >= $1 AND tid <= $2
            AND tid >= (SELECT value FROM ${this.s}.meta WHERE key = 'packed')
            AND ($4::int8 IS NULL OR EXISTS
              (SELECT 1 FROM ${this.s}.log_files f WHERE f.tid = l.tid AND f.file_id = $4::int8))
            ORDER BY tid DESC LIMIT $3::int8)
          SELECT cs.tid, cs.time, lf.file_id AS id, lf.blocks, lf.record,
            (SELECT v.name FROM ${this.s}.file_versions v WHERE v.file_id = lf.file_id AND v.tid <= lf.tid
              AND v.name IS NOT NULL ORDER BY v.tid DESC LIMIT 1) AS name,
            EXISTS (SELECT 1 FROM ${this.s}.file_versions v WHERE v.file_id = lf.file_id AND v.tid = lf.tid
              AND v.name IS NULL) AS deleted
          FROM cs LEFT JOIN ${this.s}.log_files lf ON lf.tid = cs.tid AND ($4::int8 IS NULL OR lf.file_id = $4::int8)
          ORDER BY cs.tid DESC, lf.file_id`,
        values: [q.from, q.to, limit, file],
      })
      const out: Commit[] = []
      let cur: { tid: Tid; time: Date; files: CommitFile[] } | undefined
      for (const row of r.rows as {
        tid: number
        time: number
        id: number | null
        blocks: Buffer | null
        record: boolean | null
        name: string | null
        deleted: boolean | null
      }[]) {
        if (cur === undefined || cur.tid !== row.tid) {
          cur = { tid: row.tid, time: new Date(Math.round(row.time * 1000)), files: [] }
          out.push(cur)
        }
        if (row.id === null) continue
        cur.files.push({
          id: row.id,
          name: row.name ?? `#${row.id}`,
          blocks: blockList(row.blocks),
          record: row.record === true,
          deleted: row.deleted === true,
        })
      }
      return out
    })
  }

  /**
   * The write transaction: this process's writer turn and a pooled connection, no round trip yet — the
   * server transaction (BEGIN, the head row lock) starts with the first statement that needs it, or
   * with the commit's own round trip (see PostgresTxn).
   */
  async begin(): Promise<StorageTxn> {
    this.#check()
    if (this.readOnly) throw new ReadOnlyError(`${this.where} is open read-only`)
    const release = await this.#writerTurn()
    let c: PoolClient
    try {
      c = await this.#acquire('begin a write transaction')
    } catch (e) {
      release()
      throw e
    }
    return new PostgresTxn(this, c, this.#head, randomUUID(), (err) => {
      this.#release(c, err)
      release()
    })
  }

  /** @internal A head read or heard of: the newest is the next transaction's guess. */
  seen(tid: Tid): void {
    if (tid > this.#head) this.#head = tid
  }

  /**
   * @internal The conflict check of a transaction on `c` (holding the head row lock): one round trip
   * reads the pack cutoff, the log of the touched files and the names taken after `at` (READ
   * COMMITTED: each statement sees every commit before it). File ids and tids are checked integers;
   * names are escaped literals.
   */
  async checkConflictsOn(c: PoolClient, at: Tid, touched: readonly Touched[]): Promise<void> {
    checkInt(at)
    const ids = touched.flatMap((t) => (t.file === undefined ? [] : [t.file]))
    const names = touched.flatMap((t) => (t.file === undefined ? [t.name] : []))
    for (const id of ids) checkInt(id)
    const statements = [
      `SELECT value AS packed FROM ${this.s}.meta WHERE key = 'packed'`,
      ids.length
        ? `SELECT file_id AS file, tid, blocks, record FROM ${this.s}.log_files
            WHERE file_id IN (${ids.join(', ')}) AND tid > ${at}`
        : 'SELECT NULL::int8 AS file WHERE false',
      names.length
        ? `SELECT DISTINCT name FROM ${this.s}.file_versions
            WHERE name IN (${names.map((n) => c.escapeLiteral(n)).join(', ')}) AND tid > ${at}`
        : 'SELECT NULL::text AS name WHERE false',
    ]
    const res = (await c.query(statements.join(';\n'))) as unknown as { rows: unknown[] }[]
    const p = res[0].rows[0] as { packed: number } | undefined
    if (p === undefined) throw new CorruptError(`${this.where}: the meta row 'packed' is missing`)
    if (at < p.packed) throw new StaleSnapshotError(at, p.packed)
    const taken = new Set((res[2].rows as { name: string }[]).map((r) => r.name))
    await this.#checkConflicts(c, touched, res[1].rows as (LogRow & { file: number })[], taken)
  }

  async #checkConflicts(
    c: PoolClient,
    touched: readonly Touched[],
    log: readonly (LogRow & { file: number })[],
    taken: ReadonlySet<string>,
  ): Promise<void> {
    for (const t of touched) {
      if (t.file === undefined) {
        if (taken.has(t.name)) throw nameConflict(t.name)
        continue
      }
      const mine = log.filter((r) => r.file === t.file)
      const theirRecord = logConflicts(
        t,
        mine.map((r) => ({ blocks: blockList(r.blocks), record: Boolean(r.record) })),
      )
      // A deletion or resize after `at` is a record change in the log: without one, the record is
      // as this transaction saw it, and there is nothing more to read.
      if (!theirRecord) continue
      recordConflicts(t, await this.queryFileById(c, t.file, Number.MAX_SAFE_INTEGER), true)
    }
  }

  async pack(cutoff: Tid): Promise<PackResult> {
    this.#check()
    if (this.readOnly) throw new ReadOnlyError(`${this.where} is open read-only`)
    checkInt(cutoff)
    const release = await this.#writerTurn()
    let c: PoolClient | undefined
    try {
      c = await this.#acquire('pack')
      const s = this.s
      await c.query('BEGIN')
      try {
        const head = (await c.query(`SELECT value FROM ${s}.meta WHERE key = 'head' FOR UPDATE`)).rows[0]
          .value as number
        const cut = Math.min(cutoff, head)
        let blocks = 0
        let records = 0
        const dead = await c.query(
          `SELECT file_id AS id FROM ${s}.file_versions v WHERE name IS NULL AND tid <= $1
            AND tid = (SELECT max(tid) FROM ${s}.file_versions WHERE file_id = v.file_id AND tid <= $1)`,
          [cut],
        )
        for (const { id } of dead.rows as { id: number }[]) {
          blocks +=
            (await c.query(`DELETE FROM ${s}.blocks WHERE file_id = $1 AND tid <= $2`, [id, cut])).rowCount ??
            0
          records +=
            (await c.query(`DELETE FROM ${s}.file_versions WHERE file_id = $1 AND tid <= $2`, [id, cut]))
              .rowCount ?? 0
          await c.query(`DELETE FROM ${s}.log_files WHERE file_id = $1 AND tid <= $2`, [id, cut])
        }
        blocks +=
          (
            await c.query(
              `DELETE FROM ${s}.blocks b WHERE tid < (SELECT max(b2.tid) FROM ${s}.blocks b2
                WHERE b2.file_id = b.file_id AND b2.blk = b.blk AND b2.tid <= $1)`,
              [cut],
            )
          ).rowCount ?? 0
        blocks +=
          (await c.query(`DELETE FROM ${s}.blocks WHERE data IS NULL AND tid <= $1`, [cut])).rowCount ?? 0
        records +=
          (
            await c.query(
              `DELETE FROM ${s}.file_versions f WHERE tid < (SELECT max(f2.tid) FROM ${s}.file_versions f2
                WHERE f2.file_id = f.file_id AND f2.tid <= $1)`,
              [cut],
            )
          ).rowCount ?? 0
        // The log from cut on stays (cut's own entry too): `log` and `tidAt` still see the oldest readable commit.
        await c.query(`DELETE FROM ${s}.log_files WHERE tid < $1`, [cut])
        await c.query(`DELETE FROM ${s}.log WHERE tid < $1`, [cut])
        await c.query(`UPDATE ${s}.meta SET value = greatest(value, $1) WHERE key = 'packed'`, [cut])
        await c.query('COMMIT')
        return { cutoff: cut, head, blocksRemoved: blocks, recordsRemoved: records }
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {})
        throw e
      }
    } catch (e) {
      if (c) this.#release(c, isConnectionLoss(e) ? e : undefined)
      c = undefined
      throw pgError(e, 'pack')
    } finally {
      if (c) this.#release(c)
      release()
    }
  }

  /**
   * Verifies the checksum of every stored block version and file record, a batch of blocks per statement
   * (keyset order on the primary key, so concurrent commits do not shift it). Damage is collected, not
   * thrown; versions committed or packed while it runs may be seen or not.
   */
  async check(options: CheckOptions = {}): Promise<CheckResult> {
    this.#check()
    const max = options.maxDamage ?? 1000
    const damage: ChecksumError[] = []
    const found = (e: ChecksumError) => {
      if (damage.length < max) damage.push(e)
    }
    try {
      const totals = await this.#read('check', async (c) => {
        const r = await c.query(
          `SELECT count(*) AS n, coalesce(sum(CASE WHEN b.data IS NULL THEN 0 ELSE v.bs END), 0)::int8 AS bytes
            FROM ${this.s}.blocks b LEFT JOIN (SELECT file_id, max(blksize) AS bs FROM ${this.s}.file_versions
            GROUP BY file_id) v USING (file_id)`,
        )
        return r.rows[0] as { n: number; bytes: number }
      })
      const recs = await this.#read('check', async (c) => {
        const r = await c.query(`SELECT ${RECORD} FROM ${this.s}.file_versions ORDER BY file_id, tid`)
        return r.rows as RecordRow[]
      })
      const names = new Map<number, string>()
      for (const row of recs) {
        if (row.name !== null) names.set(row.id, `${JSON.stringify(row.name)} (#${row.id})`)
        try {
          verifyRecord(this.where, row)
        } catch (e) {
          if (e instanceof ChecksumError) found(e)
          else throw e
        }
      }
      let blocks = 0
      let bytes = 0
      let last = [-1, -1, -1]
      for (;;) {
        if (options.signal?.aborted) throw new AbortError(options.signal.reason)
        const rows = await this.#read('check', async (c) => {
          const r = await c.query(
            `SELECT file_id AS file, blk, tid, data, sum FROM ${this.s}.blocks
              WHERE (file_id, blk, tid) > ($1, $2, $3) ORDER BY file_id, blk, tid LIMIT ${CHECK_BATCH}`,
            last,
          )
          return r.rows as { file: number; blk: number; tid: number; data: Buffer | null; sum: number }[]
        })
        if (rows.length === 0) break
        for (const row of rows) {
          blocks++
          bytes += row.data?.length ?? 0
          if (blockSum(row.file, row.blk, row.tid, row.data) !== row.sum) {
            found(new ChecksumError(this.where, names.get(row.file) ?? `#${row.file}`, row.blk, row.tid))
          }
          last = [row.file, row.blk, row.tid]
        }
        options.onProgress?.({ blocks, totalBlocks: totals.n, bytes, totalBytes: totals.bytes })
      }
      return { blocks, records: recs.length, bytes, damage }
    } catch (e) {
      throw pgError(e, `check ${this.where}`)
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#subscribers.clear()
    await this.#listener?.close()
    if (this.#ownPool) await this.#pool.end().catch(() => {})
  }

  /** @internal Whether the commit with this token is in the log (after a lost COMMIT reply). */
  async committed(tid: Tid, token: string): Promise<boolean> {
    return this.#read(`look up commit ${tid}`, async (c) => {
      const r = await c.query(`SELECT token FROM ${this.s}.log WHERE tid = $1`, [tid])
      return r.rowCount === 1 && r.rows[0].token === token
    })
  }

  /** Tids after `after` for the listener's catch-up: from the log, or the head if pack took them. */
  async #since(after: Tid): Promise<Tid[]> {
    return this.#read('read the commit log', async (c) => {
      const r = await c.query(`SELECT tid FROM ${this.s}.log WHERE tid > $1 ORDER BY tid`, [after])
      const tids = (r.rows as { tid: number }[]).map((x) => x.tid)
      const head = (await c.query(`SELECT value FROM ${this.s}.meta WHERE key = 'head'`)).rows[0]
        .value as number
      if (head > after && tids[tids.length - 1] !== head) tids.push(head)
      return tids
    })
  }

  /** One writer of this process at a time (the head row lock orders writers across processes). */
  async #writerTurn(): Promise<() => void> {
    const prev = this.#writer
    let release!: () => void
    this.#writer = new Promise<void>((r) => {
      release = r
    })
    await prev
    try {
      this.#check()
    } catch (e) {
      release()
      throw e
    }
    return release
  }

  /**
   * Runs a read on a pooled connection. A read that loses its connection (terminated backend, server
   * restart) is retried on another: reads change nothing, so that is safe. Each failure drops its
   * connection, and the pool may hold that many dead idle ones (all killed at once), so up to poolSize
   * retries. No retry when no connection could be opened at all (down, unreachable, refused).
   */
  async #read<T>(what: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    this.#check()
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#withClient(what, fn)
      } catch (e) {
        const retry = e instanceof ConnectionError && !refused.has(e) && attempt < this.#poolSize
        if (!retry || this.#closed) throw e
      }
    }
  }

  async #withClient<T>(what: string, fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#acquire(what)
    let err: unknown
    try {
      return await fn(c)
    } catch (e) {
      err = e
      throw pgError(e, what)
    } finally {
      this.#release(c, err !== undefined && isConnectionLoss(err) ? err : undefined)
    }
  }

  async #acquire(what: string): Promise<PoolClient> {
    this.#check()
    let c: PoolClient
    try {
      c = await this.#pool.connect()
    } catch (e) {
      const err = pgError(e, what)
      refused.add(err)
      throw err
    }
    // A client of the user's pool parses int8 the user's way: ours while we hold it, theirs after.
    if (!this.#ownPool) {
      const client = c as unknown as { _types: unknown }
      lent.set(c, client._types)
      client._types = this.#types
    }
    return c
  }

  /** Returns `c` to the pool; with `err`, the pool destroys it instead. */
  #release(c: PoolClient, err?: unknown): void {
    if (lent.has(c)) {
      ;(c as unknown as { _types: unknown })._types = lent.get(c)
      lent.delete(c)
    }
    try {
      c.release(err instanceof Error ? err : err === undefined ? undefined : true)
    } catch {
      // released twice: nothing to do
    }
  }

  #check(): void {
    if (this.#closed) throw new ClosedError('database is closed')
  }
}

function swallow(): void {}

/** pg's type parsers of a connection (its `types` option). */
type Types = { getTypeParser: typeof import('pg').types.getTypeParser }

/** The type parsers of a user's pool client we hold, to give back on release. */
const lent = new WeakMap<object, unknown>()

/** Errors of opening a connection (not of losing one): a read is not retried after them. */
const refused = new WeakSet<object>()

/** The log's block list. Copied first: a pg Buffer's slice() is a view into a shared pool. */
function blockList(data: Buffer | null): number[] {
  return data === null ? [] : decodeBlocks(new Uint8Array(data))
}

function checkInt(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`not a non-negative integer: ${n}`)
}

/** host:port/database of a connection config, never the password. */
function describe(config: ClientConfig): string {
  if (config.connectionString) {
    try {
      const u = new URL(config.connectionString)
      u.password = ''
      u.username = u.username ? `${u.username}` : ''
      return u.toString()
    } catch {
      return 'postgres (unparsable URL)'
    }
  }
  return `postgres://${config.user ? `${config.user}@` : ''}${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? ''}`
}

export { ConnectionError }
