/**
 * Block stores side by side (issue 13): where block images should live for loads to come near a pread
 * and commits near sequential writes. Candidates, each holding the same data:
 *   - blob:     format 2's store, rebuilt here: one SQLite BLOB row per version (64 KiB pages, WAL,
 *               synchronous=FULL), loaded with the same query, copied into the frame, CRC-32 verified;
 *   - segments: format 3, the real SQLiteStorage: images in append-only segment files indexed by SQLite,
 *               one pread straight into the frame, the block checksum (util/blockhash.ts) verified in
 *               place (`loadBlocks` for runs);
 *   - lmdb:     lmdb-js 3 (`getBinaryFast`, zero-copy, then one copy into the frame; no checksum);
 * against the limit in JS, `readSync` of the same bytes from a plain file (into the same frames, and
 * into one hot buffer). Frames: a 64 MiB arena walked in turn, as a cache's frames would be (a WebAssembly
 * memory, as a RAM's arena is).
 *
 * Workloads, per block size (64 KiB and 2 MiB): random loads; a sequential load of all the data; a
 * commit of 64 MiB of new versions; the blocks of 1,000 scattered 8-byte writes rewritten + commit (and,
 * to decide on partial-block writes, the same 1,000 writes stored as 8-byte pieces: appended + synced +
 * indexed, with the read penalty of one piece on a load). Interleaved rounds (the order rotates), medians
 * with min/max, ratios against the baseline measured in the same run. Never asserts timings.
 *
 * BIGFILE_BENCH_DATA (default 1GiB; e.g. 64MiB for a quick run), BENCH_ROUNDS (default 5).
 */
import {
  closeSync,
  fdatasyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync, type StatementSync } from 'node:sqlite'
import { crc32 } from 'node:zlib'
import { open as openLmdb, type RootDatabase } from 'lmdb'
import { parseSize } from '../src/cli/size.ts'
import { SQLiteStorage } from '../src/db/sqlite/storage.ts'
import type { StorageTxn } from '../src/db/storage.ts'
import { wasmArena } from '../src/util/blockhash.ts'
import { median, rng, table } from './util.ts'

const MiB = 1 << 20
const DATA = parseSize(process.env.BIGFILE_BENCH_DATA ?? '1GiB', 'BIGFILE_BENCH_DATA')
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const COMMIT = Math.min(64 * MiB, DATA / 4)
const ARENA = 64 * MiB
const SCATTER = 1000

/** One store under test: loads into a frame, and a transaction writing whole blocks. */
interface Store {
  name: string
  load(blk: number, buf: Uint8Array): void
  /** Blocks blk .. blk+count-1 into buf (the stores without a multi-block load go one by one). */
  loadRun(blk: number, count: number, buf: Uint8Array): void
  /** One durable transaction writing `blks` with the contents `fill(blk, buf)` gives. */
  write(blks: readonly number[], fill: (blk: number, buf: Uint8Array) => void): void
  close(): void
}

const stat = (xs: number[]) => ({ med: median(xs), min: Math.min(...xs), max: Math.max(...xs) })

function content(seed: number, blk: number, buf: Uint8Array): void {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  for (let i = 0; i < buf.length; i += 4096) v.setUint32(i, (seed * 2654435761 + blk * 40503 + i) >>> 0, true)
}

// ---------------------------------------------------------------- candidates

function plainStore(path: string, bs: number): Store & { fd: number } {
  const fd = openSync(path, 'w+')
  return {
    name: 'readSync (plain file)',
    fd,
    load(blk, buf) {
      readSync(fd, buf, 0, bs, blk * bs)
    },
    loadRun(blk, count, buf) {
      readSync(fd, buf, 0, count * bs, blk * bs)
    },
    write(blks, fill) {
      const b = new Uint8Array(bs)
      for (const blk of blks) {
        fill(blk, b)
        writeSync(fd, b, 0, bs, blk * bs)
      }
      fdatasyncSync(fd)
    },
    close: () => closeSync(fd),
  }
}

