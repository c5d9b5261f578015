// `npm start`: a file several times bigger than the RAM budget, written, scanned and spot-checked
// through the virtual memory layer, with the budget never exceeded.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FileH, RAM, WriteoutFlags } from '../src/index.ts'
import { OSFileBigFile } from './file-bigfile.ts'

const MiB = 1 << 20
const dataBytes = Number(process.env.DEMO_DATA_MIB ?? 256) * MiB
const ramBytes = Number(process.env.DEMO_RAM_MIB ?? 32) * MiB
const pagesize = 256 << 10
const n = dataBytes / 8
const value = (i: number) => (i % 1000) * 0.5 // exactly representable: sums are exact

const dir = mkdtempSync(join(tmpdir(), 'bigfile-demo-'))
const t0 = performance.now()
const lap = (label: string, since: number) =>
  console.log(`${label.padEnd(34)} ${((performance.now() - since) / 1000).toFixed(2)} s`)
let peakRss = 0
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss))

try {
  using file = new OSFileBigFile(join(dir, 'data.bin'), pagesize, dataBytes)
  const ram = new RAM({ pagesize, capacity: ramBytes })
  using fh = new FileH(file, ram)
  const pages = dataBytes / pagesize
  const perPage = pagesize / 8
  const vma = fh.mmap(0, pages)
  console.log(
    `bigfile demo: ${dataBytes / MiB} MiB of float64 (${n.toLocaleString()} elements) through ${ramBytes / MiB} MiB of RAM` +
      ` (${ram.frames} frames of ${pagesize / 1024} KiB)`,
  )

  // 1. Fill page by page through pinned zero-copy views; write out whenever half the frames are dirty
  //    (dirty pages cannot be dropped, so a transaction bigger than RAM must be written out in steps).
  let t = performance.now()
  for (let pg = 0; pg < pages; pg++) {
    using pin = vma.pin(pg * pagesize, pagesize, { write: true })
    const f = pin.view(Float64Array)
    for (let j = 0, i = pg * perPage; j < perPage; j++, i++) f[j] = value(i)
    if (fh.dirtyPages().length >= ram.frames / 2) fh.writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED)
    sampleRss()
  }
  fh.writeout(WriteoutFlags.STORE | WriteoutFlags.MARKSTORED)
  lap('fill + writeout', t)

  // 2. Scan everything again: every page faults in from the file, clean pages are reclaimed.
  t = performance.now()
  let sum = 0
  for (let pg = 0; pg < pages; pg++) {
    using pin = vma.pin(pg * pagesize, pagesize)
    const f = pin.view(Float64Array)
    for (let j = 0; j < perPage; j++) sum += f[j]
    sampleRss()
  }
  let expected = 0
  for (let i = 0; i < 1000; i++) expected += value(i) * Math.floor(n / 1000)
  for (let i = 0; i < n % 1000; i++) expected += value(i)
  lap('sequential scan', t)
  console.log(`  sum ${sum} ${sum === expected ? '== formula' : `!= formula ${expected}`}`)

  // 3. Random single-element reads through the page table.
  t = performance.now()
  let bad = 0
  for (let k = 0; k < 100_000; k++) {
    const i = Math.floor(Math.random() * n)
    if (vma.getFloat64(i * 8) !== value(i)) bad++
  }
  sampleRss()
  lap('100,000 random reads', t)

  const s = ram.stats()
  const c = ram.counters
  console.log(
    `faults ${c.faults.toLocaleString()}, loads ${c.loads.toLocaleString()}, stores ${c.stores.toLocaleString()}, ` +
      `reclaimed ${c.reclaims.toLocaleString()} pages; RAM in use ${s.usedBytes / MiB} of ${s.capacity / MiB} MiB`,
  )
  console.log(
    `peak RSS ${(peakRss / MiB).toFixed(0)} MiB, total ${((performance.now() - t0) / 1000).toFixed(2)} s`,
  )
  vma.unmap()
  if (bad !== 0 || sum !== expected) {
    console.error(`demo FAILED: ${bad} wrong random reads`)
    process.exitCode = 1
  } else console.log('ok')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
