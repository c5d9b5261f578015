// Model-based property test of the VM core: random command sequences against ONE small RAM shared by 1–2
// FileH, each over its own test-controlled BigFile whose loads answer synchronously, asynchronously (the
// test resolves them later, in random order) or either (per call). A plain reference model (stored
// blocks per file + per-FileH overlay of dirty pages) is checked after every step.
//
// Ground rules that keep the model deterministic:
//  - Loads snapshot the block when loadblk is called and write that snapshot into the buffer when the test
//    completes them. A load overtaken by an invalidation thus delivers stale data, which the VM must drop.
//    The test may also fail a pending load: its waiters get LoadError and nothing changes.
//  - The test changes a block's content only together with invalidating its page (the storage "changed
//    underneath"), and MARKSTORED alone is preceded by the test storing the dirty data itself.
//  - Operations that must wait for a load (async reads/writes/faults) are kept "in flight" and each covers
//    one page, so it lands atomically at one moment; the test then drains the microtask queue after every
//    command, so landings happen between commands. Two in-flight operations on the same file page are only
//    allowed when both are reads, so the order of landings within one drain cannot matter.
//  - Synchronous writes (writeBytes, a straddling setFloat64) are all or nothing: one that fails
//    (EWOULDBLOCK/ENOMEM) writes nothing and leaves the dirty set unchanged, even when it spans two pages
//    and only the second one failed. Pages of its range may have been loaded (clean) on the way, which the
//    model does not see. See also the regression tests at the end.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  FileH,
  MemoryBigFile,
  OutOfMemoryError,
  PageState,
  RAM,
  type VMA,
  WouldBlockError,
  WriteoutFlags,
} from '../../src/index.ts'
import { tick } from '../helpers/async.ts'
import { CtlFile, LoadFailure, type LoadMode, type PendingLoad } from '../helpers/bigfiles.ts'
import { rng as mulberry32 } from '../helpers/rng.ts'

const PS = 4096
/** Pages per file: offsets of mmap windows and invalidations fall in [0, NP). */
const NP = 8

// ------------------------------------------------------------------ helpers

/** What the random runs exercised, summed over all of them: checked at the end so the test stays meaningful. */
const seen: Record<string, number> = {}
function saw(what: string): void {
  seen[what] = (seen[what] ?? 0) + 1
}

function codeOf(e: unknown): string {
  return (e as { code?: string } | null)?.code ?? `(no code: ${String(e)})`
}

function f64(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true)
}

// ------------------------------------------------------------------ model

interface Slot {
  readonly id: number
  readonly file: CtlFile
  readonly bpp: number
  /** The model's idea of what the storage holds. */
  readonly stored: Map<number, Uint8Array>
  fh: FileH | null
  /** Dirty pages of the open FileH and their content as the FileH sees it. */
  overlay: Map<number, Uint8Array>
  vmas: VMA[]
}

function storedPage(slot: Slot, pg: number): Uint8Array {
  const out = new Uint8Array(PS)
  const bs = slot.file.blksize
  for (let k = 0; k < slot.bpp; k++) {
    const b = slot.stored.get(pg * slot.bpp + k)
    if (b) out.set(b, k * bs)
  }
  return out
}

function pageView(slot: Slot, pg: number): Uint8Array {
  return slot.overlay.get(pg) ?? storedPage(slot, pg)
}

function modelBytes(slot: Slot, filepos: number, len: number): Uint8Array {
  const out = new Uint8Array(len)
  for (let at = 0; at < len; ) {
    const pos = filepos + at
    const pg = Math.floor(pos / PS)
    const inpage = pos - pg * PS
    const n = Math.min(PS - inpage, len - at)
    out.set(pageView(slot, pg).subarray(inpage, inpage + n), at)
    at += n
  }
  return out
}

/** Applies a write of `data` at file position `filepos`. */
function modelWrite(slot: Slot, filepos: number, data: Uint8Array): void {
  for (let at = 0; at < data.length; ) {
    const pos = filepos + at
    const pg = Math.floor(pos / PS)
    const inpage = pos - pg * PS
    const n = Math.min(PS - inpage, data.length - at)
    const page = pageView(slot, pg).slice()
    page.set(data.subarray(at, at + n), inpage)
    slot.overlay.set(pg, page)
    at += n
  }
}

function modelDirty(slot: Slot, pg: number): void {
  if (!slot.overlay.has(pg)) slot.overlay.set(pg, storedPage(slot, pg))
}

function pagesOf(filepos: number, len: number): number[] {
  const first = Math.floor(filepos / PS)
  const last = Math.floor((filepos + Math.max(len, 1) - 1) / PS)
  const out: number[] = []
  for (let p = first; p <= last; p++) out.push(p)
  return out
}

// ------------------------------------------------------------------ in-flight operations

type OpKind = 'read' | 'readf64' | 'write' | 'faultw'

interface Op {
  readonly kind: OpKind
  readonly slot: Slot
  readonly fh: FileH
  readonly vma: VMA
  /** File position and length. */
  readonly filepos: number
  readonly len: number
  readonly pg: number
  readonly data?: Uint8Array
  settled: boolean
  ok: boolean
  value: unknown
  error: unknown
}

