// Fault injection: a storage that fails chosen loadblk/storeblk calls, synchronously (throw) or
// asynchronously (reject). Whatever fails, the caller gets LoadError/StoreError carrying the storage's
// error as `cause`, no page stays LOADING, no frame leaks, dirty data survives a failed writeout (which can
// be retried), discard always works, and once the storage recovers the data read is what it holds.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  FileH,
  LoadError,
  OutOfMemoryError,
  PageState,
  RAM,
  StoreError,
  type VMA,
  WriteoutFlags,
} from '../../src/index.ts'
import { tick } from '../helpers/async.ts'
import { DeferredFile, FAULT_MODES, FaultFile, type FaultMode, InjectedError } from '../helpers/bigfiles.ts'
import { rng as mulberry32 } from '../helpers/rng.ts'

const PS = 4096

function isPromise(v: unknown): v is Promise<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === 'function'
}

/** Page `pg` as the storage holds it. */
function storedPage(file: FaultFile, pg: number): Uint8Array {
  const out = new Uint8Array(PS)
  const bs = file.blksize
  if (bs >= PS) {
    const ppb = bs / PS
    const b = file.blocks.get(Math.floor(pg / ppb))
    if (b) out.set(b.subarray((pg % ppb) * PS, (pg % ppb) * PS + PS))
    return out
  }
  for (let k = 0; k < PS / bs; k++) {
    const b = file.blocks.get(pg * (PS / bs) + k)
    if (b) out.set(b, k * bs)
  }
  return out
}

/** Makes the storage hold `bytes` as page `pg` (behind the VM's back). */
function setStoredPage(file: FaultFile, pg: number, bytes: Uint8Array): void {
  setPageIn(file.blocks, file.blksize, pg, bytes)
}

/** Writes page `pg` into a map of `blksize`-byte blocks. */
function setPageIn(blocks: Map<number, Uint8Array>, blksize: number, pg: number, bytes: Uint8Array): void {
  if (blksize >= PS) {
    const ppb = blksize / PS
    const blk = Math.floor(pg / ppb)
    const b = blocks.get(blk)?.slice() ?? new Uint8Array(blksize)
    b.set(bytes, (pg % ppb) * PS)
    blocks.set(blk, b)
    return
  }
  const bpp = PS / blksize
  for (let k = 0; k < bpp; k++) blocks.set(pg * bpp + k, bytes.slice(k * blksize, (k + 1) * blksize))
}

function pattern(seed: number): Uint8Array {
  const b = new Uint8Array(PS)
  for (let i = 0; i < PS; i++) b[i] = (seed * 53 + i * 13 + (i >> 9)) & 255
  return b
}

function snapshotBlocks(file: FaultFile): Map<number, Uint8Array> {
  return new Map([...file.blocks].map(([k, v]) => [k, v.slice()]))
}

/**
 * Waits until no page of `fhs` is LOADING and every used frame belongs to a resident page (so no load,
 * dropped ones included, still holds a frame). With a synchronous storage that must hold at once.
 */
async function quiesce(ram: RAM, fhs: FileH[], sync: boolean): Promise<void> {
  for (let i = 0; ; i++) {
    let resident = 0
    let loading: string | undefined
    for (const fh of fhs) {
      if (fh.closed) continue
      for (const pg of fh.residentPages()) {
        resident++
        const st = fh.pageState(pg)
        if (st === PageState.LOADING || st === PageState.LOADING_INVALIDATED) loading = `page ${pg} is ${st}`
      }
    }
    const used = ram.stats().used
    if (loading === undefined && used === resident) return
    if (sync || i >= 50) {
      assert.fail(`not quiescent: ${loading ?? `${used} frames used for ${resident} resident pages`}`)
    }
    await tick()
  }
}

