/**
 * Commit and reload throughput of the SQLite storage against raw node:sqlite on the same bytes:
 * commit of N dirty pages vs N BLOB inserts in one transaction (same pragmas: 64 KiB SQLite pages, WAL,
 * synchronous=FULL), and a reload of every page after reclaim vs N prepared selects. Prints ratios
 * (targets: >= 0.8x); never asserts timings. Self-contained on purpose.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { openDatabase } from '../src/db/index.ts'
import { RAM } from '../src/virtmem/ram.ts'

const TOTAL = Number(process.env.BENCH_COMMIT_MB ?? 64) << 20
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

const gbps = (bytes: number, ms: number) => bytes / ms / 1e6

async function ours(dir: string, ps: number): Promise<{ commit: number; reload: number }> {
  const n = TOTAL / ps
  const db = await openDatabase(join(dir, `ours-${ps}.bigfile`))
  const ram = new RAM({ pagesize: ps, capacity: TOTAL + 2 * ps })
  const conn = db.connect({ ram })
  const f = await conn.open('f', { create: { blksize: ps, size: TOTAL } })
  const vma = f.mmap(0, n)
  const commits: number[] = []
  const reloads: number[] = []
  for (let r = 0; r < ROUNDS + 1; r++) {
    for (let pg = 0; pg < n; pg++) {
      vma.setFloat64(pg * ps, r * n + pg)
      vma.setFloat64(pg * ps + ps - 8, r)
    }
    const t0 = performance.now()
    await conn.commit()
    const t1 = performance.now()
    while (ram.reclaim(1 << 20) > 0) {}
    const t2 = performance.now()
    let s = 0
    for (let pg = 0; pg < n; pg++) s += vma.getUint8(pg * ps)
    const t3 = performance.now()
    if (s < 0) console.log(s)
    if (r > 0) {
      commits.push(t1 - t0)
      reloads.push(t3 - t2)
    }
  }
  vma.unmap()
  await db.close()
  return { commit: median(commits), reload: median(reloads) }
}

function raw(dir: string, ps: number): { commit: number; reload: number } {
  const n = TOTAL / ps
  const db = new DatabaseSync(join(dir, `raw-${ps}.sqlite`))
  db.exec('PRAGMA page_size = 65536')
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = FULL')
  db.exec('CREATE TABLE blocks (id INTEGER PRIMARY KEY, data BLOB)')
  const ins = db.prepare('INSERT INTO blocks (id, data) VALUES (?, ?)')
  const sel = db.prepare('SELECT data FROM blocks WHERE id = ?')
  const src = new Uint8Array(TOTAL)
  const dst = new Uint8Array(ps)
  const commits: number[] = []
  const reloads: number[] = []
  for (let r = 0; r < ROUNDS + 1; r++) {
    const dv = new DataView(src.buffer)
    for (let pg = 0; pg < n; pg++) dv.setFloat64(pg * ps, r * n + pg, true)
    const t0 = performance.now()
    db.exec('BEGIN')
    for (let pg = 0; pg < n; pg++) ins.run(r * n + pg, src.subarray(pg * ps, pg * ps + ps))
    db.exec('COMMIT')
    const t1 = performance.now()
    for (let pg = 0; pg < n; pg++) dst.set((sel.get(r * n + pg) as { data: Uint8Array }).data)
    const t2 = performance.now()
    if (r > 0) {
      commits.push(t1 - t0)
      reloads.push(t2 - t1)
    }
  }
  db.close()
  return { commit: median(commits), reload: median(reloads) }
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-bench-'))
  try {
    console.log(
      `commit / reload of ${TOTAL >> 20} MiB, median of ${ROUNDS} rounds (GB/s; ratio = ours / raw)`,
    )
    const rows: string[][] = [
      ['pages', 'commit ours', 'raw insert', 'ratio', 'reload ours', 'raw select', 'ratio'],
    ]
    for (const ps of [64 << 10, 2 << 20]) {
      const o = await ours(dir, ps)
      const r = raw(dir, ps)
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
