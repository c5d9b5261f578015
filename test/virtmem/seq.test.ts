// runSeq and settle: synchronous while every step is, asynchronous from the first Promise on.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { runSeq, settle } from '../../src/virtmem/seq.ts'

const later = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('runSeq', () => {
  test('all steps synchronous: runs them in order and returns undefined, not a Promise', () => {
    const seen: number[] = []
    const r = runSeq(4, (i) => {
      seen.push(i)
    })
    assert.equal(r, undefined)
    assert.deepEqual(seen, [0, 1, 2, 3])
  })

  test('zero steps: nothing runs, synchronously', () => {
    assert.equal(
      runSeq(0, () => assert.fail('no step')),
      undefined,
    )
  })

  test('a sequence that turns async midway: steps before it ran already, later ones wait for it', async () => {
    const seen: string[] = []
    let release!: () => void
    const r = runSeq(5, (i) => {
      seen.push(`start ${i}`)
      if (i === 2) {
        return new Promise<void>((resolve) => {
          release = () => {
            seen.push('end 2')
            resolve()
          }
        })
      }
    })
    assert.ok(r instanceof Promise)
    assert.deepEqual(seen, ['start 0', 'start 1', 'start 2'], 'returned at the first Promise')
    await later()
    assert.deepEqual(seen, ['start 0', 'start 1', 'start 2'], 'step 3 waits for step 2')
    release()
    await r
    assert.deepEqual(seen, ['start 0', 'start 1', 'start 2', 'end 2', 'start 3', 'start 4'])
  })

  test('after the switch, sync and async steps alike run strictly one after another', async () => {
    const seen: number[] = []
    let running = 0
    await runSeq(6, (i) => {
      assert.equal(running, 0, `step ${i} overlaps another`)
      seen.push(i)
      if (i % 2 === 1) return undefined
      running++
      return later().then(() => {
        running--
      })
    })
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5])
  })

  test('an error thrown by a synchronous step is thrown synchronously and stops the sequence', () => {
    const seen: number[] = []
    const boom = new Error('boom')
    assert.throws(
      () =>
        runSeq(4, (i) => {
          seen.push(i)
          if (i === 1) throw boom
        }),
      (e: unknown) => e === boom,
    )
    assert.deepEqual(seen, [0, 1])
  })

  test('once async, a thrown or rejected step rejects the sequence and stops it', async () => {
    for (const how of ['throw', 'reject'] as const) {
      const seen: number[] = []
      const boom = new Error(how)
      const r = runSeq(5, (i) => {
        seen.push(i)
        if (i === 0) return later()
        if (i === 2) {
          if (how === 'throw') throw boom
          return Promise.reject(boom)
        }
      })
      assert.ok(r instanceof Promise)
      await assert.rejects(r, (e: unknown) => e === boom)
      assert.deepEqual(seen, [0, 1, 2], how)
    }
  })
})

describe('settle', () => {
  test('synchronous value: done runs before it returns, and the value is passed through', () => {
    const calls: string[] = []
    const v = settle(
      () => {
        calls.push('body')
        return 42
      },
      () => calls.push('done'),
    )
    assert.equal(v, 42)
    assert.deepEqual(calls, ['body', 'done'])
  })

  test('synchronous throw: done runs, and the same error is thrown synchronously', () => {
    let done = 0
    const boom = new Error('boom')
    assert.throws(
      () =>
        settle(
          () => {
            throw boom
          },
          () => done++,
        ),
      (e: unknown) => e === boom,
    )
    assert.equal(done, 1)
  })

  test('a Promise: done runs only once it settles, then the value comes through', async () => {
    let done = 0
    const r = settle(
      () => later().then(() => 'x'),
      () => done++,
    )
    assert.ok(r instanceof Promise)
    assert.equal(done, 0)
    assert.equal(await r, 'x')
    assert.equal(done, 1)
  })

  test('a rejection: done runs once, and the same error rejects', async () => {
    let done = 0
    const boom = new Error('boom')
    const r = settle(
      () => later().then(() => Promise.reject(boom)),
      () => done++,
    )
    await assert.rejects(r as Promise<unknown>, (e: unknown) => e === boom)
    assert.equal(done, 1)
  })
})
