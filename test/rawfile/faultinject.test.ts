// Fault injection: for every k, a scenario whose k-th read, or k-th write-like operation (write, fsync,
// truncate, unlink, directory fsync), fails. Whatever fails: a typed error; the file on disk and what
// the VM shows are some committed state, never a mix; abort (or a retried commit) recovers; no frame is
// leaked and the lock is released by close.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { BigFileError, LoadError, RAM, StorageError } from '../../src/index.ts'
import { nodeIO, openRawFile, type RawFile } from '../../src/rawfile/index.ts'
import { JournalWriter } from '../../src/rawfile/journal-writer.ts'
import { FaultIO } from './fixtures/fault-io.ts'
import { pattern, sha256, tempDir } from './fixtures/util.ts'

const PS = 4096
const OFFSET = 16
const BLOCKS = 8

/** The states after 0, 1, 2 commits of the scenario. */
function states(): Uint8Array[] {
  const s0 = pattern(OFFSET + BLOCKS * PS, 7)
  const s1 = s0.slice()
  for (const [blk, seed] of WRITES1) s1.set(pattern(PS, seed), OFFSET + blk * PS)
  const s2 = s1.slice()
  s2.set(pattern(100, 99), OFFSET + 2 * PS + 5)
  return [s0, s1, s2]
}
const WRITES1: [number, number][] = [
  [1, 11],
  [3, 13],
  [6, 16],
]

type Recover = 'abort' | 'retry'

interface Config {
  name: string
  blksize: number
  /** Page frames: fewer than BLOCKS makes loads happen again, and commits load blocks' other pages. */
  frames: number
  /** Start with a valid journal left by a crashed commit whose result is S[0]: open must replay it. */
  preJournal: boolean
}
const CONFIGS: Config[] = [
  { name: 'blksize = pagesize, all resident', blksize: PS, frames: BLOCKS, preJournal: false },
  { name: 'blksize = 2 pages, 4 frames, a journal to replay', blksize: 2 * PS, frames: 4, preJournal: true },
]

/** Writes S0 with blocks 0 and 5 zeroed, plus the journal that restores them (a commit crashed mid-apply). */
function crashedCommit(path: string, s0: Uint8Array): void {
  const torn = s0.slice()
  torn.fill(0, OFFSET, OFFSET + PS)
  torn.fill(0, OFFSET + 5 * PS, OFFSET + 6 * PS)
  writeFileSync(path, torn)
  const jpath = `${path}.bigfile-journal`
  const fd = nodeIO.open(jpath, 'create')
  const w = new JournalWriter(nodeIO, fd)
  w.begin(s0.length)
  w.add(OFFSET, s0.subarray(OFFSET, OFFSET + PS))
  w.add(OFFSET + 5 * PS, s0.subarray(OFFSET + 5 * PS, OFFSET + 6 * PS))
  w.finish()
  nodeIO.close(fd)
}

/**
 * open → read everything → write 3 blocks → commit → write part of a block → commit → close. Returns the
 * step that failed, or null, with the RawFile left open after a failure.
 */
function scenario(path: string, ram: RAM, io: FaultIO, blksize: number) {
  let commits = 0
  let rf: RawFile | undefined
  const step = (name: string, f: () => void): string | null => {
    try {
      f()
      return null
    } catch (e) {
      assertTyped(e, name)
      return name
    }
  }
  let failed = step('open', () => {
    rf = openRawFile(path, { ram, mode: 'rw', offset: OFFSET, io, blksize })
  })
  if (failed) return { failed, commits, rf }
  const vma = rf!.mmap()
  const r = rf!
  failed =
    step('read', () => vma.readBytes(0, new Uint8Array(BLOCKS * PS))) ??
    step('write1', () => {
      for (const [blk, seed] of WRITES1) vma.writeBytes(blk * PS, pattern(PS, seed))
    }) ??
    step('commit1', () => {
      r.commit()
      commits++
    }) ??
    step('write2', () => vma.writeBytes(2 * PS + 5, pattern(100, 99))) ??
    step('commit2', () => {
      r.commit()
      commits++
    })
  if (failed) return { failed, commits, rf, vma }
  vma.unmap()
  failed = step('close', () => r.close())
  return { failed, commits, rf: failed ? rf : undefined }
}

