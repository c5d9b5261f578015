// Faults that wait for frames, and the rule of every awaitable path: no frame address survives an await.
// Regressions of issue 9 (a read returning another page's bytes, pinAsync failing with "vanished"), a
// property test that runs reclaim and invalidations at every await point of every awaitable API, and
// 10,000 concurrent reads over 8 frames.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import { FileH, MemoryBigFile, RAM } from '../../src/index.ts'
import type { VMA } from '../../src/virtmem/vma.ts'
import { tick } from '../helpers/async.ts'
import { ControlledFile } from '../helpers/bigfiles.ts'

const PS = 4096

/** A RAM of `frames` frames (no reserve) over a file whose page p is filled with p + 1, pages 0..n-1 resident. */
function resident(frames: number, n: number) {
  const ram = new RAM({ pagesize: PS, capacity: frames * PS, reserve: 0 })
  const file = new MemoryBigFile(PS)
  for (let pg = 0; pg < 8; pg++) file.blocks.set(pg, new Uint8Array(PS).fill(pg + 1))
  const fh = new FileH(file, ram)
  const vma = fh.mmap(0, 8)
  for (let pg = 0; pg < n; pg++) vma.getUint8(pg * PS)
  return { ram, file, fh, vma }
}

describe('no frame address survives an await', () => {
  test('a read with a reclaim right after the call returns its own page, not another one', async () => {
    const { ram, vma } = resident(3, 3)
    const p = vma.read(0, 4)
    ram.reclaim(1)
    assert.deepEqual([...(await p)], [1, 1, 1, 1])
  })

  test('a two-page read with reclaims between its pages returns both pages', async () => {
    const { ram, vma } = resident(3, 3)
    const p = vma.read(PS - 2, 4)
    ram.reclaim(1)
    ram.reclaim(1)
    assert.deepEqual([...(await p)], [1, 1, 2, 2])
  })

  test('pinAsync with a reclaim right after the call pins its pages instead of failing', async () => {
    const { ram, vma } = resident(3, 3)
    const p = vma.pinAsync(0, 4)
    ram.reclaim(1)
    using pin = await p
    assert.deepEqual([...pin.view(Uint8Array)], [1, 1, 1, 1])
    assert.equal(vma.fileh.pageInfo(0).pincount, 1)
  })

  test('withPinned and write go through the same path', async () => {
    const { ram, fh, vma } = resident(3, 3)
    const w = vma.withPinned(PS, 2, (pin) => [...pin.view(Uint8Array)])
    ram.reclaim(1)
    assert.deepEqual(await w, [2, 2])
    const wr = vma.write(2 * PS, Uint8Array.of(9, 9))
    ram.reclaim(1)
    await wr
    assert.deepEqual(fh.dirtyPages(), [2])
    assert.deepEqual([...vma.readBytes(2 * PS, new Uint8Array(3))], [9, 9, 3])
  })

  test('a read whose page is reclaimed between its load and its copy faults again', async () => {
    const ram = new RAM({ pagesize: PS, capacity: 2 * PS, reserve: 0 })
    const file = new ControlledFile(PS)
    file.set(0, 5)
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 4)
    const p = vma.read(0, 4)
    file.complete(0)
    // Right when the load ends: reclaim as hard as possible. The read holds the page pinned by then.
    await Promise.resolve()
    ram.reclaim(64)
    await Promise.resolve()
    ram.reclaim(64)
    assert.deepEqual([...(await p)], [5, 5, 5, 5])
    assert.equal(fh.pageInfo(0).pincount, 0)
  })
})