function checkInjected(
  e: unknown,
  file: FaultFile,
  since: number,
  cls?: typeof LoadError | typeof StoreError,
) {
  if (cls) assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`)
  assert.ok(
    e instanceof LoadError || e instanceof StoreError,
    `expected LoadError or StoreError, got ${String(e)}`,
  )
  assert.equal(e.code, e instanceof LoadError ? 'ELOAD' : 'ESTORE')
  assert.ok(
    file.injected.slice(since).includes(e.cause as InjectedError),
    `cause is not an error injected by this operation: ${String(e.cause)}`,
  )
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown }

/** Runs `fn`; with a synchronous storage it must answer synchronously (value or throw). */
async function attempt(fn: () => unknown, sync: boolean): Promise<Outcome> {
  let r: unknown
  try {
    r = fn()
  } catch (error) {
    return { ok: false, error }
  }
  if (!isPromise(r)) return { ok: true, value: r }
  assert.ok(!sync, 'a synchronous storage got a Promise back')
  try {
    return { ok: true, value: await r }
  } catch (error) {
    return { ok: false, error }
  }
}

// ------------------------------------------------------------------ scenario

interface Ctx {
  fh: FileH
  vma: VMA
  file: FaultFile
  sync: boolean
}

interface Step {
  name: string
  kind: 'prefetch' | 'read' | 'write' | 'writeout' | 'invalidate'
  run(c: Ctx): unknown
}

const NPAGES = 4
const readPage = (pg: number): Step => ({
  name: `read page ${pg}`,
  kind: 'read',
  run: (c) => (c.sync ? c.vma.readBytes(pg * PS, new Uint8Array(PS)) : c.vma.read(pg * PS, PS)),
})
const readAll = (): Step[] => [0, 1, 2, 3].map(readPage)
const writePage = (pg: number, off: number, seed: number): Step => {
  const bytes = pattern(seed).subarray(0, 24)
  return {
    name: `write page ${pg}`,
    kind: 'write',
    run: (c) => (c.sync ? c.vma.writeBytes(pg * PS + off, bytes) : c.vma.write(pg * PS + off, bytes)),
  }
}
const writeout = (flags: number): Step => ({
  name: `writeout(${flags})`,
  kind: 'writeout',
  run: (c) => c.fh.writeout(flags),
})

// map 4 pages, prefetch 3 (parallel loads when async), read all, write 3, writeout STORE|MARKSTORED,
// reread, the storage changes page 2 + invalidate, reread, write again, STORE then MARKSTORED, reread.
const SCENARIO: Step[] = [
  { name: 'prefetch pages 0-2', kind: 'prefetch', run: (c) => c.vma.fault(0, 3 * PS) },
  ...readAll(),
  writePage(0, 10, 100),
  writePage(1, PS - 24, 101),
  writePage(3, 2000, 102),
  writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED),
  ...readAll(),
  {
    name: 'storage changes page 2, invalidate all',
    kind: 'invalidate',
    run: (c) => {
      setStoredPage(c.file, 2, pattern(200))
      c.fh.invalidateRange(0, NPAGES)
    },
  },
  ...readAll(),
  writePage(2, 500, 103),
  writePage(0, 0, 104),
  writeout(WriteoutFlags.STORE),
  writeout(WriteoutFlags.MARKSTORED),
  ...readAll(),
]

interface ScenarioConfig {
  blksize: number
  mode: FaultMode
}

interface ScenarioResult {
  results: unknown[]
  storage: Map<number, Uint8Array>
  loadCalls: number
  storeCalls: number
  failedAt?: string
}

/**
 * Runs SCENARIO. With `inject`, every call of that kind from the k-th on fails until the test repairs the
 * storage, which it does after checking the failure: then either the failed step is retried ('retry') or the
 * dirty pages are discarded and the file read back ('discard').
 */
async function runScenario(
  cfg: ScenarioConfig,
  inject?: { kind: 'load' | 'store'; k: number; strategy: 'retry' | 'discard' },
): Promise<ScenarioResult> {
  const sync = cfg.mode === 'sync-throw'
  const file = new FaultFile(cfg.blksize, cfg.mode)
  for (let pg = 0; pg < NPAGES; pg++) setStoredPage(file, pg, pattern(pg + 1))
  // 3 page frames for 4 pages: reads reclaim, and with 8 KiB blocks a writeout may have to load.
  const ram = new RAM({ pagesize: PS, capacity: PS * (2 + 3), reserve: 2 })
  const fh = new FileH(file, ram)
  const vma = fh.mmap(0, NPAGES)
  const ctx: Ctx = { fh, vma, file, sync }
  let repaired = false
  if (inject?.kind === 'load') file.failLoad = (n) => !repaired && n >= inject.k
  if (inject?.kind === 'store') file.failStore = (n) => !repaired && n >= inject.k
  const cls = inject?.kind === 'store' ? StoreError : LoadError
  const out: ScenarioResult = { results: [], storage: new Map(), loadCalls: 0, storeCalls: 0 }
  const where = (s: Step) =>
    `${cfg.mode} blksize ${cfg.blksize} ${inject?.kind}#${inject?.k} ${inject?.strategy}: ${s.name}`

  for (const step of SCENARIO) {
    const dirtyBefore = fh.dirtyPages()
    const since = file.injected.length
    const r = await attempt(() => step.run(ctx), sync)
    if (r.ok) {
      out.results.push(r.value)
      continue
    }
    assert.ok(inject && !repaired, `${where(step)} failed with no failure injected: ${String(r.error)}`)
    out.failedAt ??= step.name
    // A writeout may have to load (blocks larger than a page), so a failing load can surface there too.
    checkInjected(r.error, file, since, cls)
    await quiesce(ram, [fh], sync)
    assert.deepEqual(fh.dirtyPages(), dirtyBefore, `${where(step)}: dirty pages changed by the failure`)
    if (step.kind === 'writeout') {
      // Still failing: a second writeout raises again and keeps every page dirty.
      const since2 = file.injected.length
      const again = await attempt(() => step.run(ctx), sync)
      assert.ok(!again.ok, `${where(step)}: second writeout succeeded while the storage still fails`)
      checkInjected(again.error, file, since2, cls)
      await quiesce(ram, [fh], sync)
      assert.deepEqual(fh.dirtyPages(), dirtyBefore, `${where(step)}: dirty pages changed by the 2nd failure`)
    }
    if (inject.strategy === 'discard') {
      fh.discard()
      assert.deepEqual(fh.dirtyPages(), [])
      repaired = true
      await quiesce(ram, [fh], sync)
      for (let pg = 0; pg < NPAGES; pg++) {
        const got = await attempt(() => readPage(pg).run(ctx), sync)
        assert.ok(got.ok, `${where(step)}: read after discard failed`)
        assert.deepEqual(got.value, storedPage(file, pg), `${where(step)}: page ${pg} after discard`)
      }
      break
    }
    repaired = true
    const retry = await attempt(() => step.run(ctx), sync)
    assert.ok(
      retry.ok,
      `${where(step)}: retry after the storage recovered failed: ${String(!retry.ok && retry.error)}`,
    )
    out.results.push(retry.value)
  }
  await quiesce(ram, [fh], sync)
  out.storage = snapshotBlocks(file)
  out.loadCalls = file.loadCalls
  out.storeCalls = file.storeCalls
  // Nothing leaks.
  vma.unmap()
  fh.discard()
  fh.close()
  for (let i = 0; ram.stats().used !== 0 && i < 50; i++) await tick()
  assert.equal(ram.stats().used, 0, `${cfg.mode} blksize ${cfg.blksize}: frames leaked after close`)
  return out
}