const isWriteKind = (k: OpKind): boolean => k === 'write' || k === 'faultw'

// ------------------------------------------------------------------ commands

const offsetArb = fc.record({
  vpg: fc.nat(3),
  delta: fc.oneof(fc.integer({ min: 0, max: 15 }), fc.integer({ min: PS - 16, max: PS - 1 }), fc.nat(PS - 1)),
})

const cmdArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('mmap' as const),
      s: fc.nat(1),
      pg: fc.nat(NP - 1),
      len: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('read' as const),
      s: fc.nat(1),
      v: fc.nat(7),
      at: offsetArb,
      len: fc.integer({ min: 1, max: 16 }),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('readf64' as const),
      s: fc.nat(1),
      v: fc.nat(7),
      at: offsetArb,
      how: fc.constantFrom('read', 'fault'),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('write' as const),
      s: fc.nat(1),
      v: fc.nat(7),
      at: offsetArb,
      data: fc.uint8Array({ minLength: 1, maxLength: 12 }),
      sync: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('writef64' as const),
      s: fc.nat(1),
      v: fc.nat(7),
      at: offsetArb,
      x: fc.double(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('faultw' as const), s: fc.nat(1), v: fc.nat(7), vpg: fc.nat(3) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('writeout' as const),
      s: fc.nat(1),
      flags: fc.constantFrom(1, 2, 3),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('discard' as const), s: fc.nat(1) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('invalidate' as const),
      s: fc.nat(1),
      pg: fc.nat(NP - 1),
      len: fc.integer({ min: 1, max: 3 }),
      change: fc.boolean(),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      t: fc.constant('complete' as const),
      i: fc.nat(),
      fail: fc.nat(4).map((n) => n === 0),
      thenInvalidate: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('reclaim' as const),
      batch: fc.option(fc.integer({ min: 1, max: 3 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('unmap' as const), s: fc.nat(1), v: fc.nat(7) }) },
  {
    // Spill pressure: a synchronous write to every page of a mapping, in turn.
    weight: 2,
    arbitrary: fc.record({ t: fc.constant('press' as const), s: fc.nat(1), v: fc.nat(7), x: fc.nat(255) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('close' as const), s: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('open' as const), s: fc.nat(1) }) },
)
type Cmd = typeof cmdArb extends fc.Arbitrary<infer T> ? T : never

const fileArb = fc.record({
  blksize: fc.constantFrom(1024, 2048, 4096),
  mode: fc.constantFrom<LoadMode>('sync', 'async', 'mixed'),
  asyncStore: fc.boolean(),
})

const configArb = fc.record({
  reserve: fc.integer({ min: 0, max: 2 }),
  nframes: fc.integer({ min: 2, max: 8 }),
  /** Dirty spill (needs reserve ≥ 1), and its bound in pages (none: unbounded). */
  spill: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  maxSpill: fc.option(fc.integer({ min: 0, max: 6 })),
  files: fc.array(fileArb, { minLength: 1, maxLength: 2 }),
  seed: fc.integer(),
})
type Config = typeof configArb extends fc.Arbitrary<infer T> ? T : never

// ------------------------------------------------------------------ the run

