/**
 * The PostgreSQL storage against the best raw pg client path on the same server, in the same run
 * (an embedded server started here; BIGFILE_TEST_POSTGRES_URL to use yours):
 * - commit of 64 MiB in 64 KiB and in 2 MiB blocks vs raw prepared INSERTs of the same blocks as
 *   binary parameters in one transaction, one block per INSERT and multi-row (the fastest raw writes
 *   measured: COPY FROM STDIN BINARY was not faster, pipelining did not help); the ratio is against
 *   the better of the two;
 * - cold reload of it (every page, as concurrent faults through the pool; and the storage alone: one
 *   loadBlocks of the whole range, as read-ahead asks) vs the raw read paths: one
 *   COPY … TO STDOUT (FORMAT binary) per block over as many connections as our pool (what we use),
 *   the same with prepared SELECTs whose bytea comes as hex (pg's default), and one bulk COPY of all
 *   blocks on one connection; the ratio is against the best of them;
 * - invalidation latency: start of a commit of one 4 KiB and one 64 KiB block in Database A → A's
 *   commit notification heard by Database B, vs a bare LISTEN/NOTIFY round trip, and vs a raw
 *   transaction doing the same write (INSERT of the block + NOTIFY + COMMIT) on raw clients; and the
 *   notification path alone (a raw NOTIFY heard through B's LISTEN connection as db.on('commit')).
 * Rounds are interleaved (ours and raw back to back, alternating order); medians with min/max. Targets
 * (issue 12): commit and reload >= 0.8x, invalidation <= 2x. Never asserts.
 */
import pg from 'pg'
import { copyOut } from '../src/db/postgres/copy.ts'
import { openPostgres } from '../src/db/postgres/open.ts'
import { pipeline, type Statement } from '../src/db/postgres/pipeline.ts'
import { blockSum } from '../src/db/sqlite/checksum.ts'
import { RAM } from '../src/virtmem/ram.ts'
import { startPostgres } from '../test/helpers/postgres.ts'

const MiB = 1 << 20
const TOTAL = Number(process.env.BENCH_PG_MB ?? 64) * MiB
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const POOL = 8
/** BENCH_PG_ONLY=throughput or =latency runs one part. */
const ONLY = process.env.BENCH_PG_ONLY

interface Stat {
  med: number
  min: number
  max: number
}
function stat(xs: number[]): Stat {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return { med: s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2, min: s[0], max: s[s.length - 1] }
}
const gbps = (ms: number) => TOTAL / ms / 1e6
const fmtRate = (xs: number[]) => {
  const s = stat(xs.map(gbps))
  return `${s.med.toFixed(3)} GB/s (${s.min.toFixed(3)}–${s.max.toFixed(3)})`
}
const fmtMs = (xs: number[]) => {
  const s = stat(xs)
  return `${s.med.toFixed(2)} ms (${s.min.toFixed(2)}–${s.max.toFixed(2)})`
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return performance.now() - t0
}

async function run(): Promise<void> {
  const url = await server.createDatabase()
  console.log(`server: ${(await server.admin<{ v: string }>('SELECT version() AS v'))[0].v.split(' on ')[0]}`)
  console.log(`${TOTAL / MiB} MiB per commit, ${ROUNDS} rounds, pool ${POOL}\n`)
  const raw = await Promise.all(
    Array.from({ length: POOL }, async () => {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      return c
    }),
  )
  await raw[0].query(`CREATE TABLE raw (file_id int8, blk int8, tid int8, data bytea, PRIMARY KEY (file_id, blk, tid));
    ALTER TABLE raw ALTER COLUMN data SET STORAGE EXTERNAL`)
  const db = await openPostgres(url, { poolSize: POOL })
  try {
    if (ONLY !== 'latency') for (const bs of [64 << 10, 2 * MiB]) await throughput(db, raw, bs)
    if (ONLY !== 'throughput') await latency(db, url, raw)
  } finally {
    await db.close()
    await Promise.all(raw.map((c) => c.end()))
  }
}