describe('fault injection: every loadblk/storeblk call of a scenario', () => {
  for (const blksize of [PS, 1024, 2 * PS]) {
    for (const mode of FAULT_MODES) {
      it(`${mode}, blksize ${blksize}`, async () => {
        const clean = await runScenario({ blksize, mode })
        assert.equal(clean.failedAt, undefined)
        assert.ok(clean.loadCalls > 0 && clean.storeCalls > 0)
        const failedAt = new Set<string>()
        for (const kind of ['load', 'store'] as const) {
          const calls = kind === 'load' ? clean.loadCalls : clean.storeCalls
          for (let k = 1; k <= calls; k++) {
            const retried = await runScenario({ blksize, mode }, { kind, k, strategy: 'retry' })
            assert.ok(retried.failedAt, `${kind} #${k}: the injected failure never surfaced`)
            failedAt.add(`${kind}: ${retried.failedAt}`)
            // Retried steps give exactly what the clean run gave, and the storage ends up the same.
            assert.deepEqual(retried.results, clean.results, `${kind} #${k} (failed at ${retried.failedAt})`)
            assert.deepEqual(retried.storage, clean.storage, `${kind} #${k}: final storage`)
            const discarded = await runScenario({ blksize, mode }, { kind, k, strategy: 'discard' })
            assert.ok(discarded.failedAt)
          }
        }
        if (process.env.FAULT_STATS) console.log(mode, blksize, clean.loadCalls, clean.storeCalls, failedAt)
      })
    }
  }
})

// ------------------------------------------------------------------ concurrent faults on a failing load