function assertTyped(e: unknown, step: string): void {
  assert.ok(e instanceof BigFileError, `${step}: untyped error ${e}`)
  // I/O failures are StorageError, or LoadError wrapping one when a page fault hit them.
  const storage = e instanceof LoadError ? e.cause : e
  assert.ok(storage instanceof StorageError, `${step}: ${e.name} ${e.message}`)
  assert.equal((storage.cause as { code?: string }).code, 'EIO')
  assert.match(storage.message, /injected failure/)
}

function run(kind: 'read' | 'write', k: number, how: Recover, S: Uint8Array[], cfg: Config) {
  using tmp = tempDir()
  const path = tmp.path('data.bin')
  if (cfg.preJournal) crashedCommit(path, S[0])
  else writeFileSync(path, S[0])
  const ram = new RAM({ pagesize: PS, capacity: (cfg.frames + 2) * PS })
  const io = new FaultIO()
  if (kind === 'read') io.failRead = k
  else io.failWrite = k
  const { failed, commits, rf, vma } = scenario(path, ram, io, cfg.blksize)
  if (!failed) {
    // Not every failure is an error: a spent journal that cannot be truncated is harmless.
    assert.deepEqual(new Uint8Array(readFileSync(path)), S[2])
    assert.equal(ram.stats().used, 0)
    openRawFile(path, { ram, mode: 'rw', offset: OFFSET, blksize: cfg.blksize }).close()
    return { injected: io.injected > 0, failed: 'none (swallowed)' }
  }
  assert.equal(io.injected, 1)
  const inCommit = failed.startsWith('commit') || failed === 'close'
  const allowed = inCommit ? [S[commits], S[commits + 1]] : [S[commits]]
  if (rf && !rf.closed) {
    if (how === 'retry' && failed.startsWith('commit')) {
      rf.commit()
      assert.deepEqual(new Uint8Array(readFileSync(path)), S[commits + 1], `${kind} ${k}: retried commit`)
    } else {
      rf.abort()
    }
    assert.deepEqual(rf.fileh.dirtyPages(), [])
    assert.equal(rf.needsRecovery, false)
    // What the VM shows now is exactly the file, and the file is one of the allowed states.
    const disk = new Uint8Array(readFileSync(path))
    const shown = vma?.readBytes(0, new Uint8Array(BLOCKS * PS))
    assert.ok(
      allowed.some((s) => sha256(s) === sha256(disk)),
      `${kind} ${k} (${failed}): the file is no committed state`,
    )
    if (shown) assert.deepEqual(shown, disk.subarray(OFFSET))
    assert.equal(ram.stats().used, rf.fileh.residentPages().length, 'frames leaked')
    vma?.unmap()
    rf.close()
  }
  assert.equal(ram.stats().used, 0, 'frames leaked after close')
  // The lock is free and a fresh open (recovering whatever is left) shows an allowed state.
  const again = openRawFile(path, { ram, mode: 'rw', offset: OFFSET, blksize: cfg.blksize })
  const v = again.mmap()
  const got = v.readBytes(0, new Uint8Array(BLOCKS * PS))
  assert.ok(
    allowed.some((s) => sha256(s.subarray(OFFSET)) === sha256(got)),
    `${kind} ${k} (${failed}): reopen shows no committed state`,
  )
  assert.deepEqual(
    new Uint8Array(readFileSync(path)).subarray(0, OFFSET),
    S[0].subarray(0, OFFSET),
    'header touched',
  )
  v.unmap()
  again.close()
  return { injected: true, failed }
}

describe('fault injection', () => {
  const S = states()
  for (const cfg of CONFIGS) {
    for (const kind of ['read', 'write'] as const) {
      test(`${cfg.name}: every ${kind} of open / load / commit / close fails once, in turn`, (t) => {
        const seen = new Map<string, number>()
        let k = 1
        for (; ; k++) {
          const a = run(kind, k, 'abort', S, cfg)
          if (!a.injected) break
          seen.set(a.failed!, (seen.get(a.failed!) ?? 0) + 1)
          run(kind, k, 'retry', S, cfg)
        }
        t.diagnostic(`${k - 1} failure points: ${[...seen].map(([s, n]) => `${s} ${n}`).join(', ')}`)
        // The scenario really has failure points in each phase that does that kind of I/O.
        const want =
          kind === 'write'
            ? ['open', 'commit1', 'commit2', 'close']
            : cfg.preJournal
              ? ['open', 'read', 'commit1']
              : ['read']
        for (const s of want) assert.ok(seen.has(s), `no ${kind} failure in ${s}: ${[...seen.keys()]}`)
      })
    }
  }
})
