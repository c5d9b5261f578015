import assert from 'node:assert/strict'
import { openDatabase } from '../../src/db/index.ts'
import { faulted, storageTest } from '../helpers/storages.ts'
import { PS } from './helpers.ts'
import { Peer } from './peer.ts'

storageTest('two processes: isolation, conflict, invalidation on one database', async (t, s) => {
  const path = await s.location(t)
  const a = new Peer()
  const b = new Peer()
  t.after(() => Promise.all([a.exit(), b.exit()]))
  await a.call('open', path, PS)
  await a.call('create', 'f', PS)
  await a.call('write', 'f', 0, 1)
  await a.call('write', 'f', PS, 1)
  await a.call('commit')

  // isolation: b reads 1; a writes 2 and commits; b still reads 1 after reclaim; after sync 2
  await b.call('open', path, PS)
  assert.equal(await b.call('read', 'f', 0), 1)
  assert.equal(await b.call('read', 'f', PS), 1)
  await a.call('write', 'f', 0, 2)
  await a.call('commit')
  assert.equal(await b.call('reclaim'), 0)
  assert.equal(await b.call('read', 'f', 0), 1)
  assert.equal(await b.call('read', 'f', PS), 1)
  await b.call('sync')
  assert.equal(await b.call('read', 'f', 0), 2)
  assert.equal(await b.call('read', 'f', PS), 1)

  // conflict: both write block 0; a commits first; b loses, aborts, reads a's value, commits
  await a.call('write', 'f', 0, 3)
  await b.call('write', 'f', 0, 4)
  await a.call('commit')
  await assert.rejects(b.call('commit'), (e: { code?: string; file?: string; blocks?: number[] }) => {
    assert.equal(e.code, 'ECONFLICT')
    assert.equal(e.file, 'f')
    assert.deepEqual(e.blocks, [0])
    return true
  })
  await b.call('abort')
  assert.equal(await b.call('read', 'f', 0), 3)
  await b.call('write', 'f', 0, 5)
  await b.call('commit')
  assert.equal(await a.call('read', 'f', 0), 3)
  await a.call('sync')
  assert.equal(await a.call('read', 'f', 0), 5)

  // and the parent, a third process, agrees
  const db = await openDatabase(path)
  const { RAM } = await import('../../src/virtmem/ram.ts')
  const conn = db.connect({ ram: new RAM({ capacity: 8 * PS }) })
  const v = (await conn.open('f')).mmap(0, 2)
  assert.equal((await faulted(v, 0)).getFloat64(0), 5)
  assert.equal((await faulted(v, PS)).getFloat64(PS), 1)
  v.unmap()
  await db.close()
})

storageTest('two processes committing disjoint blocks concurrently never lose a commit', async (t, s) => {
  const path = await s.location(t)
  const a = new Peer()
  const b = new Peer()
  t.after(() => Promise.all([a.exit(), b.exit()]))
  await a.call('open', path, PS)
  await a.call('create', 'f', PS)
  await a.call('commit')
  await b.call('open', path, PS)
  await b.call('sync')
  const rounds = 15
  await Promise.all(
    [a, b].map(async (p, k) => {
      for (let i = 1; i <= rounds; i++) {
        await p.call('write', 'f', k * PS, i)
        await p.call('commit')
      }
    }),
  )
  await a.call('sync')
  assert.equal(await a.call('read', 'f', 0), rounds)
  assert.equal(await a.call('read', 'f', PS), rounds)
})