describe('fault injection: concurrent faults on one failing load', () => {
  it('two reads of a page share the load and both get its LoadError', async () => {
    const file = new DeferredFile(PS)
    const ram = new RAM({ pagesize: PS, capacity: PS * 4, reserve: 2 })
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 2)
    const r1 = vma.read(8, 8)
    const r2 = vma.read(100, 4)
    const w = vma.write(200, new Uint8Array([1, 2, 3]))
    await tick()
    assert.equal(file.loadCalls, 1, 'one load for every waiter')
    assert.equal(fh.pageState(0), PageState.LOADING)
    const boom = new InjectedError('disk on fire')
    file.pending.shift()!.reject(boom)
    const errs = await Promise.all(
      [r1, r2, w].map((p) =>
        p.then(
          () => assert.fail('resolved'),
          (e: unknown) => e,
        ),
      ),
    )
    for (const e of errs) {
      assert.ok(e instanceof LoadError)
      assert.equal(e.code, 'ELOAD')
      assert.equal(e.cause, boom)
    }
    assert.equal(file.loadCalls, 1, 'the failure is not retried behind the callers')
    assert.equal(fh.pageState(0), PageState.EMPTY)
    assert.deepEqual(fh.dirtyPages(), [], 'the failed write did not dirty the page')
    assert.equal(ram.stats().used, 0)
    // The storage recovers: the next read loads anew.
    file.blocks.set(0, pattern(7))
    const again = vma.read(8, 8)
    await tick()
    file.pending.shift()!.resolve()
    assert.deepEqual(await again, pattern(7).subarray(8, 16))
    assert.equal(file.loadCalls, 2)
    vma.unmap()
    fh.close()
    assert.equal(ram.stats().used, 0)
  })

  it('a load that fails after its page was invalidated is retried, not reported', async () => {
    const file = new DeferredFile(PS)
    file.blocks.set(0, pattern(1))
    const ram = new RAM({ pagesize: PS, capacity: PS * 4, reserve: 2 })
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 1)
    const r = vma.read(0, 16)
    await tick()
    file.blocks.set(0, pattern(2))
    fh.invalidatePage(0)
    file.pending.shift()!.reject(new InjectedError('lost to the invalidation'))
    await tick()
    assert.equal(file.loadCalls, 2, 'the fault retried')
    file.pending.shift()!.resolve()
    assert.deepEqual(await r, pattern(2).subarray(0, 16))
    assert.equal(ram.stats().used, 1)
    vma.unmap()
    fh.close()
    assert.equal(ram.stats().used, 0)
  })

  // Regression: fault() dropped the Promises of the pages it had already started when a later page threw,
  // so their LoadError became an unhandled rejection.
  it('vma.fault() that throws synchronously part-way leaves no orphaned rejection behind', async () => {
    const unhandled = await captureUnhandled(async () => {
      // Page 0's load is asynchronous and will fail; page 1 waits for the one frame meanwhile and then
      // loads: fault() rejects with page 0's error, and page 1's fault ends on its own...
      const file = new DeferredFile(PS)
      const ram = new RAM({ pagesize: PS, capacity: PS, reserve: 0 })
      const vma = new FileH(file, ram).mmap(0, 2)
      const both = vma.fault(0, 2 * PS)
      assert.ok(both instanceof Promise)
      assert.equal(ram.stats().waiters, 1)
      file.pending.shift()!.reject(new InjectedError('page 0 fails later'))
      await assert.rejects(both, { code: 'ELOAD' })
      await tick()
      assert.equal(ram.stats().waiters, 0)
      file.pending.shift()!.reject(new InjectedError('page 1 fails too, and nobody awaits it'))
      // ... or a storage that throws synchronously for page 1.
      const file2 = new FaultFile(PS, 'async-throw')
      file2.failLoad = () => true
      const vma2 = new FileH(file2, new RAM({ pagesize: PS, capacity: 4 * PS, reserve: 0 })).mmap(0, 2)
      const async0 = file2.loadblk.bind(file2)
      file2.loadblk = (blk, buf) =>
        blk === 0
          ? new Promise((_, reject) => setImmediate(() => reject(new InjectedError('later'))))
          : async0(blk, buf)
      assert.throws(() => vma2.fault(0, 2 * PS), { code: 'ELOAD' })
      await tick()
      await tick()
    })
    assert.deepEqual(unhandled, [], 'no unhandled rejection')
  })
})

/**
 * Runs `fn` with this test's own unhandledRejection listener in place of the others (so that the test runner
 * does not fail the whole file over the rejection the test is about) and returns what it caught.
 */