async function throughput(db: Awaited<ReturnType<typeof openPostgres>>, raw: pg.Client[], bs: number) {
  const n = TOTAL / bs
  const ram = new RAM({ pagesize: bs, capacity: TOTAL + 2 * bs })
  const conn = db.connect({ ram })
  const f = await conn.open(`f${bs}`, { create: { blksize: bs, size: TOTAL } })
  const vma = f.mmap(0, n)
  await vma.fault(0, TOTAL, { write: true })
  await conn.commit()
  const bufs = Array.from({ length: n }, () => Buffer.alloc(bs))
  const t = { ours: [] as number[], raw: [] as number[], multi: [] as number[] }
  const r = {
    ours: [] as number[],
    seq: [] as number[],
    seqOff: [] as number[],
    range: [] as number[],
    copy: [] as number[],
    hex: [] as number[],
    bulk: [] as number[],
  }
  const whole = new Uint8Array(TOTAL)
  // the same file through a FileH without read-ahead (one page per fault), in the same RAM
  const connOff = db.connect({ ram })
  const loadBlocks = db.storage.loadBlocks?.bind(db.storage)
  if (!loadBlocks || f.id === undefined) throw new Error('PostgresStorage.loadBlocks is missing')
  for (let round = 1; round <= ROUNDS; round++) {
    // the same bytes on both sides: a distinct pattern per round
    await vma.fault(0, TOTAL, { write: true })
    for (let pg = 0; pg < n; pg++) {
      vma.setFloat64(pg * bs, round * n + pg)
      vma.setFloat64(pg * bs + bs - 8, round)
      bufs[pg].writeDoubleLE(round * n + pg, 0)
      bufs[pg].writeDoubleLE(round, bs - 8)
    }
    const sides: [keyof typeof t, () => Promise<unknown>][] = [
      ['ours', () => conn.commit()],
      [
        'raw',
        async () => {
          const c = raw[0]
          await c.query('BEGIN')
          for (let b = 0; b < n; b++) {
            await c.query({
              name: 'ins',
              text: 'INSERT INTO raw VALUES ($1, $2, $3, $4)',
              values: [bs, b, round, bufs[b]],
            })
          }
          await c.query('COMMIT')
        },
      ],
      [
        'multi',
        async () => {
          // multi-row INSERTs of as many blocks as ours sends at once (64, at most 4 MiB)
          const c = raw[0]
          const per = Math.max(1, Math.min(64, Math.floor((4 << 20) / bs)))
          await c.query('BEGIN')
          for (let b0 = 0; b0 < n; b0 += per) {
            const rows: string[] = []
            const values: unknown[] = []
            for (let b = b0; b < Math.min(n, b0 + per); b++) {
              const k = values.length
              rows.push(`($${k + 1}, $${k + 2}, $${k + 3}, $${k + 4})`)
              values.push(bs + 1, b, round, bufs[b])
            }
            await c.query({
              name: `multi${rows.length}`,
              text: `INSERT INTO raw VALUES ${rows.join(', ')}`,
              values,
            })
          }
          await c.query('COMMIT')
        },
      ],
    ]
    if (round % 2) sides.reverse()
    for (const [k, fn] of sides) t[k].push(await time(fn))

    // cold reload
    await connOff.sync()
    const fOff = await connOff.open(`f${bs}`, { readahead: false })
    const vOff = fOff.mmap(0, n)
    const reloads: [keyof typeof r, () => Promise<unknown>][] = [
      [
        'ours',
        async () => {
          await vma.fault(0, TOTAL)
        },
      ],
      [
        // a sequential reader that awaits each page before asking for the next (faults trickle in):
        // read-ahead windows, the next one started in the background at each trigger page
        'seq',
        async () => {
          for (let pg = 0; pg < n; pg++) await vma.fault(pg * bs, 1)
        },
      ],
      [
        // the same reader without read-ahead: one page per fault, one round trip each
        'seqOff',
        async () => {
          for (let pg = 0; pg < n; pg++) await vOff.fault(pg * bs, 1)
        },
      ],
      [
        // the storage alone: the whole range as one loadBlocks (what read-ahead asks), no VM in between
        'range',
        async () => {
          await loadBlocks(f.id as number, 0, n, conn.at, whole)
        },
      ],
      [
        'copy',
        () =>
          Promise.all(
            raw.map(async (c, k) => {
              for (let b = k; b < n; b += POOL) {
                // the bytes straight into the destination, as ours do
                const rows = await copyOut(
                  c,
                  `COPY (SELECT data FROM raw WHERE file_id = ${bs} AND blk = ${b} AND tid = ${round}) TO STDOUT (FORMAT binary)`,
                  (_, len) => (len === bs ? bufs[b] : undefined),
                )
                if (rows[0][0]?.length !== bs) throw new Error('short block')
              }
            }),
          ),
      ],
      [
        'hex',
        () =>
          Promise.all(
            raw.map(async (c, k) => {
              for (let b = k; b < n; b += POOL) {
                const res = await c.query({
                  name: 'sel',
                  text: 'SELECT data FROM raw WHERE file_id = $1 AND blk = $2 AND tid = $3',
                  values: [bs, b, round],
                })
                ;(res.rows[0].data as Buffer).copy(bufs[b])
              }
            }),
          ),
      ],
      [
        'bulk',
        async () => {
          let b = 0
          const rows = await copyOut(
            raw[0],
            `COPY (SELECT data FROM raw WHERE file_id = ${bs} AND tid = ${round} ORDER BY blk) TO STDOUT (FORMAT binary)`,
            (_, len) => (len === bs ? bufs[b++] : undefined),
          )
          if (rows.length !== n) throw new Error('short read')
        },
      ],
    ]
    if (round % 2) reloads.reverse()
    for (const [k, fn] of reloads) {
      while (ram.reclaim(1 << 20) > 0) {}
      r[k].push(await time(fn))
    }
    vOff.unmap()
    fOff.close()
    // untimed: keep the tables small (ours: pack to the head; raw: the older rounds go)
    await db.pack()
    await raw[0].query('DELETE FROM raw WHERE file_id IN ($1, $2) AND tid < $3', [bs, bs + 1, round])
  }
  const best = (xs: Record<string, number[]>) => Math.min(...Object.values(xs).map((v) => stat(v).med))
  console.log(`${bs >> 10} KiB blocks (${n} blocks)`)
  const tc = stat(t.ours).med
  console.log(
    `  commit  ours ${fmtRate(t.ours)}   raw: INSERT per block ${fmtRate(t.raw)}, multi-row INSERT ${fmtRate(t.multi)}   ratio vs best raw ${(Math.min(stat(t.raw).med, stat(t.multi).med) / tc).toFixed(2)}x`,
  )
  const rawReads = { copy: r.copy, hex: r.hex, bulk: r.bulk }
  const rb = best(rawReads)
  console.log(
    `  reload  ours ${fmtRate(r.ours)}   raw: per-block COPY x${POOL} ${fmtRate(r.copy)}, per-block hex SELECT x${POOL} ${fmtRate(r.hex)}, bulk COPY x1 ${fmtRate(r.bulk)}`,
  )
  console.log(
    `          ratio vs best raw ${(rb / stat(r.ours).med).toFixed(2)}x, vs per-block COPY ${(stat(r.copy).med / stat(r.ours).med).toFixed(2)}x`,
  )
  console.log(
    `  sequential reader, a page at a time: read-ahead ${fmtRate(r.seq)}, ${(rb / stat(r.seq).med).toFixed(2)}x best raw; without (one page per fault) ${fmtRate(r.seqOff)}, ${(rb / stat(r.seqOff).med).toFixed(2)}x`,
  )
  console.log(
    `  storage.loadBlocks of the whole range ${fmtRate(r.range)}   ratio vs best raw ${(rb / stat(r.range).med).toFixed(2)}x\n`,
  )
  vma.unmap()
  conn.close()
  connOff.close()
}

