// Model test of read-ahead and drop-behind: random interleavings of sequential scans, random reads,
// writes, advice, drop-behind hints, reclaim, writeouts and blocks that fail to load, over a storage with
// loadblks that answers synchronously or asynchronously (then windows are also read ahead in the
// background, at trigger pages). After every step: the budget is never exceeded, the dirty set is the
// model's, and every byte read is the model's (stored blocks overlaid with the dirty pages).
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { type BigFile, FileH, LoadError, RAM, WriteoutFlags } from '../../src/index.ts'

const PS = 4096
const NP = 96

/** Stored pages are one byte value each (0 when never stored); loadblks reads a run at once. */
class ModelFile implements BigFile {
  readonly blksize = PS
  readonly stored = new Uint8Array(NP)
  readonly async: boolean
  constructor(async: boolean) {
    this.async = async
  }
  /** Blocks whose loads fail (a load of several fails whole when one of them is bad). */
  readonly bad = new Set<number>()
  #later(fn: () => void): void | Promise<void> {
    if (!this.async) return fn()
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          fn()
          resolve()
        } catch (e) {
          reject(e)
        }
      }),
    )
  }
  #check(blk: number, count: number): void {
    for (let k = 0; k < count; k++) if (this.bad.has(blk + k)) throw new Error(`bad block ${blk + k}`)
  }
  loadblk(blk: number, buf: Uint8Array): void | Promise<void> {
    const v = this.stored[blk]
    return this.#later(() => {
      this.#check(blk, 1)
      buf.fill(v)
    })
  }
  loadblks(blk: number, count: number, buf: Uint8Array): void | Promise<void> {
    const vs = this.stored.slice(blk, blk + count)
    return this.#later(() => {
      this.#check(blk, count)
      for (let k = 0; k < count; k++) buf.fill(vs[k], k * PS, (k + 1) * PS)
    })
  }
  storeblk(blk: number, buf: Uint8Array): void {
    this.stored[blk] = buf[0]
  }
}

type Cmd =
  | { t: 'scan'; from: number; len: number }
  | { t: 'read'; pg: number }
  | { t: 'write'; pg: number; len: number; v: number }
  | { t: 'advise'; from: number; len: number; advice: 'normal' | 'sequential' | 'random' | 'dontneed' }
  | { t: 'reclaim'; n: number }
  | { t: 'race'; pg: number; from: number; len: number; v: number }
  | { t: 'commit' }
  | { t: 'bad'; pg: number }

const page = fc.integer({ min: 0, max: NP - 1 })
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant('scan' as const),
      from: page,
      len: fc.integer({ min: 1, max: 60 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('read' as const), pg: page }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('write' as const),
      pg: page,
      len: fc.integer({ min: 1, max: 30 }),
      v: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('advise' as const),
      from: page,
      len: fc.integer({ min: 1, max: 40 }),
      advice: fc.constantFrom(
        'normal' as const,
        'sequential' as const,
        'random' as const,
        'dontneed' as const,
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ t: fc.constant('reclaim' as const), n: fc.integer({ min: 1, max: 16 }) }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('commit' as const) }) },
  // a block starts or stops failing its loads
  { weight: 1, arbitrary: fc.record({ t: fc.constant('bad' as const), pg: page }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('race' as const),
      pg: page,
      from: page,
      len: fc.integer({ min: 1, max: 12 }),
      v: fc.integer({ min: 1, max: 255 }),
    }),
  },
)

