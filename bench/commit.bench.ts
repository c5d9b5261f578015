/**
 * Commit and reload throughput of the SQLite storage against raw node:sqlite on the same bytes:
 * commit of N dirty pages vs N BLOB inserts in one transaction (same pragmas: 64 KiB SQLite pages, WAL,
 * synchronous=FULL), and a reload of every page after reclaim vs N prepared selects copied into N
 * distinct destination pages (as a reload fills N distinct frames). Prints ratios (targets: >= 0.8x);
 * never asserts timings. Self-contained on purpose.
 *
 * Fairness: both databases live side by side and every round runs ours and raw back to back, in
 * alternating order, so that both see the same machine state (other load, page cache, WAL size) and
 * drift over the run cannot favour one side. Each side reads the rows of the commit it just made.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { openDatabase } from '../src/db/index.ts'
import { RAM } from '../src/virtmem/ram.ts'

const TOTAL = Number(process.env.BENCH_COMMIT_MB ?? 64) << 20
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9)

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

const gbps = (bytes: number, ms: number) => bytes / ms / 1e6

interface Side {
  /** Makes round r's pages dirty (untimed). */
  dirty(r: number): void
  /** Awaited when it answers with a Promise (the bigfile side); the raw side is synchronous. */
  commit(r: number): Promise<unknown> | undefined
  /** Drops the cached pages (untimed). */
  drop(): void
  reload(r: number): void
  close(): Promise<void> | void
}

async function ours(dir: string, ps: number): Promise<Side> {
  const n = TOTAL / ps
  const db = await openDatabase(join(dir, `ours-${ps}.bigfile`))
  const ram = new RAM({ pagesize: ps, capacity: TOTAL + 2 * ps })
  const conn = db.connect({ ram })
  const f = await conn.open('f', { create: { blksize: ps, size: TOTAL } })
  const vma = f.mmap(0, n)
  return {
    dirty(r) {
      for (let pg = 0; pg < n; pg++) {
        vma.setFloat64(pg * ps, r * n + pg)
        vma.setFloat64(pg * ps + ps - 8, r)
      }
    },
    commit: () => conn.commit(),
    drop() {
      while (ram.reclaim(1 << 20) > 0) {}
    },
    reload() {
      let s = 0
      for (let pg = 0; pg < n; pg++) s += vma.getUint8(pg * ps)
      if (s < 0) console.log(s)
    },
    async close() {
      vma.unmap()
      await db.close()
    },
  }
}

function raw(dir: string, ps: number): Side {
  const n = TOTAL / ps
  const db = new DatabaseSync(join(dir, `raw-${ps}.sqlite`))
  db.exec('PRAGMA page_size = 65536')
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = FULL')
  db.exec('CREATE TABLE blocks (id INTEGER PRIMARY KEY, data BLOB)')
  const ins = db.prepare('INSERT INTO blocks (id, data) VALUES (?, ?)')
  const sel = db.prepare('SELECT data FROM blocks WHERE id = ?')
  const src = new Uint8Array(TOTAL)
  const dst = new Uint8Array(TOTAL)
  const dv = new DataView(src.buffer)
  return {
    dirty(r) {
      for (let pg = 0; pg < n; pg++) {
        dv.setFloat64(pg * ps, r * n + pg, true)
        dv.setFloat64(pg * ps + ps - 8, r, true)
      }
    },
    commit(r) {
      db.exec('BEGIN')
      for (let pg = 0; pg < n; pg++) ins.run(r * n + pg, src.subarray(pg * ps, pg * ps + ps))
      db.exec('COMMIT')
      return undefined
    },
    drop() {},
    reload(r) {
      for (let pg = 0; pg < n; pg++) dst.set((sel.get(r * n + pg) as { data: Uint8Array }).data, pg * ps)
    },
    close: () => db.close(),
  }
}

async function compare(dir: string, ps: number) {
  const sides = { ours: await ours(dir, ps), raw: raw(dir, ps) }
  const commits = { ours: [] as number[], raw: [] as number[] }
  const reloads = { ours: [] as number[], raw: [] as number[] }
  try {
    for (let r = 0; r < ROUNDS + 1; r++) {
      // Round 0 warms up; odd rounds run raw first.
      const order = r % 2 ? (['raw', 'ours'] as const) : (['ours', 'raw'] as const)
      for (const k of order) {
        const s = sides[k]
        s.dirty(r)
        const t0 = performance.now()
        await s.commit(r)
        const t1 = performance.now()
        if (r > 0) commits[k].push(t1 - t0)
      }
      for (const k of order) {
        const s = sides[k]
        s.drop()
        const t0 = performance.now()
        s.reload(r)
        const t1 = performance.now()
        if (r > 0) reloads[k].push(t1 - t0)
      }
    }
  } finally {
    await sides.ours.close()
    await sides.raw.close()
  }
  return {
    ours: { commit: median(commits.ours), reload: median(reloads.ours) },
    raw: { commit: median(commits.raw), reload: median(reloads.raw) },
  }
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-bench-'))
  try {
    console.log(
      `commit / reload of ${TOTAL >> 20} MiB, median of ${ROUNDS} interleaved rounds (GB/s; ratio = ours / raw)`,
    )
    const rows: string[][] = [
      ['pages', 'commit ours', 'raw insert', 'ratio', 'reload ours', 'raw select', 'ratio'],
    ]
    for (const ps of [64 << 10, 2 << 20]) {
      const { ours: o, raw: r } = await compare(dir, ps)
      rows.push([
        `${TOTAL / ps} x ${ps >> 10} KiB`,
        gbps(TOTAL, o.commit).toFixed(2),
        gbps(TOTAL, r.commit).toFixed(2),
        `${(r.commit / o.commit).toFixed(2)}x`,
        gbps(TOTAL, o.reload).toFixed(2),
        gbps(TOTAL, r.reload).toFixed(2),
        `${(r.reload / o.reload).toFixed(2)}x`,
      ])
    }
    const w = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)))
    for (const row of rows) console.log(row.map((s, c) => (c ? s.padStart(w[c]) : s.padEnd(w[c]))).join('  '))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main) await main()