async function latency(_db: Awaited<ReturnType<typeof openPostgres>>, url: string, raw: pg.Client[]) {
  // A commits through a pool of ours whose clients note when they first send a query: the commit's one
  // round trip starts there, so a commit splits into the client's work before it (the VM's writeout, the db
  // layer's walk, building the statements) and the round trip + notification path after it.
  let sent = 0
  const poolA = new pg.Pool({ connectionString: url, max: 8 })
  poolA.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown
    ;(client as unknown as { query: (...a: unknown[]) => unknown }).query = (...a: unknown[]) => {
      if (sent === 0) sent = performance.now()
      return query(...a)
    }
  })
  const db = await openPostgres({ pool: poolA })
  const b = await openPostgres(url)
  // The commit's statements by hand on a raw client, over a bigfile schema of their own ("steps"), heard
  // by a raw LISTEN: what each change to the commit's round trip buys, measured side by side.
  const steps = await openPostgres(url, { schema: 'steps' })
  await steps.close()
  let stepHead = Number((await raw[2].query(`SELECT value FROM steps.meta WHERE key = 'head'`)).rows[0].value)
  // A database of its own schema (channel "probe") that hears NOTIFYs sent by a raw client: the
  // notification path alone (LISTEN connection -> storage.subscribe -> Database -> 'commit' event).
  const probe = await openPostgres(url, { schema: 'probe' })
  const listener = new pg.Client({ connectionString: url })
  await listener.connect()
  await listener.query('LISTEN bare')
  await listener.query('LISTEN steps')
  try {
    const ram = new RAM({ pagesize: 64 << 10, capacity: 16 * (64 << 10) })
    const conn = db.connect({ ram })
    const ram4 = new RAM({ pagesize: 4096, capacity: 16 * 4096 })
    const conn4 = db.connect({ ram: ram4 })
    const f = await conn.open('lat', { create: { blksize: 64 << 10 } })
    const f4 = await conn4.open('lat4', { create: { blksize: 4096 } })
    const v = f.mmap(0, 1)
    const v4 = f4.mmap(0, 1)
    await v.fault(0, 8, { write: true })
    await v4.fault(0, 8, { write: true })
    await conn.commit()
    await conn4.commit()
    const buf = Buffer.alloc(64 << 10)
    // resolves with the time the notification arrived: the latency ends there, not when the
    // committing side's own call returns
    let wake: ((t: number) => void) | undefined
    b.on('commit', () => wake?.(performance.now()))
    probe.on('commit', () => wake?.(performance.now()))
    listener.on('notification', () => wake?.(performance.now()))
    const heard = () =>
      new Promise<number>((resolve) => {
        wake = resolve
      })
    const lat = {
      ours: [] as number[],
      ours4k: [] as number[],
      path: [] as number[],
      bare: [] as number[],
      rawTxn: [] as number[],
      literal: [] as number[],
      prepared: [] as number[],
      implicit: [] as number[],
      cte: [] as number[],
      rawPipe: [] as number[],
      client: [] as number[],
      wire: [] as number[],
    }
    /** The commit's round trip by hand: `literal` tids in unnamed statements, or `prepared` (with or without BEGIN/COMMIT). */
    const commitSteps = (how: 'literal' | 'prepared' | 'implicit'): Statement[] => {
      const tid = ++stepHead
      const lit = how === 'literal'
      const prepare = !lit
      const data = buf
      const st: Statement[] = []
      if (how !== 'implicit') st.push({ text: 'BEGIN' })
      st.push(
        lit
          ? {
              text: `SELECT CASE WHEN value = ${tid - 1} THEN 1 ELSE 1 / (value - value) END FROM steps.meta WHERE key = 'head' FOR UPDATE`,
            }
          : {
              text: `SELECT CASE WHEN value = $1 THEN 1 ELSE 1 / (value - value) END FROM steps.meta WHERE key = 'head' FOR UPDATE`,
              values: [tid - 1],
              prepare,
            },
        {
          text: 'INSERT INTO steps.blocks (file_id, blk, tid, data, sum) VALUES ($1, $2, $3, $4, $5)',
          values: [1, 0, tid, data, blockSum(1, 0, tid, data)],
          prepare,
        },
        lit
          ? {
              text: `INSERT INTO steps.log (tid, time, token) VALUES (${tid}, greatest(${Date.now() / 1000}, coalesce((SELECT time FROM steps.log ORDER BY tid DESC LIMIT 1), 0)), 'x')`,
            }
          : {
              text: `INSERT INTO steps.log (tid, time, token) VALUES ($1, greatest($2::float8, coalesce((SELECT time FROM steps.log ORDER BY tid DESC LIMIT 1), 0)), $3)`,
              values: [tid, Date.now() / 1000, 'x'],
              prepare,
            },
        lit
          ? {
              text: `INSERT INTO steps.log_files (tid, file_id, blocks, record) VALUES (${tid}, 1, '\\x0000'::bytea, false)`,
            }
          : {
              text: 'INSERT INTO steps.log_files (tid, file_id, blocks, record) VALUES ($1, $2, $3, $4)',
              values: [tid, 1, Buffer.alloc(2), false],
              prepare,
            },
        lit
          ? { text: `UPDATE steps.meta SET value = ${tid} WHERE key = 'head'` }
          : { text: `UPDATE steps.meta SET value = $1 WHERE key = 'head'`, values: [tid], prepare },
        lit
          ? { text: `SELECT pg_notify('steps', '${tid}')` }
          : { text: `SELECT pg_notify('steps', $1)`, values: [String(tid)], prepare },
      )
      if (how !== 'implicit') st.push({ text: 'COMMIT' })
      return st
    }
    /** The same as one prepared statement (data-modifying CTEs, each row inserted only if the guard passed). */
    const cteStep = (): Statement[] => {
      const tid = ++stepHead
      return [
        {
          text: `WITH g AS (SELECT CASE WHEN value = $1 THEN 1 ELSE 1 / (value - value) END AS ok FROM steps.meta WHERE key = 'head' FOR UPDATE),
          b AS (INSERT INTO steps.blocks (file_id, blk, tid, data, sum) SELECT $2, $3, $4, $5, $6 FROM g RETURNING 1),
          l AS (INSERT INTO steps.log (tid, time, token) SELECT $4, greatest($7::float8, coalesce((SELECT time FROM steps.log ORDER BY tid DESC LIMIT 1), 0)), $8 FROM g RETURNING 1),
          f AS (INSERT INTO steps.log_files (tid, file_id, blocks, record) SELECT $4, $2, $9, false FROM g RETURNING 1),
          u AS (UPDATE steps.meta SET value = $4 WHERE key = 'head' AND EXISTS (SELECT 1 FROM g) RETURNING 1)
          SELECT pg_notify('steps', $10) FROM g`,
          values: [
            tid - 1,
            1,
            0,
            tid,
            buf,
            blockSum(1, 0, tid, buf),
            Date.now() / 1000,
            'x',
            Buffer.alloc(2),
            String(tid),
          ],
          prepare: true,
        },
      ]
    }
    const stepRun = (how: 'literal' | 'prepared' | 'implicit' | 'cte') => async () => {
      const st = how === 'cte' ? cteStep() : commitSteps(how)
      const h = heard()
      const t0 = performance.now()
      const [, t1] = await Promise.all([pipeline(raw[2], st), h])
      return t1 - t0
    }
    const ourCommit = (c: typeof conn, vma: typeof v, i: number) => async () => {
      // untimed: to the head first, as a lone writer is (the other connection's commits came between)
      await c.sync()
      await vma.fault(0, 8, { write: true })
      vma.setFloat64(0, i)
      const h = heard()
      sent = 0
      const t0 = performance.now()
      const [, t1] = await Promise.all([c.commit(), h])
      if (c === conn) {
        split.client = sent - t0
        split.wire = t1 - sent
      }
      return t1 - t0
    }
    const split = { client: 0, wire: 0 }
    const N = 41
    for (let i = 0; i < N; i++) {
      const runs: [keyof typeof lat, () => Promise<number>][] = [
        ['ours', ourCommit(conn, v, i)],
        ['ours4k', ourCommit(conn4, v4, i)],
        [
          'path',
          async () => {
            const h = heard()
            const t0 = performance.now()
            const [, t1] = await Promise.all([raw[1].query(`NOTIFY probe, '${i + 1}'`), h])
            return t1 - t0
          },
        ],
        [
          'bare',
          async () => {
            const h = heard()
            const t0 = performance.now()
            const [, t1] = await Promise.all([raw[1].query(`NOTIFY bare, '${i}'`), h])
            return t1 - t0
          },
        ],
        ['literal', stepRun('literal')],
        ['prepared', stepRun('prepared')],
        ['implicit', stepRun('implicit')],
        ['cte', stepRun('cte')],
        [
          'rawPipe',
          async () => {
            // the floor: the same write and NOTIFY as one implicit transaction in one round trip
            buf.writeDoubleLE(i, 0)
            const h = heard()
            const t0 = performance.now()
            const [, t1] = await Promise.all([
              pipeline(raw[1], [
                { text: 'INSERT INTO raw VALUES ($1, $2, $3, $4)', values: [-2, 0, i, buf], prepare: true },
                { text: `SELECT pg_notify('bare', $1)`, values: [String(i)], prepare: true },
              ]),
              h,
            ])
            return t1 - t0
          },
        ],
        [
          'rawTxn',
          async () => {
            const c = raw[1]
            buf.writeDoubleLE(i, 0)
            const h = heard()
            const t0 = performance.now()
            await c.query('BEGIN')
            await c.query({
              name: 'ins',
              text: 'INSERT INTO raw VALUES ($1, $2, $3, $4)',
              values: [-1, 0, i, buf],
            })
            await c.query(`NOTIFY bare, '${i}'`)
            const [, t1] = await Promise.all([c.query('COMMIT'), h])
            return t1 - t0
          },
        ],
      ]
      if (i % 2) runs.reverse()
      for (const [k, fn] of runs) {
        const ms = await fn()
        if (i > 0) lat[k].push(ms) // the first is a warm-up
        if (i > 0 && k === 'ours') {
          lat.client.push(split.client)
          lat.wire.push(split.wire)
        }
      }
    }
    const r = (k: keyof typeof lat, base: keyof typeof lat) =>
      (stat(lat[k]).med / stat(lat[base]).med).toFixed(2)
    console.log('invalidation latency (start in A -> heard in B; medians, min–max)')
    console.log(`  bare NOTIFY round trip                              ${fmtMs(lat.bare)}`)
    console.log(
      `  notification path: raw NOTIFY -> B's db.on('commit') ${fmtMs(lat.path)}   ratio vs bare ${r('path', 'bare')}x`,
    )
    console.log(
      `  commit of one 4 KiB block -> B's db.on('commit')     ${fmtMs(lat.ours4k)}   ratio vs bare ${r('ours4k', 'bare')}x`,
    )
    console.log(
      `  commit of one 64 KiB block -> B's db.on('commit')    ${fmtMs(lat.ours)}   ratio vs bare ${r('ours', 'bare')}x, vs raw txn ${r('ours', 'rawTxn')}x`,
    )
    console.log(
      `    of it: until its round trip is sent (VM, db layer) ${fmtMs(lat.client)}; round trip + notification path ${fmtMs(lat.wire)}, ${r('wire', 'bare')}x bare`,
    )
    console.log(`  raw txn (BEGIN, INSERT 64 KiB, NOTIFY, COMMIT)      ${fmtMs(lat.rawTxn)}`)
    console.log(
      `  raw pipeline (INSERT 64 KiB, NOTIFY; one round trip) ${fmtMs(lat.rawPipe)}   ratio vs bare ${r('rawPipe', 'bare')}x`,
    )
    console.log('  the commit round trip by hand (64 KiB block, heard by a raw LISTEN):')
    console.log(
      `    BEGIN + 6 statements + COMMIT, literal tids, unnamed  ${fmtMs(lat.literal)}   ratio vs bare ${r('literal', 'bare')}x`,
    )
    console.log(
      `    the same prepared (parsed once per connection)      ${fmtMs(lat.prepared)}   ratio vs bare ${r('prepared', 'bare')}x`,
    )
    console.log(
      `    prepared, implicit transaction (no BEGIN/COMMIT)    ${fmtMs(lat.implicit)}   ratio vs bare ${r('implicit', 'bare')}x`,
    )
    console.log(
      `    one prepared statement (CTEs), implicit transaction ${fmtMs(lat.cte)}   ratio vs bare ${r('cte', 'bare')}x`,
    )
    v.unmap()
    v4.unmap()
    conn.close()
    conn4.close()
  } finally {
    await listener.end()
    await db.close()
    await poolA.end()
    await b.close()
    await probe.close()
  }
}

const server = await startPostgres()
try {
  await run()
} finally {
  await server.stop()
}
