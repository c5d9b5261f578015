/**
 * Issue 13's table in one run: bigfile (the SQLite store, and the raw-file store where it applies)
 * against the JS limit (`readSync`), lmdb-js (getBinaryFast: zero-copy reads, a key per block), node:sqlite
 * (UPDATE in place) and NumPy (numpy.memmap, numpy.save; skipped with a note when `python3 -c 'import
 * numpy'` fails), on DATA bytes of float64 with a BUDGET RAM:
 *
 * - random reads with misses (64 KiB / 2 MiB blocks): per read and per block load, against a `readSync`
 *   of the block into one hot buffer and into the next frame of a cache of the budget's size;
 * - sequential sum, warm and cold (the OS cache dropped through /proc/sys/vm/drop_caches before each case;
 *   skipped with a note when that is not writable), against `readSync` 2 MiB + sum (at 4 × DATA too with
 *   BIGFILE_BENCH_BIG=1);
 * - import of the .npy, durable: importNpy and the compiled `bigfile import`, against cp + fsync and
 *   numpy.save + fsync;
 * - 1,000 scattered element writes + commit, against node:sqlite (and lmdb-js with
 *   BIGFILE_BENCH_LMDB_WRITES=1: see LMDB_WRITES);
 * - per-element get1 (resident), random and sequential, against a Float64Array;
 * - peak RSS of every case against the budget and the bare runtime (a child that only reads the file),
 *   bigfile's modules alone and the CLI's start-up, compiled against run from source.
 *
 * Every case runs in a fresh process (bench/peers-child.ts, types stripped once into plain JavaScript)
 * that reports its own time and the kernel's maxRSS; bigfile is the compiled build (scripts/build.ts
 * --out, into the temporary directory), as users run it. Rounds are interleaved: round r runs every case
 * once. Cells are median [min–max]; ratios are of medians from this run. Nothing is asserted.
 *
 * Full size (1 GiB, 256 MiB, 3 rounds; ~8 GiB of temporary files, ~20 min on 2 busy cores):
 *   npm run bench -- peers
 * Quick (64 MiB, 16 MiB, one round; < 1 min on a quiet machine, ~2 min on 2 busy cores):
 *   BIGFILE_BENCH_SCALE=0.0625 BIGFILE_BENCH_ROUNDS=1 npm run bench -- peers
 * Also: BIGFILE_BENCH_ROUNDS (default 3), BIGFILE_BENCH_BIG=1 (the 4 GiB scans), BIGFILE_BENCH_FROM_SOURCE=1
 * (bigfile run from src/ by type stripping instead of compiled), TMPDIR (where the files go).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { stripTypeScriptTypes } from 'node:module'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { npyHeader } from '../src/array/npy.ts'
import type { ChildResult, Job } from './peers-child.ts'
import { median, table, writePlainValues } from './util.ts'

const MiB = 1 << 20
const GiB = 1024 * MiB
const KiB64 = 64 << 10
const env = process.env
const SCALE = Number(env.BIGFILE_BENCH_SCALE ?? 1)
if (!(SCALE > 0 && SCALE <= 16)) throw new Error(`BIGFILE_BENCH_SCALE must be in (0, 16], got ${SCALE}`)
const roundTo = (x: number, unit: number) => Math.max(unit, Math.round(x / unit) * unit)
const DATA = Math.max(16 * MiB, roundTo(GiB * SCALE, 2 * MiB))
const BIG = env.BIGFILE_BENCH_BIG === '1' ? 4 * DATA : 0
const BUDGET = Math.max(16 * MiB, roundTo(256 * MiB * SCALE, 2 * MiB))
const ROUNDS = Number(env.BIGFILE_BENCH_ROUNDS ?? 3)
const CHANGES = Math.max(100, Math.round(1000 * Math.min(1, SCALE)))
const READS = (blksize: number) => Math.max(200, Math.round((blksize === KiB64 ? 20000 : 2000) * SCALE))
const RESIDENT = Math.min(DATA, 64 * MiB) / 8
const FROM_SOURCE = env.BIGFILE_BENCH_FROM_SOURCE === '1'
const BLKSIZES = [KiB64, 2 * MiB]
const ROOT = join(import.meta.dirname, '..')
/**
 * lmdb-js 3.5.6 rewriting 64 KiB / 2 MiB values, measured here: it aborts on an assertion in
 * mdb_page_alloc when the store was reopened with a non-empty free list (kriszyp/lmdb-js#317), or crawls
 * (1,000 rewrites of 64 KiB: 40–73 s) while its file grows by tens of GiB (the disk filled up once).
 * So that case runs only on request, on a copy of the store.
 */