async function runModel(cfg: Config, cmds: Cmd[]): Promise<void> {
  const rng = mulberry32(cfg.seed)
  const pending: PendingLoad[] = []
  const ram = new RAM({
    pagesize: PS,
    capacity: PS * (cfg.reserve + cfg.nframes),
    reserve: cfg.reserve,
    spill: cfg.spill && cfg.reserve >= 1,
    ...(cfg.maxSpill === null ? {} : { maxSpill: cfg.maxSpill * PS }),
  })
  const spills = cfg.spill && cfg.reserve >= 1
  assert.equal(ram.stats().frames, cfg.nframes)
  const slots: Slot[] = cfg.files.map((f, id) => {
    const file = new CtlFile(f.blksize, f.mode, f.asyncStore, rng, pending)
    return {
      id,
      file,
      bpp: PS / f.blksize,
      stored: new Map(),
      fh: new FileH(file, ram),
      overlay: new Map(),
      vmas: [],
    }
  })
  const ops: Op[] = []
  let version = 0
  const log: string[] = []

  const fail = (msg: string): never => {
    assert.fail(`${msg}\n--- log ---\n${log.slice(-40).join('\n')}`)
  }

  const slotOf = (s: number): Slot => slots[s % slots.length]
  const vmaOf = (slot: Slot, v: number): VMA | undefined =>
    slot.vmas.length ? slot.vmas[v % slot.vmas.length] : undefined
  /** VMA-relative offset for an access of `len` bytes, kept inside the VMA. */
  const offIn = (vma: VMA, at: { vpg: number; delta: number }, len: number): number =>
    Math.min((at.vpg % vma.pglen) * PS + at.delta, vma.byteLength - len)

  const conflicts = (slot: Slot, pg: number, kind: OpKind): boolean =>
    ops.some(
      (o) => !o.settled && o.slot === slot && o.pg === pg && (isWriteKind(kind) || isWriteKind(o.kind)),
    )

  function startOp(
    kind: OpKind,
    slot: Slot,
    vma: VMA,
    off: number,
    len: number,
    run: () => Promise<unknown>,
    data?: Uint8Array,
  ): void {
    const filepos = vma.pgoffset * PS + off
    const pgs = pagesOf(filepos, len)
    assert.equal(pgs.length, 1, 'in-flight operations cover one page')
    if (conflicts(slot, pgs[0], kind)) {
      log.push(`  (not started: conflicts with an operation in flight)`)
      return
    }
    const fh = slot.fh
    assert.ok(fh)
    const op: Op = {
      kind,
      slot,
      fh,
      vma,
      filepos,
      len,
      pg: pgs[0],
      data,
      settled: false,
      ok: false,
      value: undefined,
      error: undefined,
    }
    ops.push(op)
    log.push(`  started in-flight ${kind} #${ops.length - 1} on s${slot.id} page ${op.pg}`)
    saw(`start ${kind}`)
    run().then(
      (v) => {
        op.settled = true
        op.ok = true
        op.value = v
      },
      (e: unknown) => {
        op.settled = true
        op.error = e
      },
    )
  }

  /** Checks and applies the in-flight operations that settled in the last drain. */
  function landOps(): void {
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]
      if (!op.settled) continue
      ops.splice(i--, 1)
      const { slot } = op
      if (!op.ok) {
        const code = codeOf(op.error)
        log.push(`  in-flight ${op.kind} on s${slot.id} page ${op.pg} failed: ${code}`)
        saw(`in-flight ${code}`)
        if (code === 'ENOMEM') continue
        if (code === 'ENOSPC' && spills && cfg.maxSpill !== null) continue
        if (code === 'ELOAD' && (op.error as Error).cause instanceof LoadFailure) continue
        if (code === 'ECLOSED' && (op.vma.unmapped || op.fh.closed)) continue
        // readf64 'fault' form: the sync access after the fault may find the page reclaimed again.
        if (code === 'EWOULDBLOCK' && op.kind === 'readf64') continue
        fail(`in-flight ${op.kind} failed unexpectedly: ${String(op.error)}`)
      }
      if (op.fh !== slot.fh) fail(`in-flight ${op.kind} succeeded on a closed FileH`)
      if (op.vma.unmapped) fail(`in-flight ${op.kind} succeeded on an unmapped VMA`)
      log.push(`  in-flight ${op.kind} on s${slot.id} page ${op.pg} landed`)
      saw(`landed ${op.kind}`)
      switch (op.kind) {
        case 'read':
          assert.deepEqual(op.value, modelBytes(slot, op.filepos, op.len), `in-flight read at ${op.filepos}`)
          break
        case 'readf64':
          assert.ok(
            Object.is(op.value, f64(modelBytes(slot, op.filepos, 8))),
            `in-flight readf64 at ${op.filepos}: got ${op.value}`,
          )
          break
        case 'write':
          modelWrite(slot, op.filepos, op.data!)
          break
        case 'faultw':
          modelDirty(slot, op.pg)
          break
      }
    }
  }

  /**
   * After ENOMEM: no frame could be freed and none ever will by waiting: every page is dirty (a loading or
   * pinned page would make it EWOULDBLOCK, or a wait for the async forms). The only pins are
   * those a failed synchronous write held on its range (`pinned.pages` of `pinned.slot`) while faulting in
   * the rest of it; it released them when it threw, so those pages may be clean now.
   */
  function checkOOMJustified(pinned?: { slot: Slot; pages: number[] }): void {
    assert.equal(ram.stats().free, 0, 'ENOMEM with free frames')
    for (const slot of slots) {
      if (!slot.fh) continue
      for (const pg of slot.fh.residentPages()) {
        if (slot === pinned?.slot && pinned.pages.includes(pg)) continue
        const { state: st, pincount } = slot.fh.pageInfo(pg)
        if (st === PageState.LOADED) fail(`ENOMEM while s${slot.id} page ${pg} is clean and reclaimable`)
        // Waiting for a load to end or a pin to go may free a frame: that is EWOULDBLOCK, not ENOMEM.
        if (st === PageState.LOADING) fail(`ENOMEM while s${slot.id} page ${pg} is loading`)
        if (pincount > 0) fail(`ENOMEM while s${slot.id} page ${pg} is pinned by another call`)
        if (st === PageState.DIRTY && spills && pincount === 0)
          fail(`ENOMEM while s${slot.id} page ${pg} is dirty, unpinned and could spill`)
      }
    }
  }

  /**
   * EWOULDBLOCK for want of a frame: none is free, and some page is loading or pinned by someone else than
   * the failed call (its own pins, `pinned`, do not count), so waiting may give one.
   */
  function checkWaitJustified(pinned?: { slot: Slot; pages: number[] }): void {
    assert.equal(ram.stats().free, 0, 'EWOULDBLOCK for want of a frame while frames are free')
    for (const slot of slots) {
      if (!slot.fh) continue
      for (const pg of slot.fh.residentPages()) {
        const { state, pincount } = slot.fh.pageInfo(pg)
        if (state === PageState.LOADING || state === PageState.LOADING_INVALIDATED) return
        if (pincount > (slot === pinned?.slot && pinned.pages.includes(pg) ? 1 : 0)) return
      }
    }
    if (ram.stats().loadsInFlight > 0 || ram.stats().used > residentCount()) return // detached or invalidated loads
    fail('EWOULDBLOCK from a file with synchronous loads, yet nothing is loading or pinned')
  }

  function residentCount(): number {
    let n = 0
    for (const slot of slots) if (slot.fh) n += slot.fh.residentPages().length
    return n
  }

  /**
   * A sync access failed: only EWOULDBLOCK (from a file with async loads) and ENOMEM are fine. `pinned`: the
   * file pages of a failed write's range, which it had pinned.
   */
  function allowedSyncError(slot: Slot, e: unknown, pinned?: number[]): 'wouldblock' | 'nomem' {
    saw(`sync ${codeOf(e)}`)
    if (codeOf(e) === 'ENOSPC') {
      // The spill is at its bound: every slot is taken by a dirty page of an open file.
      if (!spills || cfg.maxSpill === null) fail(`ENOSPC without a spill bound: ${String(e)}`)
      assert.equal(ram.stats().spilled, cfg.maxSpill, 'ENOSPC with spill slots left')
      return 'nomem'
    }
    if (e instanceof WouldBlockError) {
      // A file with synchronous loads blocks only where a frame must be waited for.
      if (slot.file.mode === 'sync') checkWaitJustified(pinned && { slot, pages: pinned })
      return 'wouldblock'
    }
    if (e instanceof OutOfMemoryError) {
      checkOOMJustified(pinned && { slot, pages: pinned })
      return 'nomem'
    }
    return fail(`unexpected error from a synchronous access: ${String(e)}`)
  }

  /**
   * Sync write that failed: all or nothing, so nothing went through and the dirty set is unchanged (the
   * model's overlay stays as it is). The pages of the range before the failing one were made resident first.
   */
  function checkFailedSyncWrite(slot: Slot, vma: VMA, off: number, data: Uint8Array, e: unknown): void {
    const pgs = pagesOf(vma.pgoffset * PS + off, data.length)
    assert.deepEqual(
      slot.fh!.dirtyPages(),
      [...slot.overlay.keys()].sort((a, b) => a - b),
      'a failed write leaves the dirty set unchanged',
    )
    const resident = (p: number) => {
      const st = slot.fh!.pageState(p)
      return st === PageState.LOADED || st === PageState.DIRTY
    }
    if (e instanceof WouldBlockError) {
      assert.ok(pgs.includes(e.pgoffset), `EWOULDBLOCK names page ${e.pgoffset}, not one of the write's`)
      for (const p of pgs.slice(0, pgs.indexOf(e.pgoffset))) {
        assert.ok(resident(p), `page ${p} before the one that would block is ${slot.fh!.pageState(p)}`)
      }
    }
    // The first page is resident now: the failure came from a later one, after the first was pinned. Only a
    // few runs in 500 get here (MODEL_STATS=1 shows how many), too few to require it: the straddling and
    // two-page tests below cover that case deterministically.
    if (pgs.length > 1 && resident(pgs[0])) {
      log.push(`  ${pgs.length}-page write failed past its first page: nothing written`)
      saw(`sync write failed past its first page: ${codeOf(e)}`)
    }
  }

  function newContent(slot: Slot, pg: number): void {
    const bs = slot.file.blksize
    for (let k = 0; k < slot.bpp; k++) {
      const blk = pg * slot.bpp + k
      const v = ++version
      const b = new Uint8Array(bs)
      for (let i = 0; i < bs; i++) b[i] = (v * 31 + i * 7 + (i >> 8)) & 255
      slot.file.blocks.set(blk, b)
      slot.stored.set(blk, b.slice())
    }
  }

  function invalidate(slot: Slot, pg: number, len: number, change: boolean): void {
    const fh = slot.fh!
    if (change) for (let p = pg; p < pg + len; p++) newContent(slot, p)
    if (len === 1) fh.invalidatePage(pg)
    else fh.invalidateRange(pg, len)
    for (let p = pg; p < pg + len; p++) slot.overlay.delete(p)
  }

  function checkInvariants(): void {
    const st = ram.stats()
    assert.ok(st.used >= 0 && st.used <= st.frames, `frames used ${st.used} of ${st.frames}`)
    assert.equal(st.used + st.free, st.frames)
    // Spill: every slot in use is a SPILLED page of an open file (none leaks), within the bound; a spilled
    // page is dirty (the dirty-set check below covers resident + spilled) and never resident at once.
    let spilled = 0
    for (const slot of slots) {
      for (const pg of slot.fh?.spilledPages() ?? []) {
        spilled++
        assert.equal(slot.fh!.pageState(pg), PageState.SPILLED)
        if (!slot.overlay.has(pg)) fail(`s${slot.id}: page ${pg} is spilled but the model has it clean`)
      }
    }
    assert.equal(st.spilled, spilled, 'spill slots in use = spilled pages')
    if (!spills) assert.equal(st.spilled, 0)
    if (cfg.maxSpill !== null) assert.ok(st.spilled <= cfg.maxSpill, 'the spill stays within maxSpill')
    if (st.spilled > 0) saw('spilled pages')
    const frames = new Set<number>()
    let resident = 0
    for (const slot of slots) {
      // The storage holds exactly what the model says.
      const blks = new Set([...slot.stored.keys(), ...slot.file.blocks.keys()])
      for (const b of blks) {
        const want = slot.stored.get(b) ?? new Uint8Array(slot.file.blksize)
        const got = slot.file.blocks.get(b) ?? new Uint8Array(slot.file.blksize)
        if (Buffer.compare(want, got) !== 0) fail(`s${slot.id}: stored block ${b} differs from the model`)
      }
      const fh = slot.fh
      if (!fh) continue
      assert.deepEqual(
        fh.dirtyPages(),
        [...slot.overlay.keys()].sort((a, b) => a - b),
        `s${slot.id}: dirty pages`,
      )
      for (const pg of fh.residentPages()) {
        resident++
        const info = fh.pageInfo(pg)
        assert.ok(info.frame >= 0 && info.frame < st.frames, `frame ${info.frame} out of range`)
        assert.ok(!frames.has(info.frame), `frame ${info.frame} shared by two pages`)
        frames.add(info.frame)
        if (info.state === PageState.LOADED || info.state === PageState.DIRTY) {
          // A resident page holds exactly the model's view of it.
          const bytes = ram.bytes.subarray(info.frame * PS, info.frame * PS + PS)
          if (Buffer.compare(bytes, pageView(slot, pg)) !== 0) {
            fail(`s${slot.id}: resident page ${pg} (${info.state}) differs from the model`)
          }
        }
      }
    }
    if (pending.length === 0) {
      // Every load completed: nothing loading, nothing waiting, no frame held by a dropped load.
      for (const slot of slots) {
        for (const pg of slot.fh?.residentPages() ?? []) {
          const state = slot.fh!.pageState(pg)
          if (state === PageState.LOADING || state === PageState.LOADING_INVALIDATED) {
            fail(`s${slot.id}: page ${pg} is ${state} with no load pending`)
          }
        }
      }
      if (ops.length > 0) fail(`${ops.length} in-flight operation(s) still waiting with no load pending`)
      assert.equal(st.used, resident, 'frames used = resident pages (no leak)')
    }
  }

  async function step(c: Cmd): Promise<void> {
    log.push(JSON.stringify(c, (_k, v) => (v instanceof Uint8Array ? `[${v.join(',')}]` : v)))
    switch (c.t) {
      case 'mmap': {
        const slot = slotOf(c.s)
        if (!slot.fh || slot.vmas.length >= 4) return
        const len = Math.min(c.len, NP - c.pg)
        slot.vmas.push(slot.fh.mmap(c.pg, len))
        return
      }
      case 'read': {
        const slot = slotOf(c.s)
        const vma = vmaOf(slot, c.v)
        if (!vma) return
        const len = Math.min(c.len, vma.byteLength)
        const off = offIn(vma, c.at, len)
        const filepos = vma.pgoffset * PS + off
        let got: Uint8Array
        try {
          got = vma.readBytes(off, new Uint8Array(len))
        } catch (e) {
          if (allowedSyncError(slot, e) === 'wouldblock' && pagesOf(filepos, len).length === 1) {
            startOp('read', slot, vma, off, len, () => vma.read(off, len))
          }
          return
        }
        assert.deepEqual(got, modelBytes(slot, filepos, len), `readBytes at ${filepos}`)
        return
      }
      case 'readf64': {
        const slot = slotOf(c.s)
        const vma = vmaOf(slot, c.v)
        if (!vma) return
        const off = offIn(vma, c.at, 8)
        const filepos = vma.pgoffset * PS + off
        let x: number
        try {
          x = vma.getFloat64(off)
        } catch (e) {
          if (allowedSyncError(slot, e) === 'wouldblock' && pagesOf(filepos, 8).length === 1) {
            const run =
              c.how === 'read'
                ? async () => f64(await vma.read(off, 8))
                : async () => {
                    await vma.fault(off, 8)
                    return vma.getFloat64(off)
                  }
            startOp('readf64', slot, vma, off, 8, run)
          }
          return
        }
        assert.ok(Object.is(x, f64(modelBytes(slot, filepos, 8))), `getFloat64 at ${filepos}: got ${x}`)
        return
      }
      case 'write':
      case 'writef64': {
        const slot = slotOf(c.s)
        const vma = vmaOf(slot, c.v)
        if (!vma) return
        let data: Uint8Array
        if (c.t === 'write') data = c.data.subarray(0, Math.min(c.data.length, vma.byteLength))
        else {
          data = new Uint8Array(8)
          new DataView(data.buffer).setFloat64(0, c.x, true)
        }
        const off = offIn(vma, c.at, data.length)
        const filepos = vma.pgoffset * PS + off
        const onePage = pagesOf(filepos, data.length).length === 1
        if (c.t === 'write' && !c.sync && onePage) {
          startOp('write', slot, vma, off, data.length, () => vma.write(off, data), data)
          return
        }
        try {
          if (c.t === 'write') vma.writeBytes(off, data)
          else vma.setFloat64(off, c.x)
        } catch (e) {
          const why = allowedSyncError(slot, e, pagesOf(filepos, data.length))
          checkFailedSyncWrite(slot, vma, off, data, e)
          if (why === 'wouldblock' && onePage) {
            startOp('write', slot, vma, off, data.length, () => vma.write(off, data), data)
          }
          return
        }
        modelWrite(slot, filepos, data)
        return
      }
      case 'faultw': {
        const slot = slotOf(c.s)
        const vma = vmaOf(slot, c.v)
        if (!vma) return
        const off = (c.vpg % vma.pglen) * PS
        const pg = vma.pgoffset + (c.vpg % vma.pglen)
        if (conflicts(slot, pg, 'faultw')) return
        let r: void | Promise<void>
        try {
          r = vma.fault(off, 1, { write: true })
        } catch (e) {
          allowedSyncError(slot, e)
          return
        }
        if (r === undefined) modelDirty(slot, pg)
        else {
          const p = r
          startOp('faultw', slot, vma, off, 1, () => p)
        }
        return
      }
      case 'writeout': {
        const slot = slotOf(c.s)
        const fh = slot.fh
        if (!fh) return
        const dirty = [...slot.overlay.keys()].sort((a, b) => a - b)
        slot.file.stores.length = 0
        if (c.flags === WriteoutFlags.MARKSTORED) {
          // The caller stored the data by other means, then tells the FileH.
          for (const [pg, bytes] of slot.overlay) {
            for (let k = 0; k < slot.bpp; k++) {
              const b = bytes.slice(k * slot.file.blksize, (k + 1) * slot.file.blksize)
              slot.file.blocks.set(pg * slot.bpp + k, b)
              slot.stored.set(pg * slot.bpp + k, b.slice())
            }
          }
        }
        await fh.writeout(c.flags)
        if (c.flags & WriteoutFlags.STORE) {
          const want = dirty.flatMap((pg) => Array.from({ length: slot.bpp }, (_, k) => pg * slot.bpp + k))
          assert.deepEqual(slot.file.stores, want, 'STORE stores every dirty block once, ascending')
          for (const pg of dirty) {
            const bytes = slot.overlay.get(pg)!
            for (let k = 0; k < slot.bpp; k++) {
              const bs = slot.file.blksize
              slot.stored.set(pg * slot.bpp + k, bytes.slice(k * bs, (k + 1) * bs))
            }
          }
        } else {
          assert.deepEqual(slot.file.stores, [], 'MARKSTORED alone stores nothing')
        }
        if (c.flags & WriteoutFlags.MARKSTORED) slot.overlay.clear()
        return
      }
      case 'discard': {
        const slot = slotOf(c.s)
        if (!slot.fh) return
        slot.fh.discard()
        slot.overlay.clear()
        return
      }
      case 'invalidate': {
        const slot = slotOf(c.s)
        if (!slot.fh) return
        invalidate(slot, c.pg, Math.min(c.len, NP - c.pg), c.change)
        return
      }
      case 'complete': {
        if (pending.length === 0) return
        const [ld] = pending.splice(c.i % pending.length, 1)
        if (c.fail) ld.fail()
        else {
          if (ld.stale()) saw('stale load completed')
          ld.complete()
        }
        if (c.thenInvalidate) {
          // The storage changed right after answering, before the VM saw the answer: a failure is then
          // retried too.
          const slot = slots.find((s) => s.file === ld.file)!
          if (slot.fh) invalidate(slot, Math.floor(ld.blk / slot.bpp), 1, true)
        }
        return
      }
      case 'reclaim':
        ram.reclaim(c.batch ?? undefined)
        return
      case 'press': {
        const vma = vmaOf(slotOf(c.s), c.v)
        if (!vma) return
        for (let vpg = 0; vpg < vma.pglen; vpg++) {
          const at = { vpg, delta: (c.x * 16 + vpg) % PS }
          await step({ t: 'write', s: c.s, v: c.v, at, data: Uint8Array.of(c.x, vpg), sync: true })
        }
        return
      }
      case 'unmap': {
        const slot = slotOf(c.s)
        const vma = vmaOf(slot, c.v)
        if (!vma) return
        vma.unmap()
        slot.vmas.splice(slot.vmas.indexOf(vma), 1)
        return
      }
      case 'close': {
        const slot = slotOf(c.s)
        const fh = slot.fh
        if (!fh) return
        if (slot.vmas.length > 0) {
          assert.throws(() => fh.close(), { code: 'EBUSY' })
          assert.equal(fh.closed, false)
          return
        }
        fh.close()
        slot.fh = null
        slot.overlay = new Map()
        return
      }
      case 'open': {
        const slot = slotOf(c.s)
        if (slot.fh) return
        slot.fh = new FileH(slot.file, ram)
        return
      }
    }
  }

  /** Awaits `p` while completing pending loads in random order. */
  async function pump<T>(p: Promise<T>): Promise<T> {
    let done = false
    const q = p.finally(() => {
      done = true
    })
    q.catch(() => {})
    for (;;) {
      await tick()
      if (done) return q
      if (pending.length === 0) fail('an operation hangs with no load pending')
      const [ld] = pending.splice(Math.floor(rng() * pending.length), 1)
      ld.complete()
    }
  }

  for (const c of cmds) {
    await step(c)
    await tick()
    landOps()
    checkInvariants()
  }

  // Finish: complete every load in random order, then everything has landed.
  log.push('--- finish')
  while (pending.length > 0) {
    const [ld] = pending.splice(Math.floor(rng() * pending.length), 1)
    ld.complete()
    await tick()
    landOps()
    checkInvariants()
  }
  assert.equal(ops.length, 0)
  // Store everything (dirty pages may fill the RAM), then read every file back whole and compare.
  for (const slot of slots) {
    if (!slot.fh) continue
    for (const vma of slot.vmas) vma.unmap()
    slot.vmas = []
    await step({ t: 'writeout', s: slot.id, flags: 3 }) // STORE | MARKSTORED
    checkInvariants()
  }
  for (const slot of slots) {
    if (!slot.fh) slot.fh = new FileH(slot.file, ram)
    const vma = slot.fh.mmap(0, NP)
    slot.vmas.push(vma)
    for (let pg = 0; pg < NP; pg++) {
      const got = await pump(vma.read(pg * PS, PS))
      if (Buffer.compare(got, pageView(slot, pg)) !== 0) fail(`s${slot.id}: final read of page ${pg}`)
    }
    checkInvariants()
  }
  // Tear down: nothing may stay allocated.
  for (const slot of slots) {
    for (const vma of slot.vmas) vma.unmap()
    slot.vmas = []
    slot.fh!.discard()
    slot.fh!.close()
  }
  while (pending.length > 0) pending.shift()!.complete()
  await tick()
  assert.equal(ram.stats().used, 0, 'every frame is free after close')
  assert.equal(ram.stats().spilled, 0, 'every spill slot is free after close')
  if (ram.counters.spillReads > 0) saw('spilled page read back')
  ram.close()
}