async function run(frames: number, async: boolean, cmds: Cmd[]): Promise<Record<string, number>> {
  const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS })
  const file = new ModelFile(async)
  const fh = new FileH(file, ram)
  const vma = fh.mmap(0, NP)
  const dirty = new Map<number, number>()
  const expect = (pg: number) => dirty.get(pg) ?? file.stored[pg]
  const badOnly = (pg: number, e: unknown) => {
    assert.ok(e instanceof LoadError, `page ${pg}: ${e}`)
    assert.ok(file.bad.has(pg), `page ${pg} is not bad: ${e.message}`)
    assert.equal(e.blk, pg)
  }
  const readPage = async (pg: number) => {
    let buf: Uint8Array
    try {
      buf = await vma.read(pg * PS, PS)
    } catch (e) {
      // only a fault that needs a bad block fails, with that block's LoadError (never a window's)
      badOnly(pg, e)
      return
    }
    const want = expect(pg)
    assert.equal(buf[0], want, `page ${pg} first byte`)
    assert.equal(buf[PS - 1], want, `page ${pg} last byte`)
  }
  const check = async () => {
    assert.ok(ram.stats().used <= ram.frames, `used ${ram.stats().used} > ${ram.frames}`)
    // A window read ahead in the background may still be in flight (nobody waits for it): its frames
    // are counted, and an invalidated one's frame is freed when its load ends. Let it end first.
    while (ram.stats().loadsInFlight > 0) await new Promise((resolve) => setImmediate(resolve))
    const s = ram.stats()
    assert.ok(s.used <= ram.frames, `used ${s.used} > ${ram.frames}`)
    assert.equal(s.used, fh.residentPages().length)
    assert.deepEqual(
      fh.dirtyPages(),
      [...dirty.keys()].sort((a, b) => a - b),
    )
  }
  for (const c of cmds) {
    switch (c.t) {
      case 'scan':
        for (let pg = c.from; pg < Math.min(NP, c.from + c.len); pg++) await readPage(pg)
        break
      case 'read':
        await readPage(c.pg)
        break
      case 'write':
        for (let pg = c.pg; pg < Math.min(NP, c.pg + c.len); pg++) {
          try {
            await vma.write(pg * PS, new Uint8Array(PS).fill(c.v))
          } catch (e) {
            badOnly(pg, e)
            continue
          }
          dirty.set(pg, c.v)
        }
        break
      case 'advise':
        fh.advise(c.from, Math.min(c.len, NP - c.from), c.advice)
        break
      case 'reclaim':
        ram.reclaim(c.n)
        break
      case 'race': {
        // A read (maybe a window in flight) while the storage changes pages underneath and invalidates them:
        // the read returns the page as it was or as it is now; loads begun before the change are dropped.
        const end = Math.min(NP, c.from + c.len)
        const old = expect(c.pg)
        const reading = vma.read(c.pg * PS, PS)
        for (let pg = c.from; pg < end; pg++) file.stored[pg] = c.v
        fh.invalidateRange(c.from, end - c.from)
        for (let pg = c.from; pg < end; pg++) dirty.delete(pg)
        const got = await reading.then(
          (b) => b[0],
          (e: unknown) => {
            badOnly(c.pg, e)
            return old
          },
        )
        assert.ok(
          got === old || got === expect(c.pg),
          `raced page ${c.pg}: ${got}, not ${old} or ${expect(c.pg)}`,
        )
        await readPage(c.pg)
        break
      }
      case 'bad':
        if (file.bad.has(c.pg)) file.bad.delete(c.pg)
        else file.bad.add(c.pg)
        break
      case 'commit': {
        await fh.writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED)
        dirty.clear()
        break
      }
    }
    await check()
  }
  for (let pg = 0; pg < NP; pg++) await readPage(pg)
  await check()
  vma.unmap()
  fh.close()
  ram.close()
  const k = ram.counters
  return {
    readahead: k.readahead,
    multiLoads: k.multiLoads,
    dropBehind: k.dropBehind,
    spills: k.spills,
    unused: k.readaheadUnused,
    drops: k.drops,
    readaheadAsync: k.readaheadAsync,
  }
}

describe('read-ahead model', () => {
  it('never exceeds the budget, never loses a dirty page, always returns the right bytes', async () => {
    const seen: Record<string, number> = {}
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 16, max: 40 }),
        fc.boolean(),
        fc.array(cmd, { minLength: 1, maxLength: 40 }),
        async (frames, async, cmds) => {
          for (const [k, v] of Object.entries(await run(frames, async, cmds))) seen[k] = (seen[k] ?? 0) + v
        },
      ),
      { numRuns: 150 },
    )
    // the runs exercised what they are about
    for (const k of ['readahead', 'multiLoads', 'dropBehind', 'spills', 'unused', 'drops', 'readaheadAsync'])
      assert.ok(seen[k] > 0, `${k}: ${seen[k]}`)
  })
})
