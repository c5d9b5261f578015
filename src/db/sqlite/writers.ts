// The write lock of an SQLite database without freezing the process. Two steps:
// - in this process, one FIFO queue per database file (keyed by its device and inode, so two
//   openDatabase() of one file share it whatever path they used): a writer waits for its turn in JS;
// - across processes, SQLite's own lock, tried with busy_timeout 0 and retried on timers with backoff
//   up to the deadline, so timers and I/O keep running while another process commits.
import { ClosedError } from '../../errors.ts'

interface Waiter {
  readonly owner: object
  readonly go: () => void
  readonly fail: (e: unknown) => void
}

/** The writers of one database file in this process: who has the turn, who waits. */
export class WriterQueue {
  readonly key: string
  busy = false
  readonly waiters: Waiter[] = []
  users = 0

  constructor(key: string) {
    this.key = key
  }

  /** Takes the turn now (true) or returns a Promise resolved when `owner` has it (FIFO). */
  take(owner: object): true | Promise<void> {
    if (!this.busy) {
      this.busy = true
      return true
    }
    return new Promise<void>((go, fail) => this.waiters.push({ owner, go, fail }))
  }

  /** Ends the turn: the next waiter has it at once (no barging by a newcomer). */
  release(): void {
    const next = this.waiters.shift()
    if (next) next.go()
    else this.busy = false
  }

  /** The waiters of `owner` (a storage that closes) fail with ClosedError; the others keep their place. */
  dropOwner(owner: object): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]
      if (w.owner !== owner) continue
      this.waiters.splice(i, 1)
      w.fail(new ClosedError('database is closed'))
    }
  }
}

const queues = new Map<string, WriterQueue>()

/** The queue of the file `key` (`dev:ino`), shared by every storage of this process on that file. */
export function joinQueue(key: string): WriterQueue {
  let q = queues.get(key)
  if (!q) queues.set(key, (q = new WriterQueue(key)))
  q.users++
  return q
}

/** Whether a storage of this process has the file `key` open. */
export function hasQueue(key: string): boolean {
  return queues.has(key)
}

export function leaveQueue(q: WriterQueue): void {
  if (--q.users === 0 && queues.get(q.key) === q) queues.delete(q.key)
}

/** The delay before retry number `n` (0, 1, ...) of a busy lock: 1 ms doubling to 50 ms, with jitter. */
export function backoff(n: number): number {
  const base = Math.min(50, 2 ** n)
  return base / 2 + Math.random() * (base / 2)
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
