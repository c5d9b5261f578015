// The one LISTEN connection of a PostgreSQL storage: every commit NOTIFYs its tid; this connection
// hears it and tells the subscribers. Notifications sent while it is disconnected are lost, so after
// a reconnect it re-reads the commit log from the last tid it saw.
import type { Client, ClientConfig } from 'pg'
import type { Tid } from '../storage.ts'
import type { PG } from './storage.ts'

export interface ListenerHooks {
  /** Tids committed after `after`, ascending (the head when pack removed the log in between). */
  since(after: Tid): Promise<Tid[]>
  /** A new tid, in commit order, each once. */
  emit(tid: Tid): void
  /** A connection or reconnection failure (reported, then retried). */
  error(e: unknown): void
}

const MIN_BACKOFF_MS = 20
const MAX_BACKOFF_MS = 2000

export class Listener {
  readonly #pg: PG
  readonly #config: ClientConfig
  readonly #channel: string
  readonly #hooks: ListenerHooks
  #client: Client | undefined
  #last: Tid
  #closed = false
  #backoff = MIN_BACKOFF_MS
  #timer: NodeJS.Timeout | undefined
  /** How many times the connection was (re)established; tests wait on it. */
  connects = 0

  constructor(pg: PG, config: ClientConfig, channel: string, last: Tid, hooks: ListenerHooks) {
    this.#pg = pg
    this.#config = config
    this.#channel = channel
    this.#last = last
    this.#hooks = hooks
  }

  /** The newest tid heard of. */
  get last(): Tid {
    return this.#last
  }

  /** The backend pid of the listening connection (for tests that terminate it), if connected. */
  get pid(): number | undefined {
    return (this.#client as unknown as { processID?: number } | undefined)?.processID
  }

  /** Connects and LISTENs; rejects when the first connection fails (later ones are retried). */
  async start(): Promise<void> {
    await this.#connect()
  }

  async #connect(): Promise<void> {
    const client = new this.#pg.Client(this.#config)
    let lost = false
    const onLoss = (e?: unknown) => {
      if (lost) return
      lost = true
      if (this.#client === client) this.#client = undefined
      client.end().catch(() => {})
      if (this.#closed) return
      if (e !== undefined) this.#hooks.error(e)
      this.#schedule()
    }
    client.on('error', onLoss)
    client.on('end', () => onLoss())
    client.on('notification', (n) => {
      if (n.channel !== this.#channel) return
      const tid = Number(n.payload)
      if (Number.isSafeInteger(tid)) this.#advance(tid)
    })
    try {
      await client.connect()
      await client.query(`LISTEN "${this.#channel}"`)
    } catch (e) {
      lost = true
      client.end().catch(() => {})
      throw e
    }
    if (this.#closed) {
      await client.end().catch(() => {})
      return
    }
    this.#client = client
    this.connects++
    this.#backoff = MIN_BACKOFF_MS
    // Commits between the last notification heard and LISTEN taking effect were not heard: read them.
    let missed: Tid[]
    try {
      missed = await this.#hooks.since(this.#last)
    } catch (e) {
      lost = true
      this.#client = undefined
      client.end().catch(() => {})
      throw e
    }
    for (const tid of missed) this.#advance(tid)
  }

  #advance(tid: Tid): void {
    if (tid <= this.#last) return
    this.#last = tid
    this.#hooks.emit(tid)
  }

  #schedule(): void {
    if (this.#closed || this.#timer) return
    const wait = this.#backoff
    this.#backoff = Math.min(MAX_BACKOFF_MS, this.#backoff * 2)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#connect().catch((e) => {
        if (this.#closed) return
        this.#hooks.error(e)
        this.#schedule()
      })
    }, wait)
    this.#timer.unref()
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = undefined
    const c = this.#client
    this.#client = undefined
    if (c) await c.end().catch(() => {})
  }
}