const LMDB_WRITES = env.BIGFILE_BENCH_LMDB_WRITES === '1'

const signed = (b: number) => `${b >= 0 ? '+' : ''}${mib(b)}`
const fmtSize = (b: number) => (b >= GiB ? `${b / GiB} GiB` : b >= MiB ? `${b / MiB} MiB` : `${b >> 10} KiB`)
const mib = (b: number) => (Number.isFinite(b) ? `${Math.round(b / MiB)} MiB` : 'n/a')

/** A case: how to run it (a child job, python, or a command) and, once run, its results per round. */
interface Case {
  section: string
  name: string
  /** Files that must be in the OS cache first (warm cases) or out of it (cold cases). */
  files: string[]
  cold?: boolean
  run: () => ChildResult
  results: ChildResult[]
  /** Bytes the case's time is about (for GB/s); budget the case ran with (for RSS over budget). */
  bytes?: number
  budget?: number
  /** Operations timed (random reads). */
  ops?: number
}

const PY = `
import sys, json, time, os, resource
import numpy as np
kind, src = sys.argv[1], sys.argv[2]
t = time.perf_counter()
note = ''
if kind == 'scan':
    note = 'sum %r' % float(np.load(src, mmap_mode='r').sum())
else:
    m = np.load(src, mmap_mode='r')
    with open(sys.argv[3], 'wb') as f:
        np.save(f, m)
        f.flush()
        os.fsync(f.fileno())
ms = (time.perf_counter() - t) * 1000
print(json.dumps({'ms': ms, 'maxRss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, 'note': note}))
`

/**
 * The last stdout line of a child as its result; a child that crashed or timed out is a result without
 * figures (ms NaN) that says how it ended (lmdb-js 3.5.6 aborts on an assertion in mdb_page_alloc when
 * it reopens a store whose free list is not empty: kriszyp/lmdb-js#317), or an Error when `strict`.
 */
function parseResult(what: string, r: ReturnType<typeof spawnSync>, strict = false): ChildResult {
  const out = String(r.stdout).trim().split('\n')
  if (r.status === 0) return JSON.parse(out[out.length - 1]) as ChildResult
  const why = r.error ? r.error.message : `${r.signal ?? `exit ${r.status}`}`
  const last = String(r.stderr).trim().split('\n').filter(Boolean).pop() ?? ''
  if (strict) throw new Error(`${what} failed (${why}): ${String(r.stderr).slice(-2000)}`)
  return { ms: Number.NaN, maxRss: Number.NaN, note: '', error: `${why}: ${last.slice(0, 100)}` }
}

/** Reads a file through once, so that it is in the OS cache. */
function warmFile(path: string): void {
  const fd = openSync(path, 'r')
  const buf = new Uint8Array(8 * MiB)
  try {
    for (let at = 0; ; at += buf.length) if (readSync(fd, buf, 0, buf.length, at) === 0) break
  } finally {
    closeSync(fd)
  }
}

function canDropCaches(): boolean {
  try {
    execFileSync('sync')
    writeFileSync('/proc/sys/vm/drop_caches', '1')
    return true
  } catch {
    return false
  }
}

function hasNumpy(): boolean {
  return spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0
}