function blobStore(path: string, bs: number): Store {
  const db = new DatabaseSync(path)
  db.exec('PRAGMA page_size = 65536')
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = FULL')
  db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
    INSERT INTO meta VALUES ('packed', 0);
    CREATE TABLE blocks (file_id INTEGER NOT NULL, blk INTEGER NOT NULL, tid INTEGER NOT NULL, data BLOB,
      sum INTEGER NOT NULL, PRIMARY KEY (file_id, blk, tid))`)
  const load: StatementSync = db.prepare(
    `SELECT m.value AS packed, b.tid AS tid, b.data AS data, b.sum AS sum FROM meta m
      LEFT JOIN blocks b ON b.file_id = ? AND b.blk = ? AND b.tid <= ?
      WHERE m.key = 'packed' ORDER BY b.tid DESC LIMIT 1`,
  )
  const insert = db.prepare(
    'INSERT OR REPLACE INTO blocks (file_id, blk, tid, data, sum) VALUES (?, ?, ?, ?, ?)',
  )
  let tid = 0
  const key = new Uint8Array(24)
  const kv = new DataView(key.buffer)
  const sum = (blk: number, t: number, data: Uint8Array) => {
    kv.setFloat64(0, 1, true)
    kv.setFloat64(8, blk, true)
    kv.setFloat64(16, t, true)
    return crc32(data, crc32(key))
  }
  const one = (blk: number, buf: Uint8Array) => {
    const row = load.get(1, blk, tid) as { tid: number; data: Uint8Array; sum: number }
    if (sum(blk, row.tid, row.data) !== row.sum) throw new Error('checksum')
    buf.set(row.data)
  }
  return {
    name: 'blob (format 2)',
    load: one,
    loadRun(blk, count, buf) {
      for (let k = 0; k < count; k++) one(blk + k, buf.subarray(k * bs, (k + 1) * bs))
    },
    write(blks, fill) {
      tid++
      const b = new Uint8Array(bs)
      db.exec('BEGIN IMMEDIATE')
      for (const blk of blks) {
        fill(blk, b)
        insert.run(1, blk, tid, b, sum(blk, tid, b))
      }
      db.exec('COMMIT')
    },
    close: () => db.close(),
  }
}

function segmentStore(path: string, bs: number, blocks: number, verify = true, locations = true): Store {
  const s = SQLiteStorage.open(path, { _skipVerify: !verify, _locations: locations })
  // Nobody else writes: begin() answers at once (a StorageTxn, not a Promise).
  const begin = () => s.begin() as StorageTxn
  let file = s.fileByName('f', s.head())?.id
  if (file === undefined) {
    const txn = begin()
    file = txn.createFile({ name: 'f', blksize: bs, size: blocks * bs, meta: {} }) as number
    txn.commit()
  }
  const id = file
  // Loads read the newest snapshot, as a connection does (a tid the storage has seen as its head).
  let at = s.head()
  return {
    name:
      (verify ? 'segments (format 3)' : 'segments, checksum not verified') +
      (locations ? '' : ', index query every load'),
    load(blk, buf) {
      s.loadBlock(id, blk, at, buf)
    },
    loadRun(blk, count, buf) {
      s.loadBlocks(id, blk, count, at, buf)
    },
    write(blks, fill) {
      const txn = begin()
      const b = new Uint8Array(bs)
      for (const blk of blks) {
        fill(blk, b)
        txn.writeBlock(id, blk, b)
      }
      txn.commit()
      at = s.head()
    },
    close: () => s.close(),
  }
}

function lmdbStore(path: string, bs: number): Store {
  const db: RootDatabase<Buffer, number> = openLmdb({
    path,
    compression: false,
    encoding: 'binary',
    keyEncoding: 'uint32',
    mapSize: 4 * DATA + 256 * MiB,
  })
  const one = (blk: number, buf: Uint8Array) => {
    const b = db.getBinaryFast(blk)
    if (b === undefined || b.length !== bs) throw new Error(`lmdb: block ${blk}: ${b?.length} bytes`)
    // Buffer#copy: TypedArray#set refuses the external buffers lmdb-js maps (RangeError).
    b.copy(buf)
  }
  return {
    name: 'lmdb-js (no checksum)',
    load: one,
    loadRun(blk, count, buf) {
      for (let k = 0; k < count; k++) one(blk + k, buf.subarray(k * bs, (k + 1) * bs))
    },
    write(blks, fill) {
      const b = Buffer.alloc(bs)
      db.transactionSync(() => {
        for (const blk of blks) {
          fill(blk, b)
          db.put(blk, b)
        }
      })
    },
    close: () => void db.close(),
  }
}

/**
 * Partial-block writes, simulated at the cost they would at least have in this store: the 8-byte pieces
 * appended to a segment-like file and synced, one index row each in one SQLite transaction; a load of a
 * block with one piece pays one more indexed SELECT and one more small pread.
 */
function piecesSim(dir: string): { write(n: number): void; extraLoad(blk: number): void; close(): void } {
  const fd = openSync(join(dir, 'pieces.seg'), 'w+')
  const db = new DatabaseSync(join(dir, 'pieces.db'))
  db.exec('PRAGMA journal_mode = WAL')
  db.exec('PRAGMA synchronous = FULL')
  db.exec(`CREATE TABLE pieces (file_id INTEGER NOT NULL, blk INTEGER NOT NULL, tid INTEGER NOT NULL,
    at INTEGER NOT NULL, off INTEGER NOT NULL, len INTEGER NOT NULL, sum INTEGER NOT NULL,
    PRIMARY KEY (file_id, blk, tid, at)) WITHOUT ROWID`)
  const ins = db.prepare('INSERT OR REPLACE INTO pieces VALUES (1, ?, ?, ?, ?, 8, ?)')
  const sel = db.prepare('SELECT at, off, len, sum FROM pieces WHERE file_id = 1 AND blk = ? AND tid <= ?')
  let end = 0
  let tid = 0
  const small = new Uint8Array(8)
  const batch = new Uint8Array(8 * SCATTER)
  return {
    write(n) {
      tid++
      const r = rng(tid)
      batch.fill(tid & 0xff)
      writeSync(fd, batch, 0, 8 * n, end)
      fdatasyncSync(fd)
      db.exec('BEGIN IMMEDIATE')
      for (let i = 0; i < n; i++)
        ins.run(Math.floor(r() * 1e6), tid, (i * 4096) % 65536, end + 8 * i, crc32(small))
      db.exec('COMMIT')
      end += 8 * n
    },
    extraLoad(blk) {
      const rows = sel.all(blk % 1e6, tid) as { off: number }[]
      readSync(fd, small, 0, 8, rows[0]?.off ?? 0)
    },
    close() {
      closeSync(fd)
      db.close()
    },
  }
}

// ---------------------------------------------------------------- workloads

type Row = string[]

/** Times `fns` in interleaved rounds (the order rotates each round); per-op ns: med/min/max each. */
function rounds(fns: (() => void)[], ops: number): { med: number; min: number; max: number }[] {
  const times: number[][] = fns.map(() => [])
  for (let r = -1; r < ROUNDS; r++) {
    for (let k = 0; k < fns.length; k++) {
      const i = (k + Math.max(r, 0)) % fns.length
      const t0 = performance.now()
      fns[i]()
      const dt = ((performance.now() - t0) * 1e6) / ops
      if (r >= 0) times[i].push(dt)
    }
  }
  return times.map(stat)
}

function rows(
  names: string[],
  st: { med: number; min: number; max: number }[],
  unit: (ns: number) => string,
): Row[] {
  const base = st[0].med
  return names.map((n, i) => [
    n,
    unit(st[i].med),
    `${unit(st[i].min)} .. ${unit(st[i].max)}`,
    `${(st[i].med / base).toFixed(2)}×`,
  ])
}

const us = (ns: number) => `${(ns / 1e3).toFixed(1)} µs`
const ms = (ns: number) => `${(ns / 1e6).toFixed(1)} ms`

function bench(dir: string, bs: number): void {
  const blocks = DATA / bs
  const kib = bs >= MiB ? `${bs / MiB} MiB` : `${bs >> 10} KiB`
  console.log(`## ${kib} blocks, ${DATA / MiB} MiB of data (${blocks} blocks), load average ${load()}\n`)
  const plain = plainStore(join(dir, `plain-${bs}`), bs)
  const stores: Store[] = [
    blobStore(join(dir, `blob-${bs}.db`), bs),
    segmentStore(join(dir, `seg-${bs}.db`), bs, blocks),
    lmdbStore(join(dir, `lmdb-${bs}`), bs),
  ]
  // Fill: every store holds every block, in commits of COMMIT bytes.
  const all = Array.from({ length: blocks }, (_, i) => i)
  const per = Math.max(1, COMMIT / bs)
  for (const s of [plain, ...stores]) {
    for (let i = 0; i < blocks; i += per) s.write(all.slice(i, i + per), (b, buf) => content(0, b, buf))
  }
  // The same segments read without checksum verification: what the store costs apart from the checksum.
  const raw = segmentStore(join(dir, `seg-${bs}.db`), bs, blocks, false)
  // And without the location cache (locations.ts): the index queried on every load, as before it.
  const segPath = join(dir, `seg-${bs}.db`)
  const readers = [
    ...stores,
    raw,
    segmentStore(segPath, bs, blocks, true, false),
    segmentStore(segPath, bs, blocks, false, false),
  ]
  // Touched: no first-touch page faults in the timings.
  const arena = new Uint8Array(wasmArena(ARENA) ?? new ArrayBuffer(ARENA)).fill(1)
  const frames = Math.max(1, ARENA / bs)
  let next = 0
  const frame = () => {
    const f = next++ % frames
    return arena.subarray(f * bs, (f + 1) * bs)
  }
  const hot = new Uint8Array(bs)

  // (1) Random loads.
  const n = bs >= MiB ? 200 : 2000
  const r = rng(7)
  const order = Array.from({ length: n }, () => Math.floor(r() * blocks))
  const loadAll = (load: (blk: number, buf: Uint8Array) => void) => () => {
    for (const blk of order) load(blk, frame())
  }
  const names = ['readSync into frames', 'readSync into one hot buffer', ...readers.map((s) => s.name)]
  let st = rounds(
    [
      loadAll(plain.load),
      () => {
        for (const blk of order) plain.load(blk, hot)
      },
      ...readers.map((s) => loadAll(s.load)),
    ],
    n,
  )
  console.log(`random loads (${n} per round), per load`)
  table(['store', 'median', 'min .. max', 'ratio'], rows(names, st, us))

  // (2) Sequential load of everything: block by block, and in runs of up to 8 MiB where a store can.
  const run = Math.max(1, Math.min(8 * MiB, ARENA / 2) / bs)
  const seq = (s: Store, runs: boolean) => () => {
    if (!runs) for (let b = 0; b < blocks; b++) s.load(b, frame())
    else
      for (let b = 0; b < blocks; b += run) {
        const c = Math.min(run, blocks - b)
        const f = (next++ % Math.floor(ARENA / (run * bs))) * run * bs
        s.loadRun(b, c, arena.subarray(f, f + c * bs))
      }
  }
  const seg = stores[1]
  st = rounds(
    [seq(plain, true), seq(plain, false), ...readers.map((s) => seq(s, false)), seq(seg, true)],
    blocks,
  )
  console.log(`sequential load of ${DATA / MiB} MiB, per block (whole scan = per block × ${blocks})`)
  table(
    ['store', 'median', 'min .. max', 'ratio'],
    rows(
      [
        `readSync ${(run * bs) / MiB} MiB at a time`,
        'readSync block by block',
        ...readers.map((s) => s.name),
        `${seg.name}, loadBlocks × ${run}`,
      ],
      st,
      us,
    ),
  )

  // (3) A commit of COMMIT bytes of new versions.
  // Each store's k-th call of a workload writes the same bytes, so that after the commits every store
  // holds the same versions and the scattered writes below change them in the same few places.
  const calls = new Map<string, number>()
  const callOf = (what: string, s: Store) => {
    const k = calls.get(what + s.name) ?? 0
    calls.set(what + s.name, k + 1)
    return k
  }
  const commitBlks = all.slice(0, per)
  const commitOf = (s: Store) => () => {
    const k = callOf('commit', s)
    s.write(commitBlks, (b, buf) => content(1000 + k, b, buf))
  }
  st = rounds([commitOf(plain), ...stores.map(commitOf)], 1)
  console.log(`commit of ${COMMIT / MiB} MiB (${per} blocks), durable`)
  table(
    ['store', 'median', 'min .. max', 'ratio'],
    rows(['pwrite + fdatasync', ...stores.map((s) => s.name)], st, ms),
  )

  // (4) 1,000 scattered 8-byte writes: every block they touch handed over whole, + commit (the segment
  // store keeps blocks >= 256 KiB as pieces: pieces.ts); and the pieces simulated at their least cost.
  // Round k's writes come on top of rounds 0..k-1's: mods[k] maps a block to its writes so far.
  const base = (b: number) => (b < per ? 1000 + ROUNDS : 0) // what the commits above left
  const mods: Map<number, [number, number][]>[] = []
  for (let k = 0, acc = new Map<number, [number, number][]>(); k <= ROUNDS; k++) {
    acc = new Map([...acc].map(([b, l]) => [b, [...l]]))
    for (let i = 0; i < SCATTER; i++) {
      const b = Math.floor(r() * blocks)
      if (!acc.has(b)) acc.set(b, [])
      acc.get(b)?.push([Math.floor(r() * (bs - 8)), (k + 1) & 0xff])
    }
    mods.push(acc)
  }
  const touchedIn = (k: number) =>
    [...mods[k].keys()].filter((b) => mods[k].get(b)?.some(([, v]) => v === ((k + 1) & 0xff)))
  const touched = touchedIn(0).sort((a, b) => a - b)
  const pieces = piecesSim(dir)
  const scatterOf = (s: Store) => () => {
    const k = callOf('scatter', s)
    const blks = touchedIn(k).sort((a, b) => a - b)
    s.write(blks, (b, buf) => {
      content(base(b), b, buf)
      for (const [at, v] of mods[k].get(b) ?? []) buf.fill(v, at, at + 8)
    })
  }
  st = rounds([scatterOf(plain), ...stores.map(scatterOf), () => pieces.write(SCATTER)], 1)
  console.log(
    `${SCATTER} scattered 8-byte writes + commit: ~${touched.length} blocks (${((touched.length * bs) / MiB).toFixed(0)} MiB) handed over whole`,
  )
  table(
    ['store', 'median', 'min .. max', 'ratio'],
    rows(
      [
        'pwrite in place + fdatasync',
        ...stores.map((s) => s.name),
        `pieces: ${SCATTER} × 8 B appended + synced + indexed (sim.)`,
      ],
      st,
      ms,
    ),
  )
  // The read penalty of a block with one piece: one more indexed SELECT and one 8-byte pread per load.
  st = rounds(
    [
      loadAll(seg.load),
      loadAll((blk, buf) => {
        seg.load(blk, buf)
        pieces.extraLoad(blk)
      }),
    ],
    n,
  )
  console.log('random loads of a block with one piece over it (sim.), per load')
  table(['store', 'median', 'min .. max', 'ratio'], rows([seg.name, `${seg.name} + 1 piece`], st, us))
  pieces.close()
  for (const s of [plain, ...readers]) s.close()
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')

const dir = mkdtempSync(join(tmpdir(), 'bigfile-blockstore-'))
try {
  console.log(`${ROUNDS} rounds, load average ${load()}\n`)
  for (const bs of [64 << 10, 2 * MiB]) {
    const sub = join(dir, String(bs))
    mkdirSync(sub)
    bench(sub, bs)
    rmSync(sub, { recursive: true, force: true })
  }
  console.log(`load average ${load()}`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
