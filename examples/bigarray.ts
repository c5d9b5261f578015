// BigArray in a database: create, fill, views, zarrita-style read()/write(), NumPy-style append of a
// nested list, dtype generics. Run: node --import ./scripts/bigfile-from-source.ts examples/bigarray.ts
// (or `node examples/bigarray.ts` after `npm run build`).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BigArray, openDatabase, RAM, slice } from 'bigfile'

const dir = mkdtempSync(join(tmpdir(), 'bigfile-example-'))
try {
  const ram = new RAM({ pagesize: 64 << 10, capacity: 32 << 20 }) // the RAM budget: 32 MiB
  await using db = await openDatabase(join(dir, 'arrays.bigfile'))
  const conn = db.connect({ ram })

  // 4 million float32 (16 MB); written pages stay in RAM until the commit, read pages come and go.
  const temps = await BigArray.create(conn, 'temps', { dtype: 'float32', shape: [1_000_000, 4] })
  await temps.fill(20)
  await temps.at(null, 3).fill(-5) // null: the whole axis, like NumPy's `:`
  temps.set2(0, 0, 21.5)
  console.log('sum', await temps.sum(), 'mean', await temps.mean())

  // A region into memory and back, the way zarrita's get/set do it.
  const head = await temps.at(slice(0, 2)).read()
  console.log('read', head.shape, head.stride, head.data) // Float32Array: BigArray<'float32'>
  await temps.at(slice(2, 4)).write({ data: head.data, shape: head.shape })

  // Append rows as NumPy reads a nested list (shape-checked: a ragged list is refused).
  await temps.append([
    [1, 2, 3, 4],
    [5, 6, 7, 8],
  ])
  console.log('shape after append', temps.shape)
  await conn.commit()

  // Reopened without a dtype it is a BigArray of any dtype; is() narrows it.
  const again = await BigArray.open(db.connect({ ram }), 'temps')
  if (again.is('float32')) {
    const last: number = again.get2(-1, -1)
    console.log('last element', last)
  }
  // A 64-bit dtype hands out bigints.
  const ids = await BigArray.create(conn, 'ids', { dtype: 'int64', shape: [3] })
  await ids.write([10n, 20n, 30n])
  const total: bigint = await ids.sum()
  console.log('ids sum', total)
  await conn.commit()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