describe('waiting for frames', () => {
  test('an async fault that finds every frame loading waits and then loads', async () => {
    const ram = new RAM({ pagesize: PS, capacity: 2 * PS, reserve: 0 })
    const file = new ControlledFile(PS)
    for (let pg = 0; pg < 4; pg++) file.set(pg, pg + 1)
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 4)
    const reads = [0, 1, 2, 3].map((pg) => vma.read(pg * PS, 2))
    await tick()
    assert.equal(file.pending.length, 2)
    assert.equal(ram.stats().waiters, 2)
    // Synchronous access cannot wait: WouldBlockError, not ENOMEM.
    assert.throws(() => vma.getUint8(3 * PS), { code: 'EWOULDBLOCK', pgoffset: 3 })
    while (file.pending.length > 0) {
      file.complete()
      await tick()
    }
    assert.deepEqual(
      (await Promise.all(reads)).map((b) => [...b]),
      [
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 4],
      ],
    )
    assert.equal(ram.stats().waiters, 0)
    assert.ok(ram.counters.waits >= 2)
    assert.equal(fh.counters.waits, ram.counters.waits)
    assert.ok(ram.counters.waitMs >= 0)
  })

  test('a wait honours its AbortSignal and leaves the queue', async () => {
    const ram = new RAM({ pagesize: PS, capacity: PS, reserve: 0 })
    const file = new ControlledFile(PS)
    const vma = new FileH(file, ram).mmap(0, 2)
    const first = vma.read(0, 1)
    const ac = new AbortController()
    const second = vma.read(PS, 1, { signal: ac.signal })
    await tick()
    assert.equal(ram.stats().waiters, 1)
    ac.abort(new Error('stop'))
    await assert.rejects(second, { code: 'EABORT' })
    assert.equal(ram.stats().waiters, 0)
    file.complete()
    assert.deepEqual([...(await first)], [0])
    assert.equal(file.loads, 1)
  })

  test('a wait ends with ClosedError when the RAM closes', async () => {
    const ram = new RAM({ pagesize: PS, capacity: PS, reserve: 0 })
    const file = new ControlledFile(PS)
    const vma = new FileH(file, ram).mmap(0, 2)
    const first = vma.read(0, 1)
    const second = vma.read(PS, 1)
    await tick()
    ram.close()
    await assert.rejects(second, { code: 'ECLOSED' })
    file.complete()
    await first
  })

  test('ENOMEM only where waiting can never succeed, and it says which', async () => {
    const ram = new RAM({ pagesize: PS, capacity: 2 * PS, reserve: 0 })
    const fh = new FileH(new MemoryBigFile(PS, { async: true }), ram)
    const vma = fh.mmap(0, 4)
    // Every frame dirty: nothing to wait for.
    await vma.write(0, Uint8Array.of(1))
    await vma.write(PS, Uint8Array.of(1))
    await assert.rejects(vma.read(2 * PS, 1), { code: 'ENOMEM', message: /2 dirty/ })
    assert.equal(ram.stats().waiters, 0)
    fh.discard()
    // A range larger than the RAM, pinned by the call itself.
    await assert.rejects(vma.pinAsync(0, 3 * PS), { code: 'ENOMEM', message: /more frames than the RAM/ })
    // One dirty page plus a two-page pin: the call's own pin and the dirty page hold every frame.
    await vma.write(3 * PS, Uint8Array.of(1))
    await assert.rejects(vma.pinAsync(0, 2 * PS), {
      code: 'ENOMEM',
      message: /1 dirty.*1 pinned by this very call/,
    })
    assert.deepEqual(
      [0, 1, 2, 3].map((pg) => fh.pageInfo(pg).pincount),
      [0, 0, 0, 0],
    )
  })

  test('a fault does not wait for a live Pin (the caller may hold it): ENOMEM says so', async () => {
    const ram = new RAM({ pagesize: PS, capacity: PS, reserve: 0 })
    const file = new MemoryBigFile(PS, { async: true })
    file.blocks.set(1, new Uint8Array(PS).fill(7))
    const vma = new FileH(file, ram).mmap(0, 2)
    const pin = await vma.pinAsync(0, 1)
    await assert.rejects(vma.read(PS, 1), { code: 'ENOMEM', message: /1 held by live pins/ })
    pin.release()
    assert.deepEqual([...(await vma.read(PS, 1))], [7])
  })

  test('concurrent pinners: each gets its whole range or ENOMEM for the pins of the others, never a hang', async () => {
    const ram = new RAM({ pagesize: PS, capacity: 8 * PS, reserve: 0 })
    const file = new MemoryBigFile(PS, { async: true })
    for (let pg = 0; pg < 32; pg++) file.blocks.set(pg, new Uint8Array(PS).fill(pg + 1))
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 32)
    const all = Array.from({ length: 40 }, (_, k) =>
      vma.withPinned(((k * 5) % 27) * PS, 3 * PS, async (pin) => {
        const got: number[] = []
        pin.forEach((b) => {
          got.push(b[0], b[b.length - 1])
        })
        await tick()
        return got
      }),
    )
    const res = await Promise.allSettled(all)
    let ok = 0
    res.forEach((r, k) => {
      if (r.status === 'rejected') {
        assert.equal(r.reason.code, 'ENOMEM')
        assert.match(r.reason.message, /pinned by calls that wait for frames themselves|held by live pins/)
        return
      }
      ok++
      const first = (k * 5) % 27
      assert.deepEqual(
        r.value,
        [0, 1, 2].flatMap((j) => [first + j + 1, first + j + 1]),
      )
    })
    // Deadlock victims are many under this contention (each fails as soon as every frame is stuck).
    assert.ok(ok >= 1, 'no pinner got its range')
    assert.equal(ram.stats().waiters, 0)
    for (let pg = 0; pg < 32; pg++) assert.equal(fh.pageInfo(pg).pincount, 0)
  })

  test('10,000 concurrent reads over 8 frames: all correct, no ENOMEM, bounded waiters and loads in flight', async () => {
    const ram = new RAM({ pagesize: PS, capacity: 8 * PS, reserve: 0, maxLoads: 4 })
    const file = new MemoryBigFile(PS, { async: true })
    const NP = 64
    for (let pg = 0; pg < NP; pg++) file.blocks.set(pg, new Uint8Array(PS).fill(pg + 1))
    let maxInFlight = 0
    let maxWaiters = 0
    let maxResident = 0
    const fh = new FileH(file, ram)
    const load = file.loadblk.bind(file)
    file.loadblk = (blk, buf) => {
      const s = ram.stats()
      maxInFlight = Math.max(maxInFlight, s.loadsInFlight + 1)
      maxWaiters = Math.max(maxWaiters, s.waiters)
      maxResident = Math.max(maxResident, fh.residentPages().length)
      return load(blk, buf)
    }
    const vma = fh.mmap(0, NP)
    const N = 10_000
    const reads = Array.from({ length: N }, (_, k) => vma.read(((k * 37) % NP) * PS + (k % 100), 3))
    const got = await Promise.allSettled(reads)
    const failed = got.filter((r) => r.status === 'rejected')
    assert.equal(failed.length, 0, `first failure: ${failed[0]?.status === 'rejected' && failed[0].reason}`)
    got.forEach((r, k) => {
      const v = ((k * 37) % NP) + 1
      assert.deepEqual([...(r as PromiseFulfilledResult<Uint8Array>).value], [v, v, v], `read ${k}`)
    })
    assert.ok(maxInFlight <= 4, `loads in flight reached ${maxInFlight}`)
    assert.ok(maxWaiters <= N, `waiters reached ${maxWaiters}`)
    assert.ok(maxWaiters > 0, 'the reads never had to wait')
    assert.ok(maxResident <= 8)
    const s = ram.stats()
    assert.equal(s.waiters, 0)
    assert.equal(s.loadsInFlight, 0)
    assert.ok(ram.counters.waits > 0)
  })
})

