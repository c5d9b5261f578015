// Integrity on PostgreSQL: bytes damaged in the server are caught by the checksums (ECORRUPT naming
// file, block and tid; db.check() finds every damaged version), and a committing process killed at
// any step of its commit leaves the old or the new state, never a mix (count-based trials).
import assert from 'node:assert/strict'
import { fork } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { openDatabase } from '../../src/db/index.ts'
import { rng } from '../helpers/rng.ts'
import { postgres, postgresEnabled } from '../helpers/storages.ts'
import { ram } from './helpers.ts'

const skip = !postgresEnabled && 'BIGFILE_TEST_POSTGRES=0'

const sql = async (url: string, text: string) => {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query(text)
  } finally {
    await c.end()
  }
}

test('a block or a record damaged in the server fails its checksum: ECORRUPT naming file, block and tid; check() finds it', {
  skip,
}, async (t) => {
  const url = await postgres.location(t)
  const db = await openDatabase(url)
  t.after(() => db.close())
  const PS = 64 << 10
  const conn = db.connect({ ram: ram() })
  const f = await conn.open('f', { create: { blksize: PS } })
  const v = f.mmap(0, 2)
  await v.fault(0, 2 * PS)
  v.setFloat64(0, 1)
  v.setFloat64(PS, 2)
  await conn.commit()
  v.unmap()
  // one bit of block 1 flipped behind the database's back
  await sql(url, 'UPDATE bigfile.blocks SET data = set_byte(data, 0, get_byte(data, 0) # 1) WHERE blk = 1')
  const c2 = db.connect({ ram: ram() })
  const v2 = (await c2.open('f')).mmap(0, 2)
  await v2.fault(0, 8)
  assert.equal(v2.getFloat64(0), 1, 'block 0 is intact')
  await assert.rejects(
    async () => v2.fault(PS, 8),
    (
      e: Error & { cause?: { code?: string; file?: string; blk?: number; tid?: number; message: string } },
    ) => {
      assert.equal(e.cause?.code, 'ECORRUPT')
      assert.equal(e.cause?.file, `#${f.id}`)
      assert.equal(e.cause?.blk, 1)
      assert.equal(e.cause?.tid, 1)
      return true
    },
  )
  v2.unmap()
  c2.close()
  const found = await db.check()
  assert.equal(found.blocks, 2)
  assert.equal(found.records, 1)
  assert.equal(found.bytes, 2 * PS)
  assert.deepEqual(
    found.damage.map((e) => [e.code, e.file, e.blk, e.tid]),
    [['ECORRUPT', `"f" (#${f.id})`, 1, 1]],
  )
  // a record whose size changed behind the database's back
  await sql(url, 'UPDATE bigfile.file_versions SET size = size + 1')
  await assert.rejects(db.files(), { code: 'ECORRUPT' })
  assert.deepEqual(
    (await db.check()).damage.map((e) => [e.blk, e.tid]),
    [
      [undefined, 1],
      [1, 1],
    ],
  )
})

const CHILD = fileURLToPath(new URL('./postgres-crashchild.ts', import.meta.url))
const BS = 4096
const TRIALS = Number(process.env.BIGFILE_PG_CRASH_TRIALS ?? 10)

const CHILD_APP = 'bigfile-crashchild'

/**
 * Waits until no backend of the killed child is left: the server still runs what the child sent
 * before it died (its COMMIT included), so the head read before that may be older than the outcome.
 */
async function childGone(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    for (;;) {
      const r = await c.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [
        CHILD_APP,
      ])
      if (r.rows[0].n === 0) return
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  } finally {
    await c.end()
  }
}

/** Runs the child; answers how it ended. */
function child(
  url: string,
  value: number,
  killAt: number,
  mode: string,
): Promise<{ code: number | null; signal: string | null; steps?: number }> {
  return new Promise((resolve, reject) => {
    let steps: number | undefined
    // named, so the parent can wait for its backends to end (see childGone)
    const u = new URL(url)
    u.searchParams.set('application_name', CHILD_APP)
    const p = fork(CHILD, [u.href, String(value), String(killAt), mode], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    p.once('error', reject)
    p.on('message', (m: { steps: number }) => {
      steps = m.steps
    })
    p.once('exit', (code, signal) => resolve({ code, signal, steps }))
  })
}

for (const mode of ['large', 'small'] as const) {
  // large: 100 blocks and the meta (a transaction begun early, two batches); small: 8 blocks, no
  // record change (BEGIN, the lock, blocks, log and COMMIT in one round trip)
  const BLOCKS = mode === 'large' ? 100 : 8
  /** Kill points of one commit in the child: 2 per storage call (begin, checkConflicts, [updateFile,] the block writes, commit). */
  const POINTS = 2 * (BLOCKS + (mode === 'large' ? 4 : 3))
  test(`a process SIGKILLed at a random step of its commit leaves the old or the new state, never a mix (${mode})`, {
    skip,
  }, async (t) => {
    const url = await postgres.location(t)
    const db = await openDatabase(url)
    t.after(() => db.close())
    await db.createFile('f', { blksize: BS, size: 100 * BS, meta: { v: 0 } })
    const random = rng(12)
    let value = 0
    let head = await db.head()
    const outcomes = { old: 0, new: 0 }
    for (let trial = 0; trial < TRIALS; trial++) {
      // one in four runs to the end, one in four dies right after handing COMMIT to the socket (the
      // server may or may not run it), the others at a random step, the last steps more often
      const killAt =
        trial % 4 === 3 ? POINTS : trial % 4 === 1 ? POINTS - 1 : Math.floor(POINTS * Math.sqrt(random()))
      const next = value + 1
      const end = await child(url, next, killAt, mode)
      if (end.signal === null) {
        assert.equal(end.code, 0, `trial ${trial}: the child failed`)
        assert.equal(end.steps, POINTS, 'the kill points counted here are those of the child')
      }
      await childGone(url)
      // 1. what is committed: the head tells whether the commit happened
      const h = await db.head()
      const committed = h > head
      if (end.signal === null) assert.ok(committed, `trial ${trial}: a commit that returned is there`)
      else assert.equal(end.signal, 'SIGKILL')
      const want = committed ? next : value
      // 2. every block and the record agree with it, read by a fresh connection
      const conn = db.connect({ ram: ram(BLOCKS + 4, BS) })
      const f = await conn.open('f')
      assert.deepEqual(
        f.meta,
        { v: mode === 'large' ? want : 0 },
        `trial ${trial} (kill at ${killAt}): the record`,
      )
      const v = f.mmap(0, BLOCKS)
      await v.fault(0, BLOCKS * BS)
      for (let b = 0; b < BLOCKS; b++) {
        if (v.getFloat64(b * BS) !== want || v.getFloat64(b * BS + BS - 8) !== want) {
          assert.fail(
            `trial ${trial} (kill at ${killAt}): block ${b} holds ${v.getFloat64(b * BS)}, want ${want}`,
          )
        }
      }
      v.unmap()
      conn.close()
      // 3. the log agrees, and nothing stored is damaged
      if (committed) {
        assert.equal(h, head + 1)
        const [c] = await db.log({ limit: 1 })
        assert.equal(c.tid, h)
        assert.equal(c.files[0].blocks.length, BLOCKS)
      }
      assert.deepEqual((await db.check()).damage, [])
      outcomes[committed ? 'new' : 'old']++
      value = want
      head = h
    }
    t.diagnostic(`outcomes after ${TRIALS} trials: ${outcomes.old} old, ${outcomes.new} new`)
    assert.ok(outcomes.old > 0 && outcomes.new > 0, 'both outcomes were exercised')
  })
}
