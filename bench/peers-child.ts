/**
 * One case of bench/peers.bench.ts, in a process of its own so that its peak RSS is its own: prints one
 * JSON line (a ChildResult) on stdout. bigfile is loaded from `job.lib` (the compiled build by default,
 * as users run it), lmdb from `job.lmdb`: this file has no runtime imports but node's own, so that the
 * parent can strip its types once and run it as plain JavaScript (no type-stripping loader in the
 * measured process). Run from source it works too: `node bench/peers-child.ts '<job JSON>'`.
 */
import { execFileSync } from 'node:child_process'
import { closeSync, fsyncSync, openSync, readSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as Lmdb from 'lmdb'
import type * as Bigfile from '../src/index.ts'

/** What a case does; `lib` + `ext`: where bigfile's index module is (`dist/` + '.js' or `src/` + '.ts'). */
export interface Job {
  kind: 'scan' | 'random' | 'import' | 'writes' | 'fill' | 'get1' | 'modules'
  impl: string
  lib: string
  ext: string
  /** lmdb's module URL (import.meta.resolve('lmdb') in the parent). */
  lmdb: string
  path: string
  /** Byte offset of the data in `path` when it is the .npy file. */
  offset: number
  /** Bytes of float64 data. */
  bytes: number
  blksize: number
  budget: number
  count: number
  seed: number
  /** Destination of import and fill. */
  dst: string
}

export interface ChildResult {
  /** Time of the measured part, in ms. */
  ms: number
  /** The kernel's peak RSS of this process, in bytes. */
  maxRss: number
  note: string
  /** Block loads during the measured part (bigfile's random reads). */
  loads?: number
  /** `CODE: message` of a typed error the case ended in (e.g. ENOMEM): a result, not a crash. */
  error?: string
  /** Named figures (get1: ns per element of each variant). */
  extra?: Record<string, number>
}

const MiB = 1 << 20

/** mulberry32, as src/util/rng.ts (inlined: this file imports nothing of bigfile at load time). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function bigfile(job: Job): Promise<typeof Bigfile> {
  return (await import(pathToFileURL(join(job.lib, `index${job.ext}`)).href)) as typeof Bigfile
}

async function lmdb(job: Job): Promise<typeof Lmdb> {
  return (await import(job.lmdb)) as typeof Lmdb
}

/** A RAM of the budget with one block per page (as the CLI's makeRam/pagesizeFor). */
function ramOf(bf: typeof Bigfile, job: Job): Bigfile.RAM {
  const pagesize = Math.min(16 * MiB, Math.max(4096, job.blksize))
  return new bf.RAM({ pagesize, capacity: job.budget, reserve: 2 })
}

/** The array of a case: `a` of the bigfile database at `path`, or the .npy file through the raw-file store. */
async function openArray(
  bf: typeof Bigfile,
  job: Job,
  ram: Bigfile.RAM,
  mode: 'r' | 'rw',
): Promise<{ a: Bigfile.BigArray; conn?: Bigfile.Connection; close: () => Promise<void> }> {
  if (job.impl === 'raw') {
    const a = bf.openNpy(job.path, { ram, blksize: job.blksize, mode })
    return { a, close: async () => a.close() }
  }
  const db = await bf.openDatabase(job.path)
  const conn = db.connect({ ram })
  const a = await bf.BigArray.open(conn, 'a')
  return { a, conn, close: () => db.close() }
}

function openLmdb(l: typeof Lmdb, job: Job, path = job.path) {
  return l.open<Buffer, number>({
    path,
    keyEncoding: 'uint32',
    encoding: 'binary',
    mapSize: 2 * job.bytes + 256 * MiB,
  })
}

const errorOf = (e: unknown): string => {
  const code = (e as { code?: unknown }).code
  if (typeof code !== 'string') throw e
  return `${code}: ${(e as Error).message.slice(0, 120)}`
}

/** Sequential sum of every element. */
async function scan(job: Job): Promise<ChildResult> {
  let s = 0
  let t0 = 0
  let note = ''
  if (job.impl === 'readSync') {
    // The JS limit: 2 MiB preads into one hot buffer, summed as float64.
    const fd = openSync(job.path, 'r')
    const f = new Float64Array((2 * MiB) / 8)
    const u = new Uint8Array(f.buffer)
    t0 = performance.now()
    for (let at = 0; at < job.bytes; ) {
      const n = readSync(fd, u, 0, Math.min(u.length, job.bytes - at), job.offset + at)
      for (let i = 0; i < n >> 3; i++) s += f[i]
      at += n
    }
    closeSync(fd)
  } else if (job.impl === 'lmdb') {
    const l = await lmdb(job)
    const db = openLmdb(l, job)
    const aligned = new Float64Array(job.blksize / 8)
    let copies = 0
    t0 = performance.now()
    for (let b = 0; b < job.bytes / job.blksize; b++) {
      const v = db.getBinaryFast(b) as Buffer
      let f: Float64Array
      if ((v.byteOffset & 7) === 0) f = new Float64Array(v.buffer, v.byteOffset, v.length >> 3)
      else {
        new Uint8Array(aligned.buffer).set(v)
        f = aligned
        copies++
      }
      for (let i = 0; i < f.length; i++) s += f[i]
    }
    const ms = performance.now() - t0
    await db.close()
    note = copies ? `${copies} unaligned values copied; ` : ''
    return { ms, maxRss: maxRss(), note: `${note}sum ${s}` }
  } else {
    const bf = await bigfile(job)
    const ram = ramOf(bf, job)
    const { a, close } = await openArray(bf, job, ram, 'r')
    t0 = performance.now()
    s = Number(await a.sum())
    const ms = performance.now() - t0
    const loads = ram.counters.loads
    await close()
    return { ms, maxRss: maxRss(), loads, note: `sum ${s}` }
  }
  return { ms: performance.now() - t0, maxRss: maxRss(), note: `${note}sum ${s}` }
}

/**
 * `count` reads of random elements, after as many untimed ones (so the cache is full and a read misses
 * as often as it will): bigfile's `get1`; `readSync` of the element's block per read into one hot buffer
 * ('hot') or into the next frame of a cache the size of the budget ('frame'); lmdb's getBinaryFast.
 */
async function random(job: Job): Promise<ChildResult> {
  const n = job.bytes / 8
  const bs = job.blksize
  const idx = new Float64Array(2 * job.count)
  const r = rng(job.seed)
  for (let k = 0; k < idx.length; k++) idx[k] = Math.floor(r() * n)
  let s = 0
  const timed = (read: (i: number) => number): number => {
    for (let k = 0; k < job.count; k++) s += read(idx[k])
    const t0 = performance.now()
    for (let k = job.count; k < idx.length; k++) s += read(idx[k])
    return performance.now() - t0
  }
  if (job.impl === 'hot' || job.impl === 'frame') {
    const fd = openSync(job.path, 'r')
    const cache = new Float64Array((job.impl === 'hot' ? bs : job.budget) / 8)
    const u = new Uint8Array(cache.buffer)
    const frames = u.length / bs
    let next = 0
    const ms = timed((i) => {
      const at = i * 8
      const blk = Math.floor(at / bs)
      const frame = next++ % frames
      readSync(fd, u, frame * bs, bs, job.offset + blk * bs)
      return cache[(frame * bs + at - blk * bs) >> 3]
    })
    closeSync(fd)
    return { ms, maxRss: maxRss(), note: `${s}` }
  }
  if (job.impl === 'lmdb') {
    const l = await lmdb(job)
    const db = openLmdb(l, job)
    const ms = timed((i) => {
      const at = i * 8
      const blk = Math.floor(at / bs)
      return (db.getBinaryFast(blk) as Buffer).readDoubleLE(at - blk * bs)
    })
    await db.close()
    return { ms, maxRss: maxRss(), note: `${s}` }
  }
  const bf = await bigfile(job)
  const ram = ramOf(bf, job)
  const { a, close } = await openArray(bf, job, ram, 'r')
  for (let k = 0; k < job.count; k++) s += a.get1(idx[k]) as number
  const l0 = ram.counters.loads
  const t0 = performance.now()
  for (let k = job.count; k < idx.length; k++) s += a.get1(idx[k]) as number
  const ms = performance.now() - t0
  const loads = ram.counters.loads - l0
  await close()
  return { ms, maxRss: maxRss(), loads, note: `${s}` }
}

/** A durable copy of the 1 GiB .npy: bigfile's importNpy into a new database, or cp + fsync. */
async function importCase(job: Job): Promise<ChildResult> {
  for (const sfx of ['', '-wal', '-shm', '-journal', '-seg'])
    rmSync(job.dst + sfx, { force: true, recursive: true })
  if (job.impl === 'cp') {
    const t0 = performance.now()
    execFileSync('cp', [job.path, job.dst])
    const fd = openSync(job.dst, 'r')
    fsyncSync(fd)
    closeSync(fd)
    return { ms: performance.now() - t0, maxRss: maxRss(), note: '' }
  }
  const bf = await bigfile(job)
  const ram = ramOf(bf, job)
  const t0 = performance.now()
  const db = await bf.openDatabase(job.dst)
  const conn = db.connect({ ram })
  await bf.importNpy(conn, 'a', job.path, { blksize: job.blksize })
  await db.close()
  return { ms: performance.now() - t0, maxRss: maxRss(), note: '' }
}

/**
 * `count` changes of random elements committed in one transaction: bigfile (setAsync + commit);
 * lmdb-js (one transactionSync: each change rewrites its block); node:sqlite (one transaction:
 * SELECT the block's BLOB, change 8 bytes, UPDATE it in place; WAL, synchronous=FULL).
 */
async function writes(job: Job): Promise<ChildResult> {
  const n = job.bytes / 8
  const bs = job.blksize
  const r = rng(job.seed)
  const idx = Array.from({ length: job.count }, () => Math.floor(r() * n))
  const value = (k: number) => -1 - k
  if (job.impl === 'lmdb') {
    const l = await lmdb(job)
    const db = openLmdb(l, job)
    const t0 = performance.now()
    db.transactionSync(() => {
      idx.forEach((i, k) => {
        const blk = Math.floor((i * 8) / bs)
        const cur = Buffer.from(db.getBinaryFast(blk) as Buffer)
        cur.writeDoubleLE(value(k), i * 8 - blk * bs)
        db.put(blk, cur)
      })
    })
    const ms = performance.now() - t0
    await db.close()
    return { ms, maxRss: maxRss(), note: '' }
  }
  if (job.impl === 'sqlite-update') {
    const { DatabaseSync } = await import('node:sqlite')
    const db = new DatabaseSync(job.path)
    db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL')
    const sel = db.prepare('SELECT v FROM b WHERE k = ?')
    const upd = db.prepare('UPDATE b SET v = ? WHERE k = ?')
    const t0 = performance.now()
    db.exec('BEGIN')
    idx.forEach((i, k) => {
      const blk = Math.floor((i * 8) / bs)
      const v = (sel.get(blk) as { v: Uint8Array }).v
      new DataView(v.buffer, v.byteOffset, v.byteLength).setFloat64(i * 8 - blk * bs, value(k), true)
      upd.run(v, blk)
    })
    db.exec('COMMIT')
    const ms = performance.now() - t0
    db.close()
    return { ms, maxRss: maxRss(), note: '' }
  }
  const bf = await bigfile(job)
  const ram = ramOf(bf, job)
  const { a, conn, close } = await openArray(bf, job, ram, 'rw')
  const t0 = performance.now()
  let error: string | undefined
  try {
    for (let k = 0; k < idx.length; k++) await a.setAsync(idx[k], value(k))
    if (conn) await conn.commit()
    else a.commit()
  } catch (e) {
    error = errorOf(e)
    if (conn) await conn.abort()
    else a.abort()
  }
  const ms = performance.now() - t0
  const dirty = new Set(idx.map((i) => Math.floor((i * 8) / bs))).size
  await close()
  return { ms, maxRss: maxRss(), note: `${dirty} blocks changed`, ...(error ? { error } : {}) }
}

/** The peers' stores, filled from the .npy: lmdb-js (a key per block) or an SQLite table (a row per block). */
async function fill(job: Job): Promise<ChildResult> {
  const bs = job.blksize
  const fd = openSync(job.path, 'r')
  const buf = Buffer.alloc(bs)
  const blocks = job.bytes / bs
  const per = Math.max(1, (64 * MiB) / bs)
  const load = (b: number) => readSync(fd, buf, 0, bs, job.offset + b * bs)
  const t0 = performance.now()
  if (job.impl === 'lmdb') {
    rmSync(job.dst, { recursive: true, force: true })
    const l = await lmdb(job)
    const db = openLmdb(l, job, job.dst)
    for (let b0 = 0; b0 < blocks; b0 += per) {
      db.transactionSync(() => {
        for (let b = b0; b < Math.min(blocks, b0 + per); b++) {
          load(b)
          db.put(b, buf)
        }
      })
    }
    await db.close()
  } else {
    for (const sfx of ['', '-wal', '-shm', '-seg']) rmSync(job.dst + sfx, { force: true, recursive: true })
    const { DatabaseSync } = await import('node:sqlite')
    const db = new DatabaseSync(job.dst)
    db.exec('PRAGMA journal_mode=WAL; CREATE TABLE b (k INTEGER PRIMARY KEY, v BLOB)')
    const ins = db.prepare('INSERT INTO b (k, v) VALUES (?, ?)')
    for (let b0 = 0; b0 < blocks; b0 += per) {
      db.exec('BEGIN')
      for (let b = b0; b < Math.min(blocks, b0 + per); b++) {
        load(b)
        ins.run(b, buf)
      }
      db.exec('COMMIT')
    }
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)')
    db.close()
  }
  closeSync(fd)
  return { ms: performance.now() - t0, maxRss: maxRss(), note: '' }
}

