// Pushed invalidation on PostgreSQL: every commit NOTIFYs its tid, every Database LISTENs. Separate
// OS processes stand for separate machines.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { openDatabase } from '../../src/db/index.ts'
import type { PostgresStorage } from '../../src/db/postgres/storage.ts'
import { faulted, pgServer, postgres, postgresEnabled } from '../helpers/storages.ts'
import { PS, ram } from './helpers.ts'
import { Peer } from './peer.ts'

const skip = !postgresEnabled && 'BIGFILE_TEST_POSTGRES=0'

test('another process hears a commit at once; its snapshot moves at its boundary, reloading exactly the changed pages', {
  skip,
}, async (t) => {
  const url = await postgres.location(t)
  const a = new Peer()
  const b = new Peer()
  t.after(() => Promise.all([a.exit(), b.exit()]))
  await a.call('open', url, PS)
  await a.call('create', 'f', PS)
  for (let pg = 0; pg < 4; pg++) await a.call('write', 'f', pg * PS, 1)
  assert.equal(await a.call('commit'), 1)
  await b.call('open', url, PS)
  await b.call('listen')
  for (let pg = 0; pg < 4; pg++) assert.equal(await b.call('read', 'f', pg * PS), 1)
  // 0 and 1 alone, 2 and 3 in one window; 3, the first page read ahead, started the next window
  // (4..7, past the file's end: zeros) in the background, the storage being asynchronous
  assert.equal(await b.call('loads'), 8)

  const latencies: number[] = []
  for (let round = 2; round <= 6; round++) {
    await a.call('write', 'f', PS, round)
    await a.call('write', 'f', 3 * PS, round)
    const sent = await a.call<number>('timedCommit')
    // b does nothing: the server pushes the commit to it
    const heard = await b.call<number>('heard', round)
    latencies.push(heard - sent)
    // ... but b's snapshot stays where it was until its own boundary
    assert.equal(await b.call('at'), round - 1)
    assert.equal(await b.call('read', 'f', PS), round - 1)
    const before = await b.call<number>('loads')
    await b.call('sync')
    assert.equal(await b.call('at'), round)
    for (let pg = 0; pg < 4; pg++) assert.equal(await b.call('read', 'f', pg * PS), pg % 2 ? round : 1)
    assert.equal((await b.call<number>('loads')) - before, 2, 'exactly the two changed pages reload')
  }
  assert.deepEqual(await b.call('heardTids'), [2, 3, 4, 5, 6], 'each commit heard once, in order')
  latencies.sort((x, y) => x - y)
  t.diagnostic(
    `commit start in A -> notification in B: median ${latencies[2].toFixed(2)} ms (min ${latencies[0].toFixed(2)}, max ${latencies[4].toFixed(2)})`,
  )
})

test('a LISTEN connection that loses its backend reconnects and reads the commits it missed from the log', {
  skip,
}, async (t) => {
  const server = await pgServer()
  const url = await postgres.location(t)
  const dbname = new URL(url).pathname.slice(1)
  const writer = await openDatabase(url)
  const reader = await openDatabase(url)
  t.after(async () => {
    await server.admin(`ALTER DATABASE ${dbname} ALLOW_CONNECTIONS true`)
    await writer.close()
    await reader.close()
  })
  const heard: number[] = []
  reader.on('commit', (tid) => heard.push(tid))
  const conn = writer.connect({ ram: ram() })
  const f = await conn.open('f', { create: { blksize: PS } })
  const v = f.mmap(0, 1)
  const commit = async (x: number) => {
    ;(await faulted(v, 0)).setFloat64(0, x)
    return conn.commit()
  }
  await commit(1)
  await waitFor(() => heard.includes(1))
  const listener = (reader.storage as PostgresStorage).listener
  assert.ok(listener)
  const connects = listener.connects
  // Nobody may connect while the listener is down, so the commits below cannot be heard live; the
  // writer commits on its pool's open connection.
  await server.admin(`ALTER DATABASE ${dbname} ALLOW_CONNECTIONS false`)
  assert.equal(await server.terminate(dbname, `pid = ${listener.pid}`), 1)
  await commit(2)
  await commit(3)
  await new Promise((r) => setTimeout(r, 100))
  assert.deepEqual(heard, [1], 'nothing heard while disconnected')
  await server.admin(`ALTER DATABASE ${dbname} ALLOW_CONNECTIONS true`)
  await waitFor(() => heard.length === 3)
  assert.deepEqual(heard, [1, 2, 3], 'the missed commits, once each, in order')
  assert.equal(listener.connects, connects + 1)
  await commit(4)
  await waitFor(() => heard.length === 4)
  assert.deepEqual(heard, [1, 2, 3, 4])
  v.unmap()
})

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await new Promise((r) => setTimeout(r, 5))
  }
}