async function captureUnhandled(fn: () => Promise<void>): Promise<unknown[]> {
  const saved = process.listeners('unhandledRejection')
  const caught: unknown[] = []
  const mine = (e: unknown) => caught.push(e)
  process.removeAllListeners('unhandledRejection')
  process.on('unhandledRejection', mine)
  try {
    await fn()
  } finally {
    process.off('unhandledRejection', mine)
    for (const l of saved) process.on('unhandledRejection', l)
  }
  return caught
}

// ------------------------------------------------------------------ property version

const NP = 6

const opArb = fc.oneof(
  fc.record({
    t: fc.constant('read' as const),
    pg: fc.nat(NP - 1),
    off: fc.nat(PS - 1),
    len: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({ t: fc.constant('prefetch' as const), pg: fc.nat(NP - 1), n: fc.integer({ min: 1, max: 2 }) }),
  fc.record({
    t: fc.constant('write' as const),
    pg: fc.nat(NP - 1),
    off: fc.nat(PS - 1),
    data: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ t: fc.constant('writeout' as const), flags: fc.constantFrom(1, 2, 3) }),
  fc.record({ t: fc.constant('discard' as const) }),
  fc.record({
    t: fc.constant('invalidate' as const),
    pg: fc.nat(NP - 1),
    n: fc.integer({ min: 1, max: 3 }),
    change: fc.boolean(),
  }),
  fc.record({ t: fc.constant('reclaim' as const) }),
)
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never

const propConfigArb = fc.record({
  mode: fc.constantFrom(...FAULT_MODES),
  blksize: fc.constantFrom(1024, PS, 2 * PS),
  nframes: fc.integer({ min: 3, max: 5 }),
  pLoad: fc.constantFrom(0, 0.1, 0.3, 0.6),
  pStore: fc.constantFrom(0, 0.1, 0.3, 0.6),
  seed: fc.integer(),
})
type PropConfig = typeof propConfigArb extends fc.Arbitrary<infer T> ? T : never

const seen: Record<string, number> = {}
const saw = (what: string) => {
  seen[what] = (seen[what] ?? 0) + 1
}

async function runProperty(cfg: PropConfig, ops: Op[]): Promise<void> {
  const sync = cfg.mode === 'sync-throw'
  const rng = mulberry32(cfg.seed)
  const file = new FaultFile(cfg.blksize, cfg.mode)
  for (let pg = 0; pg < NP; pg++) setStoredPage(file, pg, pattern(pg + 1))
  let failing = true
  file.failLoad = () => failing && rng() < cfg.pLoad
  file.failStore = () => failing && rng() < cfg.pStore
  const ram = new RAM({ pagesize: PS, capacity: PS * (2 + cfg.nframes), reserve: 2 })
  const fh = new FileH(file, ram)
  const vma = fh.mmap(0, NP)
  /** Dirty pages and their content. */
  const overlay = new Map<number, Uint8Array>()
  const view = (pg: number) => overlay.get(pg) ?? storedPage(file, pg)
  let version = 1000

  /** Blocks as a successful STORE of the dirty pages would leave them. */
  const storedAfterStore = (): Map<number, Uint8Array> => {
    const want = snapshotBlocks(file)
    for (const [pg, bytes] of overlay) setPageIn(want, cfg.blksize, pg, bytes)
    return want
  }

  const check = async (what: string) => {
    await quiesce(ram, [fh], sync)
    assert.deepEqual(
      fh.dirtyPages(),
      [...overlay.keys()].sort((a, b) => a - b),
      `${what}: dirty pages`,
    )
    for (const pg of fh.residentPages()) {
      const { frame, state } = fh.pageInfo(pg)
      if (state !== PageState.LOADED && state !== PageState.DIRTY) continue
      assert.deepEqual(
        ram.bytes.subarray(frame * PS, frame * PS + PS),
        view(pg),
        `${what}: resident page ${pg}`,
      )
    }
  }

  for (const op of ops) {
    const what = JSON.stringify(op, (_k, v) => (v instanceof Uint8Array ? v.length : v))
    const since = file.injected.length
    const dirtyBefore = fh.dirtyPages()
    let r: Outcome
    switch (op.t) {
      case 'read': {
        const off = op.pg * PS + Math.min(op.off, PS - op.len)
        r = await attempt(
          () => (sync ? vma.readBytes(off, new Uint8Array(op.len)) : vma.read(off, op.len)),
          sync,
        )
        if (r.ok) assert.deepEqual(r.value, view(op.pg).slice(off % PS, (off % PS) + op.len), what)
        break
      }
      case 'prefetch': {
        // One fault() over both pages, also where the second may fail (ENOMEM, or a loadblk that throws)
        // after the first one's load started: that load must not end as an unhandled rejection.
        const n = Math.min(op.n, NP - op.pg)
        r = await attempt(() => vma.fault(op.pg * PS, n * PS), sync)
        break
      }
      case 'write': {
        const data = op.data.subarray(0, PS - 1)
        const inpage = Math.min(op.off, PS - data.length)
        const off = op.pg * PS + inpage
        r = await attempt(() => (sync ? vma.writeBytes(off, data) : vma.write(off, data)), sync)
        if (r.ok) {
          const page = view(op.pg).slice()
          page.set(data, inpage)
          overlay.set(op.pg, page)
        }
        break
      }
      case 'writeout': {
        if (op.flags === WriteoutFlags.MARKSTORED) {
          // The caller stores the data by its own means, then tells the FileH.
          for (const [pg, bytes] of overlay) setStoredPage(file, pg, bytes)
        }
        const before = snapshotBlocks(file)
        const after = storedAfterStore()
        r = await attempt(() => fh.writeout(op.flags), sync)
        if (r.ok) {
          if (op.flags & WriteoutFlags.STORE)
            assert.deepEqual(snapshotBlocks(file), after, `${what}: storage`)
          else assert.deepEqual(snapshotBlocks(file), before, `${what}: MARKSTORED alone stores nothing`)
          if (op.flags & WriteoutFlags.MARKSTORED) overlay.clear()
        } else {
          // Each block holds either its old or its new content; nothing else was touched.
          for (const [blk, got] of file.blocks) {
            const old = before.get(blk)
            const ok = (old && Buffer.compare(got, old) === 0) || Buffer.compare(got, after.get(blk)!) === 0
            assert.ok(ok, `${what}: block ${blk} after a failed writeout`)
          }
        }
        break
      }
      case 'discard':
        fh.discard()
        overlay.clear()
        r = { ok: true, value: undefined }
        break
      case 'invalidate': {
        const n = Math.min(op.n, NP - op.pg)
        if (op.change) for (let pg = op.pg; pg < op.pg + n; pg++) setStoredPage(file, pg, pattern(++version))
        fh.invalidateRange(op.pg, n)
        for (let pg = op.pg; pg < op.pg + n; pg++) overlay.delete(pg)
        r = { ok: true, value: undefined }
        break
      }
      case 'reclaim':
        ram.reclaim()
        r = { ok: true, value: undefined }
        break
    }
    if (!r.ok) {
      if (r.error instanceof OutOfMemoryError) saw(`${op.t} ENOMEM`)
      else {
        checkInjected(r.error, file, since)
        saw(`${op.t} ${(r.error as Error).name}`)
      }
      assert.deepEqual(fh.dirtyPages(), dirtyBefore, `${what}: a failed operation changed the dirty set`)
    }
    await check(what)
  }

  // The storage recovers: everything can be written out and read back.
  failing = false
  const after = storedAfterStore()
  const w = await attempt(() => fh.writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED), sync)
  assert.ok(w.ok, `final writeout: ${String(!w.ok && w.error)}`)
  assert.deepEqual(snapshotBlocks(file), after, 'final storage')
  overlay.clear()
  for (let pg = 0; pg < NP; pg++) {
    const got = await attempt(
      () => (sync ? vma.readBytes(pg * PS, new Uint8Array(PS)) : vma.read(pg * PS, PS)),
      sync,
    )
    assert.ok(got.ok, `final read of page ${pg}`)
    assert.deepEqual(got.value, storedPage(file, pg), `final read of page ${pg}`)
  }
  await check('final')
  vma.unmap()
  fh.discard()
  fh.close()
  for (let i = 0; ram.stats().used !== 0 && i < 50; i++) await tick()
  assert.equal(ram.stats().used, 0, 'frames leaked after close')
}

describe('fault injection: random failures over random operations', () => {
  it('keeps every invariant', async () => {
    await fc.assert(
      fc.asyncProperty(propConfigArb, fc.array(opArb, { minLength: 10, maxLength: 40 }), runProperty),
      { numRuns: 300 },
    )
    if (process.env.FAULT_STATS) console.log(seen)
    for (const what of ['read LoadError', 'write LoadError', 'prefetch LoadError', 'writeout StoreError']) {
      assert.ok((seen[what] ?? 0) > 0, `the random runs never exercised: ${what}`)
    }
  })
})
