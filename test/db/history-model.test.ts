// Model test of history: random commits and packs; every tid from the pack cutoff to the head reads exactly
// the model's state at that tid through a 1-page RAM, and every older tid is stale at open.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import fc from 'fast-check'
import { openDatabase } from '../../src/db/index.ts'
import { ram, tmpDir } from './helpers.ts'

const BS = 4096
const BLOCKS = 8

type Step = { kind: 'commit'; writes: [number, number][] } | { kind: 'pack'; keep: number }

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('commit' as const),
      writes: fc.array(fc.tuple(fc.nat(BLOCKS - 1), fc.integer({ min: 1, max: 1e6 })), {
        minLength: 1,
        maxLength: 4,
      }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pack' as const), keep: fc.nat(4) }) },
)

test('model: historical connections read each tid exactly; pack makes exactly the older tids stale', async (t) => {
  const dir = tmpDir(t)
  let run = 0
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
      const db = await openDatabase(join(dir, `m${run++}.bigfile`))
      try {
        await db.createFile('f', { blksize: BS, size: BLOCKS * BS }) // tid 1: all zeros
        const model: number[][] = [[], new Array(BLOCKS).fill(0)] // model[tid][blk]
        let cutoff = 0
        const w = db.connect({ ram: ram(BLOCKS, BS) })
        const v = (await w.open('f')).mmap(0, BLOCKS)
        for (const s of steps) {
          if (s.kind === 'pack') {
            const r = await db.pack({ keep: s.keep })
            assert.equal(r.cutoff, Math.min(Math.max(0, model.length - 1 - s.keep), w.at))
            assert.equal(r.head, model.length - 1)
            cutoff = Math.max(cutoff, r.cutoff)
            continue
          }
          const next = [...model[model.length - 1]]
          for (const [blk, x] of s.writes) {
            v.setFloat64(blk * BS, x)
            next[blk] = x
          }
          assert.equal(await w.commit(), model.length)
          model.push(next)
        }
        for (let tid = 0; tid < model.length; tid++) {
          if (tid < cutoff) {
            assert.throws(() => db.connect({ ram: ram(1, BS), at: tid }), { code: 'ESTALE' })
            continue
          }
          using h = db.connect({ ram: ram(1, BS), at: tid })
          if (tid === 0) {
            assert.deepEqual(await h.list(), [])
            continue
          }
          const hv = (await h.open('f')).mmap(0, BLOCKS)
          for (let blk = 0; blk < BLOCKS; blk++)
            assert.equal(hv.getFloat64(blk * BS), model[tid][blk], `tid ${tid} blk ${blk}`)
          hv.unmap()
        }
        const log = await db.log()
        assert.deepEqual(
          log.map((c) => c.tid),
          Array.from({ length: model.length - Math.max(cutoff, 1) }, (_, i) => model.length - 1 - i),
        )
        v.unmap()
      } finally {
        await db.close()
      }
    }),
    { numRuns: 25 },
  )
})
