import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { FileH, type FileHNotifier, type InvalidateRange, RAM } from '../../src/index.ts'
import { RecordingFile } from '../helpers/bigfiles.ts'

const PS = 4096

function setup(frames = 4) {
  const ram = new RAM({ pagesize: PS, capacity: (frames + 2) * PS })
  const fh = new FileH(new RecordingFile(PS), ram)
  const vma = fh.mmap(0, 8)
  const events: string[] = []
  const fmt = (r: InvalidateRange) => `${r.reason} ${r.pgstart}-${r.pgend}`
  const notifier: FileHNotifier = {
    invalidateRangeStart: (r) => events.push(`start ${fmt(r)} state=${fh.pageState(r.pgstart)}`),
    invalidateRangeEnd: (r) => events.push(`end ${fmt(r)} state=${fh.pageState(r.pgstart)}`),
    release: () => events.push('release'),
  }
  return { ram, fh, vma, events, notifier }
}

describe('notifiers', () => {
  test('invalidate fires start before the page is dropped and end after', () => {
    const { fh, vma, events, notifier } = setup()
    vma.getUint8(PS)
    fh.registerNotifier(notifier)
    fh.invalidateRange(1, 2)
    assert.deepEqual(events, ['start invalidate 1-3 state=LOADED', 'end invalidate 1-3 state=EMPTY'])
  })

  test('invalidate fires even when nothing of the range is resident (a mirror may outlive pages)', () => {
    const { fh, events, notifier } = setup()
    fh.registerNotifier(notifier)
    fh.invalidatePage(5)
    assert.deepEqual(events, ['start invalidate 5-6 state=EMPTY', 'end invalidate 5-6 state=EMPTY'])
  })

  test('discard and reclaim fire per dropped page, with their reason', () => {
    const { ram, fh, vma, events, notifier } = setup()
    vma.setUint8(0, 1)
    vma.getUint8(PS)
    fh.registerNotifier(notifier)
    fh.discard()
    assert.deepEqual(events, ['start discard 0-1 state=DIRTY', 'end discard 0-1 state=EMPTY'])
    events.length = 0
    assert.equal(ram.reclaim(), 1)
    assert.deepEqual(events, ['start reclaim 1-2 state=LOADED', 'end reclaim 1-2 state=EMPTY'])
  })

  test('reclaim on allocation failure notifies before the frame is reused', () => {
    const { fh, vma, notifier } = setup(1)
    vma.setUint8(0, 42)
    fh.writeout(3)
    let seen = -1
    fh.registerNotifier({
      ...notifier,
      invalidateRangeStart: (r) => {
        // the memory is still there and still holds the old page
        seen = r.fileh.pageInfo(r.pgstart).frame >= 0 ? 42 : -1
      },
    })
    vma.getUint8(PS)
    assert.equal(seen, 42)
  })

  test('close fires release once and unregisters everything', () => {
    const { fh, vma, events, notifier } = setup()
    vma.getUint8(0)
    fh.registerNotifier(notifier)
    vma.unmap()
    fh.close()
    assert.deepEqual(events, ['release'])
  })

  test('after unregister returns no callback runs, not even a pending end', () => {
    const { fh, vma, events, notifier } = setup()
    vma.getUint8(0)
    let reg: { unregister(): void } | undefined
    reg = fh.registerNotifier({
      invalidateRangeStart: (r) => {
        events.push(`A start ${r.pgstart}`)
        reg?.unregister()
      },
      invalidateRangeEnd: () => events.push('A end'),
    })
    fh.registerNotifier(notifier)
    fh.invalidatePage(0)
    fh.invalidatePage(1)
    assert.deepEqual(events, [
      'A start 0',
      'start invalidate 0-1 state=LOADED',
      'end invalidate 0-1 state=EMPTY',
      'start invalidate 1-2 state=EMPTY',
      'end invalidate 1-2 state=EMPTY',
    ])
  })

  test('a notifier unregistered by another one during the fan-out is not called', () => {
    const { fh, events } = setup()
    const b: FileHNotifier = { invalidateRangeStart: () => events.push('B') }
    fh.registerNotifier({
      invalidateRangeStart: () => {
        events.push('A')
        fh.unregisterNotifier(b)
      },
    })
    fh.registerNotifier(b)
    fh.invalidatePage(0)
    assert.deepEqual(events, ['A'])
  })

  test('using-disposal of the registration unregisters', () => {
    const { fh, events, notifier } = setup()
    {
      using _reg = fh.registerNotifier(notifier)
    }
    fh.invalidatePage(0)
    assert.deepEqual(events, [])
  })

  test('a throwing callback is reported as a warning and the VM stays consistent', async () => {
    const { ram, fh, vma } = setup()
    vma.setUint8(0, 1)
    fh.registerNotifier({
      invalidateRangeStart: () => {
        throw new Error('mirror broke')
      },
    })
    const warned = new Promise<Error>((resolve) => process.once('warning', resolve))
    fh.discard()
    assert.match((await warned).message, /mirror broke/)
    assert.deepEqual(fh.dirtyPages(), [])
    assert.equal(ram.stats().used, 0)
  })

  test('a notifier that re-enters the FileH and drops pages itself frees no frame twice', () => {
    const { ram, fh, vma } = setup(4)
    vma.setFloat64(0, 1)
    vma.setFloat64(PS, 2)
    fh.registerNotifier({
      invalidateRangeStart(r) {
        if (r.reason === 'discard') fh.invalidateRange(0, 8) // "drop my whole mirror"
      },
    })
    fh.discard()
    assert.equal(ram.freeFrames, ram.frames)
    for (let pg = 0; pg < 4; pg++) vma.setFloat64(pg * PS, 100 + pg)
    const frames = [0, 1, 2, 3].map((pg) => fh.pageInfo(pg).frame)
    assert.equal(new Set(frames).size, 4, `distinct frames: ${frames}`)
    assert.deepEqual(
      [0, 1, 2, 3].map((pg) => vma.getFloat64(pg * PS)),
      [100, 101, 102, 103],
    )
  })

  test('a notifier that faults during reclaim does not start a second sweep', () => {
    const { ram, fh, vma } = setup(2)
    vma.getUint8(0)
    vma.getUint8(PS)
    let inner: unknown
    fh.registerNotifier({
      invalidateRangeStart(r) {
        if (r.reason !== 'reclaim') return
        try {
          vma.getUint8(5 * PS) // needs a frame while the hand is moving
        } catch (e) {
          inner = e
        }
      },
    })
    vma.getUint8(2 * PS)
    assert.ok(ram.stats().used <= ram.stats().frames)
    // The hand is moving up the stack: the nested fault cannot wait synchronously for the frames it frees.
    if (inner !== undefined) assert.equal((inner as { code?: string }).code, 'EWOULDBLOCK')
    const frames = fh.residentPages().map((pg) => fh.pageInfo(pg).frame)
    assert.equal(new Set(frames).size, frames.length)
  })
})
