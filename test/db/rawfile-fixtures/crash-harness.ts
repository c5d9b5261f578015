// The parent side of the crash tests, shared by the test suite and the soak script: spawn a committing
// child, SIGKILL it (at a random point of a commit once it acknowledged some, or of its start; or have it
// kill itself at a chosen I/O operation), reopen, and check the file is exactly the state after some
// commit: the last one acknowledged or the one in flight.
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { openRawFile, type Recovery } from '../../../src/db/rawfile/index.ts'
import { RAM } from '../../../src/index.ts'
import { applyCommit, BLKSIZE, BLOCKS, initialState, LENGTH, OFFSET } from './crash-model.ts'
import { blockDiff, rng, sha256 } from './util.ts'

const CHILD = fileURLToPath(new URL('./crash-child.ts', import.meta.url))

export interface ChildRun {
  lines: string[]
  /** Commits the child acknowledged. */
  acked: number[]
  /** `ms`: how long after its process started the child was ready. */
  ready: { recovery: string; sha: string; ms: number } | undefined
  signal: NodeJS.Signals | null
  code: number | null
  ops: { count: number; kinds: string[] } | undefined
}

export interface ChildArgs {
  path: string
  from: number
  seed: number
  commits?: number
  crashAt?: number
  torn?: boolean
  small?: boolean
}

/**
 * When to SIGKILL the child, `at` in [0, 1) of the way: `{ acks }` within the commit after the `acks`-th
 * acknowledged one (judged by how long that one took); `{ startupMs }` within its start, `startupMs` being
 * how long a start took before. Positions, not wall-clock deadlines: the counts hold on any machine.
 */
export type KillPlan = { acks: number; at: number } | { startupMs: number; at: number }

/** Runs a child, killing it as `kill` says (else it runs to its end or its own crash point). */
export function runChild(args: ChildArgs, kill?: KillPlan) {
  const child = spawn(process.execPath, [CHILD, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let timer: NodeJS.Timeout | undefined
  const killIn = (ms: number) => {
    timer = setTimeout(() => child.kill('SIGKILL'), ms)
  }
  if (kill && 'startupMs' in kill) killIn(kill.at * kill.startupMs)
  let parsed = 0
  let acks = 0
  child.stdout.setEncoding('utf8')
  child.stderr.setEncoding('utf8')
  child.stdout.on('data', (d: string) => {
    out += d
    const lines = out.split('\n').slice(0, -1)
    for (; parsed < lines.length; parsed++) {
      const [first, ms] = lines[parsed].split(' ')
      if (!/^\d+$/.test(first) || !kill || !('acks' in kill) || ++acks !== kill.acks) continue
      killIn(kill.at * Number(ms))
    }
  })
  child.stderr.on('data', (d: string) => (err += d))
  return new Promise<ChildRun>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      // A line cut by the kill is not an acknowledgement.
      const lines = out.split('\n').slice(0, -1)
      if (signal === null && code !== 0) reject(new Error(`crash child failed (exit ${code}): ${err}`))
      const readyLine = lines.find((l) => l.startsWith('ready '))?.split(' ')
      const acks = lines.filter((l) => /^\d+( |$)/.test(l))
      const opsLine = lines.find((l) => l.startsWith('ops '))?.split(' ')
      resolve({
        lines,
        acked: acks.map((l) => Number(l.split(' ')[0])),
        ready: readyLine
          ? { recovery: readyLine[1], sha: readyLine[2], ms: Number(readyLine[3]) }
          : undefined,
        signal,
        code,
        ops: opsLine
          ? { count: Number(opsLine[1]), kinds: (opsLine[2] ?? '').split(',').filter(Boolean) }
          : undefined,
      })
    })
  })
}

/**
 * The states a file may be in: S[m] (all acknowledged commits) or S[m+1] (the one in flight, if its
 * journal was durable). Commits are idempotent, so the next child always starts at m + 1.
 */
export class History {
  readonly seed: number
  readonly small: boolean
  m = 0
  #cur: Uint8Array
  #next: Uint8Array

  constructor(seed: number, small = false) {
    this.seed = seed
    this.small = small
    this.#cur = initialState(seed)
    this.#next = applyCommit(this.#cur, seed, 1, small)
  }

  get initial(): Uint8Array {
    return initialState(this.seed)
  }

  /** Commits up to k were acknowledged. */
  ack(k: number): void {
    while (this.m < k) this.#advance()
  }

