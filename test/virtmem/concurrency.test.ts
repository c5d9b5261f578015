import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { FileH, PageState, RAM } from '../../src/index.ts'
import { tick } from '../helpers/async.ts'
import { ControlledFile } from '../helpers/bigfiles.ts'

const PS = 4096

function setup(frames = 8) {
  const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS })
  const file = new ControlledFile(PS)
  const fh = new FileH(file, ram)
  const vma = fh.mmap(0, 8)
  return { ram, file, fh, vma }
}

describe('asynchronous loads', () => {
  test('a synchronous access to a page with an async load throws WouldBlockError and starts the load', async () => {
    const { file, fh, vma } = setup()
    file.set(0, 9)
    assert.throws(() => vma.getUint8(0), { code: 'EWOULDBLOCK', pgoffset: 0 })
    assert.equal(fh.pageState(0), PageState.LOADING)
    assert.throws(() => vma.getUint8(1), { code: 'EWOULDBLOCK' })
    assert.equal(file.loads, 1)
    file.complete(0)
    await tick()
    assert.equal(fh.pageState(0), PageState.LOADED)
    assert.equal(vma.mappedAs(0), 'none')
    assert.equal(vma.getUint8(0), 9) // a minor fault maps it
    assert.equal(file.loads, 1)
  })

  test('two concurrent faults on one page cause exactly one loadblk', async () => {
    const { file, fh, vma } = setup()
    file.set(3, 7)
    const a = vma.read(3 * PS, 4)
    const b = vma.read(3 * PS + 100, 4)
    const c = vma.fault(3 * PS, 1)
    await tick()
    assert.equal(file.loads, 1)
    assert.equal(fh.pageState(3), PageState.LOADING)
    file.complete(3)
    assert.deepEqual([...(await a)], [7, 7, 7, 7])
    assert.deepEqual([...(await b)], [7, 7, 7, 7])
    await c
    assert.equal(file.loads, 1)
    assert.equal(fh.pageInfo(3).mapcount, 1)
  })

  test('faults on different pages load in parallel', async () => {
    const { file, vma } = setup()
    file.set(1, 1)
    file.set(2, 2)
    const a = vma.read(PS, 1)
    const b = vma.read(2 * PS, 1)
    await tick()
    assert.deepEqual(
      file.pending.map((p) => p.blk),
      [1, 2],
    )
    file.complete(2) // out of order
    assert.deepEqual([...(await b)], [2])
    file.complete(1)
    assert.deepEqual([...(await a)], [1])
  })

  test('vma.fault over a range issues all loads at once', async () => {
    const { file, fh, vma } = setup()
    const f = vma.fault(0, 4 * PS)
    assert.equal(file.pending.length, 4)
    for (const blk of [3, 0, 2, 1]) file.complete(blk)
    await f
    assert.deepEqual(fh.residentPages(), [0, 1, 2, 3])
    assert.equal(vma.mappedAs(2), 'r')
  })

  test('an invalidation during a load drops the loaded data; the reader gets the second load', async () => {
    const { file, fh, vma } = setup()
    file.set(0, 1)
    const r = vma.read(0, 1)
    await tick()
    assert.equal(file.pending.length, 1)
    // the storage learns that block 0 changed while the old content is on its way
    fh.invalidatePage(0)
    assert.equal(fh.pageState(0), PageState.EMPTY)
    file.complete(0) // completes with the old content 1
    file.set(0, 2)
    await tick()
    assert.equal(file.loads, 2)
    file.complete(0)
    assert.deepEqual([...(await r)], [2])
    assert.equal(fh.pageState(0), PageState.LOADED)
  })

  test('repeated invalidations end in FaultRetryError after the retry bound', async () => {
    const ram = new RAM({ pagesize: PS, capacity: 10 * PS })
    const file = new ControlledFile(PS)
    const fh = new FileH(file, ram, { maxRetries: 3 })
    const vma = fh.mmap(0, 1)
    const r = vma.read(0, 1)
    for (let i = 0; i < 4; i++) {
      await tick()
      fh.invalidatePage(0)
      file.complete(0)
    }
    await assert.rejects(r, { code: 'ERETRY' })
    assert.equal(fh.pageState(0), PageState.EMPTY)
    assert.equal(ram.stats().used, 0)
  })

  test('an outside lock taken inside loadblk while its holder calls invalidatePage does not deadlock', async () => {
    const { file, fh, vma } = setup()
    // a promise-chain mutex, like a storage's own lock
    let locked: Promise<void> = Promise.resolve()
    const withLock = async <T>(fn: () => Promise<T>): Promise<T> => {
      const prev = locked
      let release!: () => void
      locked = new Promise((r) => (release = r))
      await prev
      try {
        return await fn()
      } finally {
        release()
      }
    }
    const lockedFile = {
      blksize: PS,
      loadblk: (blk: number, buf: Uint8Array) => withLock(() => file.loadblk(blk, buf)),
      storeblk: (blk: number, buf: Uint8Array) => file.storeblk(blk, buf),
    }
    const lfh = new FileH(lockedFile, fh.ram)
    const lvma = lfh.mmap(0, 2)
    file.set(0, 5)
    // T2 holds the lock and, inside it, invalidates page 0 (as a storage receiving an invalidation would)
    const t2 = withLock(async () => {
      await tick()
      lfh.invalidatePage(0)
    })
    // T1 faults page 0: loadblk waits for the lock
    const t1 = lvma.read(0, 1)
    await t2
    await tick()
    // the first load was invalidated by T2: it completes into nothing and the fault loads again
    file.complete(0)
    await tick()
    assert.equal(file.loads, 2)
    file.complete(0)
    assert.deepEqual([...(await t1)], [5])
    assert.equal(lfh.pageState(0), PageState.LOADED)
    void vma
  })

  test('unmap during a load never installs the page into that VMA', async () => {
    const { file, fh, vma } = setup()
    file.set(0, 3)
    const r = vma.read(0, 1)
    await tick()
    vma.unmap()
    file.complete(0)
    await assert.rejects(r, { code: 'ECLOSED' })
    assert.equal(vma.mappedAs(0), 'none')
    // the page is cached in the FileH, clean, mapped nowhere
    assert.deepEqual(fh.pageInfo(0), {
      state: PageState.LOADED,
      mapcount: 0,
      pincount: 0,
      frame: fh.pageInfo(0).frame,
    })
  })

  test('close during a load never installs the loaded page', async () => {
    const { ram, file, fh, vma } = setup()
    const r = vma.read(0, 1)
    await tick()
    vma.unmap()
    fh.close()
    assert.equal(ram.stats().used, 1) // the loading frame is still owned by the load
    file.complete(0)
    await assert.rejects(r, { code: 'ECLOSED' })
    assert.equal(ram.stats().used, 0)
    assert.deepEqual(fh.residentPages(), [])
  })

  test('a load error reaches every waiter of the shared load', async () => {
    const { ram, file, fh, vma } = setup()
    const a = vma.read(0, 1)
    const b = vma.read(1, 1)
    await tick()
    const boom = new Error('disk on fire')
    file.fail(0, boom)
    await assert.rejects(
      a,
      (e: Error & { code?: string; cause?: unknown }) => e.code === 'ELOAD' && e.cause === boom,
    )
    await assert.rejects(b, { code: 'ELOAD' })
    assert.equal(file.loads, 1)
    assert.equal(fh.pageState(0), PageState.EMPTY)
    assert.equal(ram.stats().used, 0)
    // the next access tries again
    const c = vma.read(0, 1)
    await tick()
    file.complete(0)
    assert.deepEqual([...(await c)], [0])
  })

  test('a synchronous loadblk that re-enters a fault on its own page gets DeadlockError', () => {
    const ram = new RAM({ pagesize: PS, capacity: 10 * PS })
    let vma: ReturnType<FileH['mmap']> | undefined
    let inner: unknown
    const file = {
      blksize: PS,
      loadblk(_blk: number, buf: Uint8Array) {
        try {
          vma!.getUint8(0)
        } catch (e) {
          inner = e
        }
        buf.fill(1)
      },
      storeblk() {},
    }
    const fh = new FileH(file, ram)
    vma = fh.mmap(0, 1)
    assert.equal(vma.getUint8(0), 1)
    assert.equal((inner as { code: string }).code, 'EDEADLK')
  })

  test('a synchronous loadblk that invalidates its own page is retried, not installed stale', () => {
    const ram = new RAM({ pagesize: PS, capacity: 10 * PS })
    let fh: FileH | undefined
    let version = 0
    const file = {
      blksize: PS,
      loadblk(_blk: number, buf: Uint8Array) {
        buf.fill(++version)
        if (version === 1) fh!.invalidatePage(0)
      },
      storeblk() {},
    }
    fh = new FileH(file, ram)
    const vma = fh.mmap(0, 1)
    assert.equal(vma.getUint8(0), 2)
    assert.equal(ram.stats().used, 1)
  })

  test('async writeout: storeblk sees stable frames even when the pages are discarded meanwhile', async () => {
    const ram = new RAM({ pagesize: PS, capacity: 6 * PS })
    const stored = new Map<number, number>()
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const file = {
      blksize: PS,
      loadblk: (_b: number, buf: Uint8Array) => {
        buf.fill(0)
      },
      storeblk: async (blk: number, buf: Uint8Array) => {
        await gate
        stored.set(blk, buf[0])
      },
    }
    const fh = new FileH(file, ram)
    const vma = fh.mmap(0, 2)
    vma.setUint8(0, 10)
    vma.setUint8(PS, 11)
    const w = fh.writeout(1)
    assert.ok(w instanceof Promise)
    assert.throws(() => fh.writeout(1), { code: 'EBUSY' })
    fh.discard()
    assert.deepEqual(fh.dirtyPages(), [])
    // the discarded frames stay reserved for the in-flight stores
    assert.equal(ram.stats().used, 2)
    vma.getUint8(0)
    vma.getUint8(PS)
    assert.equal(ram.stats().used, 4)
    release()
    await w
    assert.deepEqual(
      [...stored],
      [
        [0, 10],
        [1, 11],
      ],
    )
    assert.equal(ram.stats().used, 2)
  })
})