describe('frame allocation stays correct whatever a callback does', () => {
  test("issue 9's notifier that touches the page being reclaimed keeps the budget", () => {
    const ram = new RAM({ pagesize: PS, capacity: 2 * PS, reserve: 0 })
    const fh = new FileH(new MemoryBigFile(PS), ram)
    const vma = fh.mmap(0, 4)
    const warnings: string[] = []
    const onWarning = (w: Error) => warnings.push(w.message)
    process.on('warning', onWarning)
    try {
      fh.registerNotifier({ invalidateRangeEnd: (r) => vma.getUint32(r.pgstart * PS) })
      for (const pg of [0, 1, 2]) vma.getUint32(pg * PS)
    } finally {
      process.off('warning', onWarning)
    }
    checkFrames(ram, [fh])
    assert.equal(fh.pageState(2), 'LOADED')
  })

  test('random re-entrant callbacks: used = resident pages, used <= frames, every page holds its own bytes', () => {
    const NP = 6
    const actionArb = fc.record({
      t: fc.constantFrom('read', 'write', 'invalidate', 'discard', 'reclaim', 'writeout'),
      pg: fc.integer({ min: 0, max: NP - 1 }),
      x: fc.integer({ min: 1, max: 200 }),
    })
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(actionArb, { minLength: 5, maxLength: 40 }),
        fc.array(fc.option(actionArb, { freq: 2 }), { minLength: 1, maxLength: 60 }),
        (frames, steps, callbacks) => {
          const ram = new RAM({ pagesize: PS, capacity: frames * PS, reserve: 0, reclaimBatch: 2 })
          const file = new MemoryBigFile(PS)
          for (let pg = 0; pg < NP; pg++) file.blocks.set(pg, new Uint8Array(PS).fill(pg + 1))
          const fh = new FileH(file, ram)
          const vma = fh.mmap(0, NP)
          /** What page pg's first byte may read: its stored value or a value written to it (distinct per page). */
          const allowed = Array.from({ length: NP }, (_, pg) => new Set([pg + 1]))
          let next = 0
          let depth = 0
          const run = (a: { t: string; pg: number; x: number }) => {
            switch (a.t) {
              case 'read': {
                const v = vma.getUint8(a.pg * PS)
                assert.ok(allowed[a.pg].has(v), `page ${a.pg} read ${v}: never written there`)
                break
              }
              case 'write': {
                const v = 10 + a.pg * 40 + (a.x % 40)
                allowed[a.pg].add(v)
                vma.setUint8(a.pg * PS, v)
                break
              }
              case 'invalidate':
                fh.invalidatePage(a.pg)
                break
              case 'discard':
                fh.discard()
                break
              case 'reclaim':
                ram.reclaim(1)
                break
              case 'writeout':
                fh.writeout(3)
                break
            }
          }
          const callback = () => {
            if (depth > 2) return
            const a = callbacks[next++ % callbacks.length]
            if (a === null) return
            depth++
            try {
              run(a)
            } catch (e) {
              const code = (e as { code?: string }).code
              if (code !== 'EWOULDBLOCK' && code !== 'ENOMEM' && code !== 'EBUSY') throw e
            } finally {
              depth--
            }
          }
          fh.registerNotifier({ invalidateRangeStart: callback, invalidateRangeEnd: callback })
          for (const a of steps) {
            try {
              run(a)
            } catch (e) {
              const code = (e as { code?: string }).code
              if (code !== 'EWOULDBLOCK' && code !== 'ENOMEM' && code !== 'EBUSY') throw e
            }
            checkFrames(ram, [fh])
            for (let pg = 0; pg < NP; pg++) {
              const { frame } = fh.pageInfo(pg)
              if (frame >= 0 && fh.pageState(pg) !== 'LOADING')
                assert.ok(
                  allowed[pg].has(ram.bytes[frame * PS]),
                  `page ${pg} holds a byte never written there`,
                )
            }
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})

/** The RAM's books agree with the pages: used = frames holding a page = resident pages, each in its own frame. */
function checkFrames(ram: RAM, fhs: FileH[]): void {
  const s = ram.stats()
  assert.ok(s.free >= 0 && s.used <= s.frames, `used ${s.used}, free ${s.free} of ${s.frames}`)
  const held = ram.pageOf.filter((p) => p !== undefined).length
  assert.equal(s.used, held, 'used = frames holding a page')
  let resident = 0
  const frames = new Set<number>()
  for (const fh of fhs) {
    for (const pg of fh.residentPages()) {
      const { frame } = fh.pageInfo(pg)
      assert.ok(!frames.has(frame), `frame ${frame} holds two pages`)
      frames.add(frame)
      assert.equal(ram.pageOf[frame]?.pgoffset, pg)
      resident++
    }
  }
  // No pins here, so no detached leftovers: every used frame is a resident page.
  assert.equal(s.used, resident, 'used = resident pages')
}

// ------------------------------------------------------------------ reclaim and invalidate at every await point

type Chaos = 'reclaim' | 'invalidate' | 'change' | 'tick'

/** Values: page pg at version v is filled with pg * 32 + v (v < 32), so any byte tells its page. */
const fillOf = (pg: number, v: number) => pg * 32 + v

describe('reclaim and invalidations at every await point of every awaitable API', () => {
  test('every API returns its own pages’ bytes, of a version the page had during the call', async () => {
    const NP = 6
    const opArb = fc.record({
      api: fc.constantFrom('read', 'pinAsync', 'withPinned', 'write', 'fault'),
      off: fc.integer({ min: 0, max: NP * PS - 1 }),
      len: fc.integer({ min: 1, max: 2 * PS + 10 }),
    })
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 5 }),
        opArb,
        fc.array(fc.constantFrom<Chaos>('reclaim', 'invalidate', 'change', 'tick', 'tick'), {
          minLength: 1,
          maxLength: 30,
        }),
        fc.integer({ min: 0, max: 63 }),
        async (frames, op, chaos, warm) => {
          const ram = new RAM({ pagesize: PS, capacity: frames * PS, reserve: 0 })
          const file = new ControlledFile(PS)
          const version = new Array<number>(NP).fill(1)
          for (let pg = 0; pg < NP; pg++) file.set(pg, fillOf(pg, 1))
          const fh = new FileH(file, ram, { maxRetries: 1000 })
          const vma = fh.mmap(0, NP)
          const len = Math.min(op.len, NP * PS - op.off)
          const first = Math.floor(op.off / PS)
          const last = Math.floor((op.off + len - 1) / PS)
          /** Versions each page had while the call ran. */
          const seen = version.map((v) => new Set([v]))
          // Pages mapped before the call (as many as fit): the call finds them mapped, then the chaos strikes.
          for (let pg = 0, n = 0; pg < NP && n < frames; pg++) {
            if (!(warm & (1 << pg))) continue
            n++
            const f = vma.fault(pg * PS, 1)
            while (file.pending.length > 0) file.complete()
            await f
          }
          const data = new Uint8Array(len).fill(250)
          const p = startOp(vma, op.api, op.off, len, data)
          let done = false
          p.then(
            () => {
              done = true
            },
            () => {
              done = true
            },
          )
          for (let k = 0; !done && k < 10_000; k++) {
            // The chaos runs once through, one action per turn; then the loads just complete.
            const c: Chaos = k < chaos.length ? chaos[k] : 'tick'
            if (c === 'reclaim') ram.reclaim(1)
            else if (c === 'invalidate') fh.invalidatePage(first + (k % (last - first + 1)))
            else if (c === 'change') {
              const pg = first + (k % (last - first + 1))
              if (version[pg] < 31) {
                version[pg]++
                file.set(pg, fillOf(pg, version[pg]))
                fh.invalidatePage(pg)
                seen[pg].add(version[pg])
              }
            }
            if (file.pending.length > 0 && k % 2 === 0) file.complete()
            await (c === 'tick' ? tick() : Promise.resolve())
          }
          assert.ok(done, 'the call never settled')
          const got = await p
          if (got === undefined) {
            for (const pg of fh.dirtyPages()) assert.ok(pg >= first && pg <= last, `page ${pg} dirtied`)
            while (file.pending.length > 0) file.complete()
            return
          }
          // Each byte read is its own page's, of a version the page had during the call.
          for (let at = 0; at < len; at++) {
            const pg = Math.floor((op.off + at) / PS)
            const b: number = got[at]
            assert.equal(
              Math.floor(b / 32),
              pg,
              `byte ${at} belongs to page ${Math.floor(b / 32)}, not ${pg}`,
            )
            assert.ok(seen[pg].has(b % 32), `byte ${at}: version ${b % 32} of page ${pg} never existed`)
          }
          // A write dirties only its own pages (invalidations may have dropped them since).
          for (const pg of fh.dirtyPages()) assert.ok(pg >= first && pg <= last, `page ${pg} dirtied`)
          assert.ok(op.api === 'write' || fh.dirtyPages().length === 0)
          while (file.pending.length > 0) file.complete()
          await tick()
        },
      ),
      { numRuns: 250 },
    )
  })
})

/** Starts one awaitable call; resolves to the bytes it saw (undefined for calls that return none). */
async function startOp(
  vma: VMA,
  api: string,
  off: number,
  len: number,
  data: Uint8Array,
): Promise<Uint8Array | undefined> {
  switch (api) {
    case 'read':
      return vma.read(off, len)
    case 'pinAsync': {
      using pin = await vma.pinAsync(off, len)
      const out = new Uint8Array(len)
      pin.forEach((b, at) => {
        out.set(b, at)
      })
      return out
    }
    case 'withPinned':
      return vma.withPinned(off, len, (pin) => {
        const out = new Uint8Array(len)
        pin.forEach((b, at) => {
          out.set(b, at)
        })
        return out
      })
    case 'write':
      await vma.write(off, data.subarray(0, len))
      return undefined
    default:
      await vma.fault(off, len)
      return undefined
  }
}
