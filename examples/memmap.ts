// numpy.memmap for Node: an existing raw binary file and an .npy file opened in place as BigArrays,
// changed, and committed through the raw file's journal (a crash leaves the old or the new content).
// Run: node --import ./scripts/bigfile-from-source.ts examples/memmap.ts
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { memmap, npyHeader, openNpy, RAM } from 'bigfile'

const dir = mkdtempSync(join(tmpdir(), 'bigfile-example-'))
try {
  const ram = new RAM({ pagesize: 64 << 10, capacity: 4 << 20 })

  // A raw file of 100,001 float64 (800,008 bytes: not a multiple of the 64 KiB block size).
  const raw = join(dir, 'samples.f8')
  writeFileSync(raw, new Float64Array(100_001).fill(1.5))
  {
    using a = memmap(raw, { ram, dtype: 'float64', mode: 'rw' }) // shape implied by the file size
    console.log('raw', a.shape, 'sum', await a.sum())
    a.set1(-1, 99)
    a.commit() // durable, all or nothing
  } // closed here
  console.log('last value on disk', readFileSync(raw).readDoubleLE(100_000 * 8))

  // An .npy file (as numpy.save writes it): dtype, shape and order come from its header.
  const npy = join(dir, 'image.npy')
  const pixels = Uint8Array.from({ length: 480 * 640 }, (_, i) => i % 256)
  writeFileSync(npy, Buffer.concat([npyHeader('uint8', [480, 640]), pixels]))
  {
    using img = openNpy(npy, { ram, mode: 'rw' })
    console.log('npy', img.dtype, img.shape, 'max', await img.max())
    await img.at(0).fill(255) // the first row
    img.commit()
  }
  using check = openNpy(npy, { ram }) // read-only: commit would be ReadOnlyError (EROFS)
  console.log('first row now', await check.at(0).min(), 'second row max', await check.at(1).max())
} finally {
  rmSync(dir, { recursive: true, force: true })
}
