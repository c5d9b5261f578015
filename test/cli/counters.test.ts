// The counters line of demo and bench is generic: any numeric field shows, sizes as sizes.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatCounters, ramReport } from '../../src/cli/counters.ts'
import { RAM } from '../../src/virtmem/ram.ts'

test('every numeric field in its order, zeros left out, "bytes" fields as sizes', () => {
  const c = {
    faults: 12345,
    loads: 0,
    bytesLoaded: 3 << 20,
    spillReads: 7,
    spillFileBytes: 65536,
    label: 'x',
  }
  assert.equal(formatCounters(c), '12,345 faults, 3 MiB loaded, 7 spill reads, 64 KiB spill file')
  assert.equal(
    formatCounters(c, { zeros: true, omit: ['faults'] }),
    '0 loads, 3 MiB loaded, 7 spill reads, 64 KiB spill file',
  )
  assert.equal(formatCounters({}), '')
})

test('ramReport: the RAM counters, and stats fields beyond the budget settings', () => {
  const ram = new RAM({ pagesize: 4096, capacity: 64 * 4096 })
  ram.counters.loads = 3
  ram.counters.bytesLoaded = 3 * 4096
  const [pages, budget] = ramReport(ram)
  assert.equal(pages, 'pages: 3 loads, 12 KiB loaded')
  assert.match(budget, /^RAM budget 256 KiB \(0 B in use at the end\)/)
  // A counter another part adds later (here: to the stats) appears without an edit to the printer.
  const later = { counters: ram.counters, stats: () => ({ ...ram.stats(), waits: 2, bytesWaitedFor: 8192 }) }
  assert.match(ramReport(later)[1], /; 2 waits, 8 KiB waited for$/)
})
