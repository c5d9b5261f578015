// The parent's side of fixtures/worker.ts: a child process running one Connection, called like an API.
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const WORKER = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url))

export interface RemoteError {
  name: string
  code?: string
  message: string
  file?: string
  blocks?: number[]
}

export class Peer {
  readonly child: ChildProcess
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>()
  #next = 1
  readonly ready: Promise<void>

  constructor() {
    this.child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let ready!: () => void
    this.ready = new Promise((r) => {
      ready = r
    })
    this.child.on('message', (m: { id: number; ok: boolean; value?: unknown; error?: RemoteError }) => {
      if (m.id === 0) return ready()
      const p = this.#pending.get(m.id)
      this.#pending.delete(m.id)
      if (m.ok) p?.resolve(m.value)
      else p?.reject(Object.assign(new Error(m.error?.message), m.error))
    })
    this.child.on('exit', () => {
      for (const p of this.#pending.values()) p.reject(new Error('worker exited'))
      this.#pending.clear()
    })
  }

  async call<T = unknown>(op: string, ...args: unknown[]): Promise<T> {
    await this.ready
    const id = this.#next++
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.child.send({ id, op, args })
    })
  }

  async exit(): Promise<void> {
    if (this.child.exitCode !== null) return
    const done = new Promise((r) => this.child.once('exit', r))
    await this.call('exit').catch(() => {})
    await done
  }
}
