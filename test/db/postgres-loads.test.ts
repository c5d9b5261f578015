// Loads on PostgreSQL: binary COPY answers parsed right whatever the sizes, and a range faulted at once
// (batched into a few statements) reads exactly each block as of the snapshot.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { openDatabase } from '../../src/db/index.ts'
import { copyOut } from '../../src/db/postgres/copy.ts'
import { pgServer, postgres, postgresEnabled } from '../helpers/storages.ts'
import { ram, reclaimAll } from './helpers.ts'

const skip = !postgresEnabled && 'BIGFILE_TEST_POSTGRES=0'

test('binary COPY rows of every size come back byte for byte, also into given targets', {
  skip,
}, async () => {
  const server = await pgServer()
  const c = new pg.Client({ connectionString: server.url() })
  await c.connect()
  try {
    // sizes around pg's 64 KiB socket chunks; NULLs and empty values between
    const sizes = [0, 1, 7, 8, 65535, 65536, 65537, 200_000, 3, 1 << 20]
    const sql = `COPY (SELECT i::int8, CASE WHEN i % 4 = 3 THEN NULL
        ELSE decode(repeat(lpad(to_hex(i), 2, '0'), n::int4), 'hex') END, n::int8
      FROM unnest($$${'{'}${sizes.join(',')}}$$::int8[]) WITH ORDINALITY AS s(n, i)) TO STDOUT (FORMAT binary)`
    for (const into of [false, true]) {
      const targets: Uint8Array[] = []
      const rows = await copyOut(
        c,
        sql,
        into
          ? (row, len) => {
              if (row.length !== 1) return undefined
              const t = new Uint8Array(len)
              targets.push(t)
              return t
            }
          : undefined,
      )
      assert.equal(rows.length, sizes.length)
      rows.forEach((row, k) => {
        const i = k + 1
        assert.equal(Number(Buffer.from(row[0] as Uint8Array).readBigInt64BE(0)), i)
        assert.equal(Number(Buffer.from(row[2] as Uint8Array).readBigInt64BE(0)), sizes[k])
        if (i % 4 === 3) assert.equal(row[1], null)
        else {
          const d = row[1] as Uint8Array
          assert.equal(d.length, sizes[k])
          assert.ok(d.every((x) => x === i))
          if (into) assert.ok(targets.includes(d), 'the bytes landed in the target')
        }
      })
    }
  } finally {
    await c.end()
  }
})

test('a range faulted at once reads each block as of the snapshot (zeros, tombstones, later versions)', {
  skip,
}, async (t) => {
  const url = await postgres.location(t)
  const db = await openDatabase(url)
  t.after(() => db.close())
  const PS = 16 << 10
  const N = 64
  const w = db.connect({ ram: ram(N + 4, PS) })
  const f = await w.open('f', { create: { blksize: PS, size: N * PS } })
  const v = f.mmap(0, N)
  await v.fault(0, N * PS, { write: true })
  for (let pg = 0; pg < N; pg += 2) v.setFloat64(pg * PS, pg + 0.5)
  await w.commit() // tid 1: even pages written, odd never
  const r = ram(N + 4, PS)
  const reader = db.connect({ ram: r })
  await reader.sync()
  await f.resize(N * PS - 8 * PS) // tid 2: the last 8 blocks dropped (tombstones)
  await w.commit()
  await v.fault(0, 8 * PS, { write: true })
  for (let pg = 0; pg < 8; pg++) v.setFloat64(pg * PS, -pg)
  await w.commit() // tid 3: the first 8 pages rewritten
  const rv = (await reader.open('f')).mmap(0, N)
  reclaimAll(r)
  await rv.fault(0, N * PS)
  for (let pg = 0; pg < N; pg++)
    assert.equal(rv.getFloat64(pg * PS), pg % 2 ? 0 : pg + 0.5, `tid 1, page ${pg}`)
  await reader.sync()
  reclaimAll(r)
  await rv.fault(0, (N - 8) * PS)
  for (let pg = 0; pg < N - 8; pg++) {
    assert.equal(rv.getFloat64(pg * PS), pg < 8 ? -pg : pg % 2 ? 0 : pg + 0.5, `tid 3, page ${pg}`)
  }
  rv.unmap()
  reader.close()
  v.unmap()
})

test('readOnly on PostgreSQL: no schema is created, writes are EROFS, reads work', { skip }, async (t) => {
  const url = await postgres.location(t)
  await assert.rejects(openDatabase(url, { readOnly: true }), { code: 'ENOENT' })
  const db = await openDatabase(url)
  t.after(() => db.close())
  await db.createFile('f', { blksize: 4096 })
  const ro = await openDatabase(url, { readOnly: true })
  t.after(() => ro.close())
  assert.deepEqual(
    (await ro.files()).map((f) => f.name),
    ['f'],
  )
  await assert.rejects(ro.createFile('g', { blksize: 4096 }), { code: 'EROFS' })
  await assert.rejects(ro.pack(), { code: 'EROFS' })
})
