// Timed phases of the workload for `bigfile bench` and bench/wendelin.bench.ts: each phase reports its
// time and the process's peak RSS after it; a phase that ends in a typed error (the expected ENOMEM of
// scattered changes in a small budget) is a result, not a crash.
import type { BigArray } from '../array/index.ts'
import type { Connection } from '../db/connection.ts'
import { MemorySampler } from './memory.ts'
import { formatBytes, formatRate } from './size.ts'
import { randomChanges, randomReads, rng, scanSum } from './workload.ts'

export interface PhaseResult {
  phase: string
  ms: number
  /** The kernel's peak RSS of the process after this phase, in bytes. */
  maxRss: number
  note: string
  /** `CODE: message` of the typed error the phase ended in. */
  error?: string
}

/** Runs `fn` timed; a BigFileError-like error (with a string code) becomes the phase's result. */
export async function timePhase(phase: string, fn: () => Promise<string>): Promise<PhaseResult> {
  const t = performance.now()
  try {
    const note = await fn()
    return { phase, ms: performance.now() - t, maxRss: MemorySampler.maxRss(), note }
  } catch (e) {
    const code = (e as { code?: unknown }).code
    if (typeof code !== 'string' || code === 'EABORT') throw e
    const error = `${code}: ${(e as Error).message}`
    return { phase, ms: performance.now() - t, maxRss: MemorySampler.maxRss(), note: '', error }
  }
}

export interface ReadPhasesOptions {
  reads: number
  changes: number
  signal?: AbortSignal
  onProgress?: (done: number, total: number) => void
}

/** Sequential sum, random reads, random changes committed in one transaction (aborted on error). */
export async function readPhases(
  conn: Connection,
  a: BigArray,
  o: ReadPhasesOptions,
): Promise<PhaseResult[]> {
  const bytes = a.size * a.itemsize
  const out: PhaseResult[] = []
  let t = performance.now()
  out.push(
    await timePhase('sequential sum', async () => {
      t = performance.now()
      const s = await scanSum(a, { signal: o.signal, onProgress: o.onProgress })
      return `${formatRate(bytes, performance.now() - t)}, sum ${s}`
    }),
  )
  out.push(
    await timePhase(`${o.reads.toLocaleString('en-US')} random reads`, async () => {
      t = performance.now()
      await randomReads(a, o.reads, rng(7), { check: false, signal: o.signal })
      return `${(((performance.now() - t) * 1e3) / Math.max(1, o.reads)).toFixed(2)} µs/read`
    }),
  )
  const changes = await timePhase(
    `${o.changes.toLocaleString('en-US')} random changes + commit`,
    async () => {
      const { changed } = await randomChanges(conn, a, o.changes, rng(11), { signal: o.signal })
      const ps = conn.ram.pagesize
      const pages = new Set([...changed.keys()].map((i) => Math.floor((i * a.itemsize) / ps))).size
      return `${changed.size} elements in ${pages} pages (${formatBytes(pages * ps)} dirty)`
    },
  )
  if (changes.error) await conn.abort()
  out.push(changes)
  return out
}