  #advance(): void {
    this.m++
    this.#cur = this.#next
    this.#next = applyCommit(this.#cur, this.seed, this.m + 1, this.small)
  }

  /** Which of S[m], S[m+1] the bytes are (then moves to it), or throws naming the blocks that differ. */
  settle(bytes: Uint8Array, where: string): 'old' | 'new' {
    const h = sha256(bytes)
    if (h === sha256(this.#cur)) return 'old'
    if (h === sha256(this.#next)) {
      this.#advance()
      return 'new'
    }
    throw new Error(
      `${where}: the file is neither the state after commit ${this.m} nor after ${this.m + 1}; ` +
        `blocks differing from ${this.m}: ${blockDiff(bytes, this.#cur, BLKSIZE, OFFSET)}, ` +
        `from ${this.m + 1}: ${blockDiff(bytes, this.#next, BLKSIZE, OFFSET)}`,
    )
  }

  /** Like settle, for a checksum reported by a child. */
  settleSha(sha: string, where: string): 'old' | 'new' {
    if (sha === sha256(this.#cur)) return 'old'
    if (sha === sha256(this.#next)) {
      this.#advance()
      return 'new'
    }
    throw new Error(`${where}: the child recovered to neither commit ${this.m} nor ${this.m + 1}`)
  }
}

/** Reopens (recovering) through the VM, in mode 'r' or 'rw', and returns the whole file's bytes as seen. */
export function reopen(path: string, mode: 'r' | 'rw'): { bytes: Uint8Array; recovery: Recovery } {
  const ram = new RAM({ pagesize: BLKSIZE, capacity: (BLOCKS / 2 + 2) * BLKSIZE })
  using rf = openRawFile(path, { ram, mode, offset: OFFSET, blksize: BLKSIZE })
  const header = new Uint8Array(readFileSync(path)).subarray(0, OFFSET)
  const bytes = new Uint8Array(OFFSET + LENGTH)
  bytes.set(header)
  rf.mmap().readBytes(0, bytes.subarray(OFFSET))
  // What the VM shows is what the file holds.
  if (sha256(bytes) !== sha256(readFileSync(path))) throw new Error('the VM and the file disagree')
  return { bytes, recovery: rf.recovery }
}

export interface TrialStats {
  trials: number
  commits: number
  /** Trials aimed at the child's start rather than at a commit. */
  startupKills: number
  killedBeforeReady: number
  /** Kills that left a non-empty journal (a commit in flight). */
  journalLeft: number
  recoveries: Record<string, number>
  /** The in-flight commit turned out durable though never acknowledged. */
  unackedDurable: number
}

/**
 * Random-point SIGKILL trials on one file: mostly within the commit after 1 to 3 acknowledged ones,
 * sometimes within the child's start (its recovery). Each trial's check is, at random: a writer reopen
 * here, a reader reopen here (a reader recovers when no writer lives), or none (the next child recovers
 * and reports the checksum of what it recovered to).
 */
export async function randomKillTrials(
  path: string,
  options: {
    trials: number
    seed: number
    onTrial?: (i: number, s: TrialStats) => void
  },
): Promise<TrialStats> {
  const { trials, seed } = options
  const hist = new History(seed)
  writeFileSync(path, hist.initial)
  const r = rng(seed)
  const stats: TrialStats = {
    trials: 0,
    commits: 0,
    startupKills: 0,
    killedBeforeReady: 0,
    journalLeft: 0,
    recoveries: {},
    unackedDurable: 0,
  }
  const count = (rec: string) => (stats.recoveries[rec] = (stats.recoveries[rec] ?? 0) + 1)
  let startupMs: number | undefined
  for (let i = 0; i < trials; i++) {
    const early = r() < 0.15 && startupMs !== undefined
    const acks = 1 + Math.floor(r() * 3)
    const at = r()
    const run = await runChild(
      { path, from: hist.m + 1, seed },
      early ? { startupMs: startupMs!, at } : { acks, at },
    )
    const where = `trial ${i} (seed ${seed})`
    if (run.signal !== 'SIGKILL') throw new Error(`${where}: the child was not killed: ${run.lines.at(-1)}`)
    if (early) stats.startupKills++
    else if (run.acked.length < acks)
      throw new Error(`${where}: killed after ${run.acked.length} of ${acks} commits`)
    if (run.ready) startupMs = run.ready.ms
    if (run.ready) {
      hist.settleSha(run.ready.sha, `${where}, child recovery`)
      count(`child:${run.ready.recovery}`)
    } else stats.killedBeforeReady++
    if (run.acked.length > 0) hist.ack(run.acked.at(-1)!)
    stats.commits += run.acked.length
    const jpath = `${path}.bigfile-journal`
    if (existsSync(jpath) && statSync(jpath).size > 0) stats.journalLeft++
    const check = r()
    if (check < 0.7) {
      const mode = check < 0.35 ? 'rw' : 'r'
      const seen = reopen(path, mode)
      if (hist.settle(seen.bytes, `${where}, ${mode} reopen`) === 'new') stats.unackedDurable++
      count(`${mode}:${seen.recovery}`)
    }
    stats.trials++
    options.onTrial?.(i, stats)
  }
  // Whatever the last trial left, a final reopen shows a committed state.
  hist.settle(reopen(path, 'rw').bytes, 'final reopen')
  return stats
}

export interface PointStats {
  points: number
  torn: number
  recoveryPoints: number
  outcomes: Record<string, number>
}

/**
 * Deterministic crash points: the child kills itself before each write-like operation of two commits
 * (and again with that write torn in half), then before each operation of recovering a crashed commit.
 */
export async function crashPointTrials(dir: string, seed: number): Promise<PointStats> {
  const stats: PointStats = { points: 0, torn: 0, recoveryPoints: 0, outcomes: {} }
  const hist0 = new History(seed, true)
  const fresh = (p: string) => writeFileSync(p, hist0.initial)
  const path = `${dir}/points.bin`
  fresh(path)
  const dry = await runChild({ path, from: 1, seed, small: true, commits: 2, crashAt: 0 })
  const ops = dry.ops
  if (!ops) throw new Error('the dry run reported no operations')
  let saved: string | undefined
  for (let n = 1; n <= ops.count; n++) {
    for (const torn of ops.kinds[n - 1] === 'write' ? [false, true] : [false]) {
      fresh(path)
      const run = await runChild({ path, from: 1, seed, small: true, commits: 2, crashAt: n, torn })
      const where = `crash point ${n} (${ops.kinds[n - 1]}${torn ? ', torn' : ''})`
      if (run.signal !== 'SIGKILL') throw new Error(`${where}: the child did not crash`)
      const hist = new History(seed, true)
      if (run.acked.length) hist.ack(run.acked.at(-1)!)
      const jpath = `${path}.bigfile-journal`
      if (!saved && existsSync(jpath) && statSync(jpath).size > 0 && hist.m === 0) {
        // Keep one crash with a journal on disk, to crash its recovery in turn below.
        saved = `${dir}/crashed.bin`
        copyFileSync(path, saved)
        copyFileSync(jpath, `${saved}.bigfile-journal`)
      }
      const { bytes, recovery } = reopen(path, n % 2 ? 'rw' : 'r')
      const o = `${hist.m}+${hist.settle(bytes, where)}:${recovery}`
      stats.outcomes[o] = (stats.outcomes[o] ?? 0) + 1
      stats.points++
      if (torn) stats.torn++
    }
  }
  if (!saved) throw new Error('no crash point left a journal behind')
  // Crash the recovery itself at each of its operations: the journal must survive until it is applied.
  const rpath = `${dir}/recover.bin`
  const restore = () => {
    copyFileSync(saved, rpath)
    copyFileSync(`${saved}.bigfile-journal`, `${rpath}.bigfile-journal`)
  }
  restore()
  const rdry = await runChild({ path: rpath, from: 1, seed, small: true, commits: 0, crashAt: 0 })
  for (let n = 1; n <= rdry.ops!.count; n++) {
    restore()
    const run = await runChild({
      path: rpath,
      from: 1,
      seed,
      small: true,
      commits: 0,
      crashAt: n,
      torn: true,
    })
    if (run.signal !== 'SIGKILL') throw new Error(`recovery crash point ${n}: the child did not crash`)
    const hist = new History(seed, true)
    const { bytes } = reopen(rpath, 'rw')
    // The saved crash had a durable journal or a torn one: either way a reopen settles it for good.
    hist.settle(bytes, `recovery crash point ${n} (${rdry.ops!.kinds[n - 1]})`)
    stats.recoveryPoints++
  }
  return stats
}