/**
 * Per-element reads of `count` resident float64 elements (the array's first ones; a RAM that holds them
 * all), random and sequential: `get1`, `vma.getFloat64` and a plain Float64Array, interleaved, medians
 * of 7 after 2 warm-up rounds; and a sequential sum through forEachChunk.
 */
async function get1(job: Job): Promise<ChildResult> {
  const bf = await bigfile(job)
  const ram = ramOf(bf, job)
  const { a, close } = await openArray(bf, job, ram, 'r')
  const n = job.count
  const plain = new Float64Array(n)
  for (let i = 0; i < n; i++) plain[i] = a.get1(i) as number
  const vma = a._shared.vma
  const off = a._layout.offset
  const idx = new Int32Array(n)
  const r = rng(job.seed)
  for (let k = 0; k < n; k++) idx[k] = Math.floor(r() * n)
  let s = 0
  const fns: Record<string, () => void> = {
    'get1 random': () => {
      for (let k = 0; k < n; k++) s += a.get1(idx[k]) as number
    },
    'Float64Array random': () => {
      for (let k = 0; k < n; k++) s += plain[idx[k]]
    },
    'vma.getFloat64 random': () => {
      for (let k = 0; k < n; k++) s += vma.getFloat64(off + idx[k] * 8)
    },
    'get1 sequential': () => {
      for (let i = 0; i < n; i++) s += a.get1(i) as number
    },
    'Float64Array sequential': () => {
      for (let i = 0; i < n; i++) s += plain[i]
    },
    'vma.getFloat64 sequential': () => {
      for (let i = 0; i < n; i++) s += vma.getFloat64(off + i * 8)
    },
  }
  const times: Record<string, number[]> = {}
  for (let round = 0; round < 9; round++) {
    for (const [name, fn] of Object.entries(fns)) {
      const t0 = performance.now()
      fn()
      const dt = ((performance.now() - t0) * 1e6) / n
      if (round >= 2) (times[name] ??= []).push(dt)
    }
    const view = a.at(bf.slice(0, n))
    const t0 = performance.now()
    await view.forEachChunk((d) => {
      const f = d as Float64Array
      for (let i = 0; i < f.length; i++) s += f[i]
    })
    const dt = ((performance.now() - t0) * 1e6) / n
    if (round >= 2) (times['forEachChunk sequential'] ??= []).push(dt)
  }
  const extra: Record<string, number> = {}
  for (const [name, xs] of Object.entries(times)) extra[name] = xs.sort((x, y) => x - y)[xs.length >> 1]
  await close()
  return { ms: 0, maxRss: maxRss(), note: `${s}`, extra }
}

function maxRss(): number {
  return process.resourceUsage().maxRSS * 1024
}

async function run(job: Job): Promise<ChildResult> {
  switch (job.kind) {
    case 'scan':
      return scan(job)
    case 'random':
      return random(job)
    case 'import':
      return importCase(job)
    case 'writes':
      return writes(job)
    case 'fill':
      return fill(job)
    case 'get1':
      return get1(job)
    case 'modules': {
      const t0 = performance.now()
      await bigfile(job)
      return { ms: performance.now() - t0, maxRss: maxRss(), note: '' }
    }
  }
}

if (process.argv[2]) console.log(JSON.stringify(await run(JSON.parse(process.argv[2]) as Job)))