describe('virtmem model', () => {
  it('random command sequences match the reference model', async () => {
    await fc.assert(
      fc.asyncProperty(configArb, fc.array(cmdArb, { minLength: 30, maxLength: 60 }), runModel),
      { numRuns: 500 },
    )
    if (process.env.MODEL_STATS) console.log(seen)
    for (const what of [
      'landed read',
      'landed readf64',
      'landed write',
      'landed faultw',
      'stale load completed',
      'sync ENOMEM',
      'sync EWOULDBLOCK',
      'in-flight ELOAD',
      'spilled pages',
      'spilled page read back',
      'sync ENOSPC',
    ]) {
      assert.ok((seen[what] ?? 0) > 0, `the random runs never exercised: ${what}`)
    }
  })

  it('concurrent async reads of one page share a single load and all see post-invalidation data', async () => {
    const pending: PendingLoad[] = []
    const file = new CtlFile(PS, 'async', false, Math.random, pending)
    file.blocks.set(0, new Uint8Array(PS).fill(1))
    const ram = new RAM({ pagesize: PS, capacity: PS * 4, reserve: 2 })
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 1)
    assert.throws(() => vma.getUint8(0), { code: 'EWOULDBLOCK' })
    const r1 = vma.read(0, 4)
    const r2 = vma.read(0, 4)
    await tick()
    assert.equal(pending.length, 1, 'one load shared by all waiters')
    // The storage changes (and says so) while the load is out: the load's data is stale.
    file.blocks.set(0, new Uint8Array(PS).fill(2))
    fh.invalidatePage(0)
    pending.shift()!.complete()
    await tick()
    assert.equal(pending.length, 1, 'the fault retried with a fresh load')
    pending.shift()!.complete()
    assert.deepEqual(await r1, new Uint8Array(4).fill(2))
    assert.deepEqual(await r2, new Uint8Array(4).fill(2))
    assert.equal(fh.pageState(0), PageState.LOADED)
    assert.equal(ram.stats().used, 1)
    vma.unmap()
    fh.close()
    assert.equal(ram.stats().used, 0)
  })

  // Regression (found while modelling): a synchronous multi-page write that failed part-way left the
  // pieces before the failing page written, and those pages dirty. For a scalar that straddles two pages
  // that tore the value: the first bytes landed, the call threw ENOMEM, and nothing told the caller.
  it('a straddling setFloat64 that fails with ENOMEM leaves memory unchanged', () => {
    const ram = new RAM({ pagesize: PS, capacity: PS * 2, reserve: 0 })
    const fh = new FileH(new MemoryBigFile(PS), ram)
    const vma = fh.mmap(0, 4)
    vma.setUint8(3 * PS, 1) // page 3 dirty: one frame left
    assert.throws(() => vma.setFloat64(PS - 4, 1.5), { code: 'ENOMEM' })
    assert.deepEqual(fh.dirtyPages(), [3], 'page 0 stays clean')
    assert.deepEqual(
      vma.readBytes(PS - 4, new Uint8Array(4)),
      new Uint8Array(4),
      'no byte of the float landed',
    )
  })

  it('a two-page write that blocks or fails on its second page writes nothing', async () => {
    const pending: PendingLoad[] = []
    const file = new CtlFile(PS, 'async', false, Math.random, pending)
    const ram = new RAM({ pagesize: PS, capacity: PS * 4, reserve: 0 })
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 2)
    const f = vma.fault(0, 1)
    pending.shift()!.complete()
    await f
    const data = Uint8Array.of(1, 2, 3, 4)
    // Synchronous: page 0 is resident, page 1 would block.
    assert.throws(() => vma.writeBytes(PS - 2, data), { code: 'EWOULDBLOCK', pgoffset: 1 })
    assert.throws(() => vma.setUint32(PS - 2, 0x04030201), { code: 'EWOULDBLOCK', pgoffset: 1 })
    assert.deepEqual(fh.dirtyPages(), [])
    assert.deepEqual(vma.readBytes(PS - 2, new Uint8Array(2)), new Uint8Array(2))
    // Asynchronous: page 1's load (started above) fails.
    const w = vma.write(PS - 2, data)
    await tick()
    assert.equal(pending.length, 1)
    pending.shift()!.fail()
    await assert.rejects(w, { code: 'ELOAD' })
    assert.deepEqual(fh.dirtyPages(), [])
    assert.deepEqual(vma.readBytes(PS - 2, new Uint8Array(2)), new Uint8Array(2))
    // Once the storage answers, the same write goes through whole.
    const w2 = vma.write(PS - 2, data)
    await tick()
    pending.shift()!.complete()
    await w2
    assert.deepEqual(fh.dirtyPages(), [0, 1])
    assert.deepEqual(vma.readBytes(PS - 2, new Uint8Array(4)), data)
    vma.unmap()
    fh.discard()
    fh.close()
    assert.equal(ram.stats().used, 0)
  })

  // Regression: vma.write pins its pages one by one, awaiting loads, and only then copies. A page pinned
  // early can be invalidated while a later one loads (a pin does not stop that: the page is detached). The
  // copy used to write-fault it synchronously, reject with EWOULDBLOCK and leave the range half written;
  // now the write sees the broken pin and pins again.
  it('an async write whose page is invalidated while it waits writes all of it or nothing', async () => {
    const pending: PendingLoad[] = []
    const file = new CtlFile(PS, 'async', false, Math.random, pending)
    const ram = new RAM({ pagesize: PS, capacity: PS * 4, reserve: 0 })
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 3)
    const f = vma.fault(0, 1)
    pending.shift()!.complete()
    await f
    // Pins page 0 at once, then waits for page 1's load, then for page 2's.
    const w = vma.write(PS - 2, new Uint8Array(PS + 4).fill(9))
    await tick()
    pending.shift()!.complete()
    await tick()
    fh.invalidatePage(1) // the storage changed (same content here): page 1, pinned by the write, is dropped
    pending.shift()!.complete()
    let settled = false
    w.then(
      () => (settled = true),
      () => (settled = true),
    )
    // the second pinning loads page 1 again
    for (let i = 0; i < 10 && !settled; i++) {
      await tick()
      pending.shift()?.complete()
    }
    const err = await w.then(
      () => undefined,
      (e: unknown) => e,
    )
    assert.notEqual(codeOf(err), 'EWOULDBLOCK', 'an async write does not report EWOULDBLOCK')
    if (err === undefined) {
      assert.deepEqual(fh.dirtyPages(), [0, 1, 2], 'the write went through whole')
      assert.deepEqual(vma.readBytes(PS - 2, new Uint8Array(PS + 4)), new Uint8Array(PS + 4).fill(9))
    } else {
      assert.deepEqual(fh.dirtyPages(), [], 'the failed write left the dirty set unchanged')
    }
  })

  // Regression: an empty write used to pin (and load) the page at `off` — at off === byteLength the file
  // page just past the end of the VMA.
  it('an empty write faults nothing', async () => {
    const ram = new RAM({ pagesize: PS, capacity: PS * 2, reserve: 0 })
    const fh = new FileH(new MemoryBigFile(PS), ram)
    const vma = fh.mmap(2, 1)
    vma.writeBytes(vma.byteLength, new Uint8Array(0))
    assert.deepEqual(fh.residentPages(), [], 'file page 3, past the VMA, is not loaded')
    vma.writeBytes(0, new Uint8Array(0))
    await vma.write(0, new Uint8Array(0))
    assert.deepEqual(fh.residentPages(), [], 'no page loaded for an empty write')
  })

  // Regression: the hit path skipped the offset check, so once the page was mapped a fractional offset
  // was read or written as if it were an integer one, or not at all.
  it('accessors reject fractional offsets whether or not the page is mapped', () => {
    const ram = new RAM({ pagesize: PS, capacity: PS * 2, reserve: 0 })
    const fh = new FileH(new MemoryBigFile(PS), ram)
    const vma = fh.mmap(0, 1)
    assert.throws(() => vma.getUint8(1.5), { code: 'ERANGE' }) // not mapped yet: checked
    vma.setUint8(1, 7)
    assert.throws(() => vma.getUint8(1.5), { code: 'ERANGE' }) // mapped: answered undefined
    assert.throws(() => vma.setUint8(2.5, 3), { code: 'ERANGE' }) // mapped: the write was silently dropped
    assert.throws(() => vma.getUint16(1.5), { code: 'ERANGE' }) // mapped: read at offset 1 instead
    assert.throws(() => vma.getUint8(Number.NaN), { code: 'ERANGE' })
    assert.throws(() => vma.setFloat64(0.5, 1), { code: 'ERANGE' })
    assert.deepEqual(vma.readBytes(0, new Uint8Array(16)), Uint8Array.of(0, 7, ...new Uint8Array(14)))
  })
})