function writeNpyFile(path: string, bytes: number): number {
  const head = npyHeader('float64', [bytes / 8])
  const plain = `${path}.plain`
  writePlainValues(plain, bytes, 32 * MiB, (i) => (i % 1000) * 0.5, false)
  const fd = openSync(path, 'w')
  const src = openSync(plain, 'r')
  const buf = new Uint8Array(32 * MiB)
  try {
    writeSync(fd, head)
    for (let at = 0; ; ) {
      const n = readSync(src, buf, 0, buf.length, at)
      if (n === 0) break
      for (let w = 0; w < n; ) w += writeSync(fd, buf, w, n - w, head.length + at + w)
      at += n
    }
  } finally {
    closeSync(fd)
    closeSync(src)
    rmSync(plain)
  }
  return head.length
}

export async function main(): Promise<void> {
  const dir = mkdtempSync(join(env.TMPDIR ?? tmpdir(), 'bigfile-peers-'))
  try {
    await bench(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function bench(dir: string): Promise<void> {
  const numpy = hasNumpy()
  const cold = canDropCaches()
  console.log(
    `# ${fmtSize(DATA)} of float64, RAM budget ${fmtSize(BUDGET)}, ${ROUNDS} interleaved rounds, each case in a fresh process; ` +
      `bigfile ${FROM_SOURCE ? 'run from source (type stripping)' : 'compiled'}; load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  )
  if (!numpy) console.log('numpy: skipped (python3 -c "import numpy" failed)')
  if (!LMDB_WRITES)
    console.log(
      'lmdb-js writes: skipped (lmdb-js 3.5.6 aborts or grows its file by GiBs rewriting large values; BIGFILE_BENCH_LMDB_WRITES=1 runs it)',
    )
  if (!cold) console.log('cold: skipped (cannot drop caches: /proc/sys/vm/drop_caches is not writable)')

  // (1) bigfile compiled into dir/pkg/dist (with package.json beside it, as installed), and the child
  // stripped of its types into plain JavaScript.
  const pkg = join(dir, 'pkg')
  mkdirSync(pkg)
  let lib = join(ROOT, 'src')
  let ext = '.ts'
  let bin = join(ROOT, 'src', 'cli', 'bin.ts')
  const srcBin = bin
  const distBin = join(pkg, 'dist', 'cli', 'bin.js')
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.ts'), '--out', join(pkg, 'dist')], {
    stdio: 'inherit',
  })
  if (build.status !== 0) throw new Error('scripts/build.ts failed')
  copyFileSync(join(ROOT, 'package.json'), join(pkg, 'package.json'))
  if (!FROM_SOURCE) {
    lib = join(pkg, 'dist')
    ext = '.js'
    bin = distBin
  }
  const childSrc = join(import.meta.dirname, 'peers-child.ts')
  const childJs = join(pkg, 'peers-child.mjs')
  // (Node calls stripTypeScriptTypes experimental: a warning about the bench's tooling, not its figures.)
  const emitWarning = process.emitWarning
  process.emitWarning = () => {}
  try {
    writeFileSync(childJs, stripTypeScriptTypes(readFileSync(childSrc, 'utf8')))
  } finally {
    process.emitWarning = emitWarning
  }
  const child = FROM_SOURCE ? childSrc : childJs
  const rssHook = join(pkg, 'maxrss.mjs')
  writeFileSync(
    rssHook,
    "import { writeSync } from 'node:fs'\nprocess.on('exit', () => writeSync(2, '\\nmaxrss ' + process.resourceUsage().maxRSS + '\\n'))\n",
  )
  const lmdb = import.meta.resolve('lmdb')
  let setup = true // a failure while setting up stops the benchmark; afterwards it is a case's result
  const base = { lib, ext, lmdb, offset: 0, bytes: DATA, blksize: KiB64, budget: BUDGET, count: 0, seed: 1 }
  const runJob = (
    j: Partial<Job> & Pick<Job, 'kind' | 'impl' | 'path'>,
    timeoutMs = 20 * 60e3,
  ): ChildResult => {
    const job: Job = { ...base, dst: '', ...j }
    const r = spawnSync(process.execPath, [child, JSON.stringify(job)], {
      encoding: 'utf8',
      maxBuffer: 64 * MiB,
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    })
    return parseResult(`${job.kind} ${job.impl}`, r, setup)
  }
  /** A command's wall time and maxRSS (through the maxrss.mjs hook). */
  const runNode = (args: string[]): ChildResult => {
    const t0 = performance.now()
    const r = spawnSync(process.execPath, ['--import', rssHook, ...args], { encoding: 'utf8' })
    const ms = performance.now() - t0
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`)
    const m = /maxrss (\d+)\s*$/.exec(r.stderr)
    return { ms, maxRss: Number(m?.[1] ?? 0) * 1024, note: '' }
  }
  const runPy = (args: string[]): ChildResult =>
    parseResult(`python3 ${args[0]}`, spawnSync('python3', ['-c', PY, ...args], { encoding: 'utf8' }))

  // (2) The data: one .npy (the raw-file store, readSync, numpy and cp read it in place), and from it a
  // bigfile database per block size, an lmdb-js store and an SQLite table.
  const t0 = performance.now()
  const npy = join(dir, 'data.npy')
  const offset = writeNpyFile(npy, DATA)
  base.offset = offset
  const db = (bs: number, size = DATA) => join(dir, `bigfile-${size}-${bs}.db`)
  const mdb = (bs: number) => join(dir, `lmdb-${bs}`)
  const sql = (bs: number) => join(dir, `sqlite-${bs}.db`)
  for (const bs of BLKSIZES) {
    runJob({ kind: 'import', impl: 'api', path: npy, dst: db(bs), blksize: bs })
    runJob({ kind: 'fill', impl: 'lmdb', path: npy, dst: mdb(bs), blksize: bs })
    runJob({ kind: 'fill', impl: 'sqlite', path: npy, dst: sql(bs), blksize: bs })
  }
  let bigNpy = ''
  if (BIG) {
    bigNpy = join(dir, 'big.npy')
    writeNpyFile(bigNpy, BIG)
    for (const bs of BLKSIZES)
      runJob({ kind: 'import', impl: 'api', path: bigNpy, dst: db(bs, BIG), blksize: bs, bytes: BIG })
  }
  setup = false
  console.log(`# setup: ${((performance.now() - t0) / 1000).toFixed(1)} s in ${dir}\n`)

  // (3) The cases.
  const cases: Case[] = []
  const add = (c: Omit<Case, 'results'>) => cases.push({ ...c, results: [] })
  const bsName = (bs: number) => fmtSize(bs)
  for (const bs of BLKSIZES) {
    const reads = READS(bs)
    const section = `random reads with misses, ${bsName(bs)} blocks`
    const r = (name: string, impl: string, path: string, files = [path]) =>
      add({
        section,
        name,
        files,
        ops: reads,
        budget: impl === 'sqlite' || impl === 'raw' ? BUDGET : undefined,
        run: () => runJob({ kind: 'random', impl, path, blksize: bs, count: reads, seed: 5 }),
      })
    r('bigfile, SQLite store (get1)', 'sqlite', db(bs))
    r('bigfile, raw-file store (get1)', 'raw', npy)
    r('readSync into a frame of a budget-sized cache', 'frame', npy)
    r('readSync into one hot buffer', 'hot', npy)
    r('lmdb-js getBinaryFast', 'lmdb', mdb(bs), [join(mdb(bs), 'data.mdb')])
  }
  const scans = (size: number, isCold: boolean) => {
    const section = `sequential sum, ${isCold ? 'cold' : 'warm'}, ${fmtSize(size)}`
    const file = size === DATA ? npy : bigNpy
    const s = (name: string, job: () => ChildResult, files: string[], budget?: number) =>
      add({ section, name, files, cold: isCold, run: job, bytes: size, budget })
    s(
      'readSync 2 MiB + sum (the JS limit; bare runtime)',
      () => runJob({ kind: 'scan', impl: 'readSync', path: file, bytes: size }),
      [file],
    )
    for (const bs of BLKSIZES) {
      s(
        `bigfile, SQLite store, ${bsName(bs)}`,
        () => runJob({ kind: 'scan', impl: 'sqlite', path: db(bs, size), blksize: bs, bytes: size }),
        [db(bs, size)],
        BUDGET,
      )
      s(
        `bigfile, raw-file store, ${bsName(bs)}`,
        () => runJob({ kind: 'scan', impl: 'raw', path: file, blksize: bs, bytes: size }),
        [file],
        BUDGET,
      )
    }
    if (size === DATA)
      for (const bs of BLKSIZES)
        s(
          `lmdb-js getBinaryFast, ${bsName(bs)} values`,
          () => runJob({ kind: 'scan', impl: 'lmdb', path: mdb(bs), blksize: bs }),
          [join(mdb(bs), 'data.mdb')],
        )
    if (numpy) s('numpy.memmap(...).sum()', () => runPy(['scan', file]), [file])
  }
  scans(DATA, false)
  if (BIG) scans(BIG, false)
  if (cold) scans(DATA, true)
  {
    const section = `import a ${fmtSize(DATA)} .npy, durable`
    const out = join(dir, 'import.out')
    const i = (name: string, run: () => ChildResult, budget?: number) =>
      add({ section, name, files: [npy], run, bytes: DATA, budget })
    i('cp + fsync', () => runJob({ kind: 'import', impl: 'cp', path: npy, dst: out }))
    for (const bs of BLKSIZES)
      i(
        `bigfile importNpy, ${bsName(bs)}`,
        () => runJob({ kind: 'import', impl: 'api', path: npy, dst: out, blksize: bs }),
        BUDGET,
      )
    i(
      `bigfile import (CLI, ${FROM_SOURCE ? 'from source' : 'compiled'}), 64 KiB`,
      () => {
        for (const sfx of ['', '-wal', '-shm', '-seg']) rmSync(out + sfx, { force: true, recursive: true })
        return runNode([bin, 'import', out, 'a', npy, '--ram', String(BUDGET), '--quiet'])
      },
      BUDGET,
    )
    if (numpy) i('numpy.save + fsync (from np.load mmap)', () => runPy(['save', npy, out]))
  }
  for (const bs of BLKSIZES) {
    const section = `${CHANGES} scattered writes + commit, ${bsName(bs)} blocks`
    let seed = 100
    const w = (name: string, impl: string, path: string, files: string[]) =>
      add({
        section,
        name,
        files,
        budget: impl === 'sqlite' || impl === 'raw' ? BUDGET : undefined,
        run: () => {
          if (impl !== 'lmdb')
            return runJob({ kind: 'writes', impl, path, blksize: bs, count: CHANGES, seed: seed++ })
          // On a copy, removed after, with a time bound: the read cases keep their store, and the disk
          // cannot fill up (see LMDB_WRITES).
          const copy = `${path}-w`
          rmSync(copy, { recursive: true, force: true })
          execFileSync('cp', ['-r', path, copy])
          try {
            return runJob(
              { kind: 'writes', impl, path: copy, blksize: bs, count: CHANGES, seed: seed++ },
              Math.max(1, SCALE) * 120e3,
            )
          } finally {
            rmSync(copy, { recursive: true, force: true })
          }
        },
      })
    if (LMDB_WRITES)
      w('lmdb-js (a transaction rewriting the blocks)', 'lmdb', mdb(bs), [join(mdb(bs), 'data.mdb')])
    w('node:sqlite UPDATE in place (WAL, synchronous=FULL)', 'sqlite-update', sql(bs), [sql(bs)])
    w('bigfile, SQLite store', 'sqlite', db(bs), [db(bs)])
    w('bigfile, raw-file store', 'raw', npy, [npy])
  }
  add({
    section: 'per-element reads',
    name: 'get1',
    files: [db(KiB64)],
    run: () =>
      runJob({
        kind: 'get1',
        impl: 'sqlite',
        path: db(KiB64),
        count: RESIDENT,
        budget: RESIDENT * 8 + 8 * MiB,
        seed: 9,
      }),
  })
  {
    const section = 'start-up and modules (no work)'
    const n = (name: string, args: string[]) => add({ section, name, files: [], run: () => runNode(args) })
    n('node -e 0 (bare runtime)', ['-e', '0'])
    n('bigfile --version, compiled', [distBin, '--version'])
    n('bigfile --version, from source', [srcBin, '--version'])
    const imp = (url: string) => ['--input-type=module', '-e', `await import(${JSON.stringify(url)})`]
    n("import bigfile's index, compiled", imp(join(pkg, 'dist', 'index.js')))
    n("import bigfile's index, from source", imp(join(ROOT, 'src', 'index.ts')))
  }

  // (4) Interleaved rounds.
  const warmed = new Set<string>()
  for (let round = 0; round < ROUNDS; round++) {
    const tr = performance.now()
    for (const c of cases) {
      if (c.cold) {
        canDropCaches()
        warmed.clear()
      } else
        for (const f of c.files)
          if (!warmed.has(f)) {
            warmFile(f)
            warmed.add(f)
          }
      c.results.push(c.run())
    }
    console.log(`# round ${round + 1}: ${((performance.now() - tr) / 1000).toFixed(1)} s`)
  }
  console.log(
    `# load after the rounds: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}\n`,
  )
  report(cases)
}

/** median [min–max] of `xs` formatted by `f`; NaN (a failed run) left out, 'failed' when all are. */
function spread(all: number[], f: (x: number) => string): string {
  const xs = all.filter(Number.isFinite)
  if (xs.length === 0) return 'failed'
  const fails = all.length - xs.length
  return `${f(median(xs))} [${f(Math.min(...xs))}–${f(Math.max(...xs))}]${fails ? ` (${fails} failed)` : ''}`
}

const sec = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`)
const us = (ns: number) => `${(ns / 1e3).toFixed(1)} µs`
/** The median of `f` over the case's runs that have figures (NaN when none has). */
const med = (c: Case, f: (r: ChildResult) => number) => {
  const xs = c.results.map(f).filter(Number.isFinite)
  return xs.length ? median(xs) : Number.NaN
}

function report(cases: Case[]): void {
  const sections = [...new Set(cases.map((c) => c.section))]
  const targets: string[] = []
  const bare = cases.find((c) => c.name.startsWith('readSync 2 MiB') && c.section.includes('warm'))
  const bareRss = bare ? med(bare, (r) => r.maxRss) : 0
  for (const s of sections) {
    const cs = cases.filter((c) => c.section === s)
    console.log(`## ${s}`)
    if (s.startsWith('random')) {
      const perOp = (c: Case) => (r: ChildResult) => (r.ms * 1e6) / (c.ops ?? 1)
      const perLoad = (c: Case) => (r: ChildResult) => (r.ms * 1e6) / (r.loads ?? c.ops ?? 1)
      const frame = cs.find((c) => c.name.includes('frame')) as Case
      const hot = cs.find((c) => c.name.includes('hot')) as Case
      const fL = med(frame, perLoad(frame))
      const hL = med(hot, perLoad(hot))
      table(
        ['case', 'per read', 'loads/read', 'per load', '÷ frame', '÷ hot', 'maxRSS'],
        cs.map((c) => {
          const l = med(c, perLoad(c))
          return [
            c.name,
            spread(c.results.map(perOp(c)), us),
            (med(c, (r) => r.loads ?? c.ops ?? 1) / (c.ops ?? 1)).toFixed(2),
            spread(c.results.map(perLoad(c)), us),
            `${(l / fL).toFixed(2)}×`,
            `${(l / hL).toFixed(2)}×`,
            mib(med(c, (r) => r.maxRss)),
          ]
        }),
      )
      for (const c of cs.filter((c) => c.name.startsWith('bigfile'))) {
        const l = med(c, perLoad(c))
        targets.push(
          `${s}, ${c.name}: per load ${(l / fL).toFixed(2)}× readSync into a frame (target ≤ 1.2×), ${(l / hL).toFixed(2)}× into a hot buffer (target ≤ 2×)`,
        )
      }
    } else if (s.startsWith('per-element')) {
      const [c] = cs
      const x = c.results.map((r) => r.extra ?? {})
      const names = Object.keys(x[0])
      const of = (name: string) => median(x.map((e) => e[name]))
      table(
        ['per element, resident', 'ns [min–max]', '÷ Float64Array'],
        names.map((n) => {
          const plain = of(n.endsWith('random') ? 'Float64Array random' : 'Float64Array sequential')
          return [
            n,
            spread(
              x.map((e) => e[n]),
              (v) => v.toFixed(2),
            ),
            `${(of(n) / plain).toFixed(2)}×`,
          ]
        }),
      )
      targets.push(
        `get1 random ${(of('get1 random') / of('Float64Array random')).toFixed(2)}×, vma.getFloat64 random ${(of('vma.getFloat64 random') / of('Float64Array random')).toFixed(2)}× a Float64Array (target ≤ 2×)`,
      )
    } else if (s.startsWith('start-up')) {
      const b = med(cs[0], (r) => r.maxRss)
      table(
        ['command', 'wall', 'maxRSS', 'over bare node'],
        cs.map((c) => [
          c.name,
          spread(
            c.results.map((r) => r.ms),
            sec,
          ),
          mib(med(c, (r) => r.maxRss)),
          signed(med(c, (r) => r.maxRss) - b),
        ]),
      )
    } else {
      // Scans, imports and writes: times against the section's baseline (its first case with figures).
      const baseCase = cs.find((c) => Number.isFinite(med(c, (r) => r.ms))) ?? cs[0]
      const b = med(baseCase, (r) => r.ms)
      const gbps = (c: Case) => (c.bytes ? `${(c.bytes / 1e6 / med(c, (r) => r.ms)).toFixed(2)} GB/s` : '')
      table(
        ['case', 'time', 'rate', `÷ ${baseCase.name.split(' (')[0]}`, 'maxRSS', 'note'],
        cs.map((c) => [
          c.name,
          spread(
            c.results.map((r) => r.ms),
            sec,
          ),
          gbps(c),
          `${(med(c, (r) => r.ms) / b).toFixed(2)}×`,
          mib(med(c, (r) => r.maxRss)),
          (c.results.find((r) => r.error)?.error ?? c.results[0].note).slice(0, 60),
        ]),
      )
      for (const c of cs.filter((c) => c.name.startsWith('bigfile'))) {
        const ratio = med(c, (r) => r.ms) / b
        if (s.startsWith('sequential'))
          targets.push(
            `${s}, ${c.name}: ${(1 / ratio).toFixed(2)}× the speed of readSync + sum (target ≥ ${s.includes('cold') ? '0.9' : '0.8'}×)`,
          )
        if (s.startsWith('import'))
          targets.push(`${s}, ${c.name}: ${ratio.toFixed(2)}× cp + fsync (target ≤ 1.3×)`)
        if (s.includes('scattered')) {
          const lmCase = cs.find((x) => x.name.startsWith('lmdb'))
          const lm = lmCase ? med(lmCase, (r) => r.ms) : Number.NaN
          const vs = Number.isFinite(lm)
            ? `${(med(c, (r) => r.ms) / lm).toFixed(2)}× lmdb-js (target ≤ 1×), `
            : 'lmdb-js: no figure, '
          targets.push(`${s}, ${c.name}: ${vs}${ratio.toFixed(2)}× ${baseCase.name}`)
        }
      }
    }
  }
  // Peak RSS of every bigfile case over its budget and over budget + the bare runtime (target: ≤ 32 MiB).
  console.log(`## peak RSS of bigfile's cases (bare runtime reading a file: ${mib(bareRss)})`)
  const rows = cases
    .filter((c) => c.budget !== undefined)
    .map((c) => {
      const rss = med(c, (r) => r.maxRss)
      const over = rss - (c.budget ?? 0) - bareRss
      return [
        `${c.section}: ${c.name}`,
        mib(rss),
        signed(rss - (c.budget ?? 0)),
        signed(over),
        over <= 32 * MiB ? 'met' : 'missed',
      ]
    })
  table(['case', 'maxRSS', 'over budget', 'over budget + bare', '≤ 32 MiB'], rows)
  console.log('## targets (issue 13; ratios of medians in this run)')
  for (const t of targets) console.log(`- ${t}`)
}

if (import.meta.main) await main()
