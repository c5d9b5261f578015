// Several statements in one round trip, with binary parameters: the extended protocol's Parse, Bind
// and Execute for each, then one Sync. pg sends a query only after the previous one's ReadyForQuery,
// and a simple query (several statements in one text) takes no parameters; the commit needs both
// (the last blocks as bytes, then the log, the head, the NOTIFY and COMMIT), so it goes as one of these.
// After an error the server skips the rest up to the Sync: a failed statement leaves the later ones,
// COMMIT included, unrun.
// A statement marked `prepare` is parsed once per connection as a named statement and afterwards only
// bound and executed: the server skips parse and analysis, and the planner caches a plan after a few
// runs. Its text must then carry no literal that changes between runs (values go as parameters).
import type { ClientBase } from 'pg'

/** One statement: its text and its parameters (numbers, strings, bytes sent in binary, or null). */
export interface Statement {
  readonly text: string
  readonly values?: readonly (number | string | boolean | Uint8Array | null)[]
  /** Parse it once per connection as a named statement (its text is the same on every run). */
  readonly prepare?: boolean
}

/** The names of prepared texts (one per text, the same on every connection). */
const names = new Map<string, string>()
/**
 * Per connection: the names parsed there for sure, and those a failed pipeline may or may not have
 * parsed (the server stops at the first error; it is not told which Parse came before it), which are
 * closed before they are parsed again (closing a statement that does not exist is no error).
 */
const parsed = new WeakMap<object, { known: Set<string>; unsure: Set<string> }>()

// The parts of pg's Connection a submittable uses (pg calls submit() and the handle* methods).
interface Wire {
  parse(q: { text: string; name?: string; types?: number[] }): void
  bind(c: { portal?: string; statement?: string; values?: unknown[] }): void
  close(m: { type: 'S' | 'P'; name?: string }): void
  execute(c: { portal?: string; rows?: number }): void
  sync(): void
  stream: { cork?: () => void; uncork?: () => void }
}

/** Runs `statements` on `client` in one round trip; rejects with the first statement's error. */
export function pipeline(client: ClientBase, statements: readonly Statement[]): Promise<void> {
  const p = new Pipeline(statements)
  ;(client as unknown as { query(q: unknown): void }).query(p)
  return p.done
}

class Pipeline {
  readonly done: Promise<void>
  readonly #statements: readonly Statement[]
  #resolve!: () => void
  #reject!: (e: unknown) => void
  #error: unknown
  /** Names this pipeline parses, and the connection's record of them. */
  #fresh: string[] = []
  #record: { known: Set<string>; unsure: Set<string> } | undefined

  constructor(statements: readonly Statement[]) {
    this.#statements = statements
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }
  submit(wire: Wire): void {
    wire.stream.cork?.()
    try {
      let record = parsed.get(wire)
      if (record === undefined) parsed.set(wire, (record = { known: new Set(), unsure: new Set() }))
      this.#record = record
      for (const s of this.#statements) {
        let name: string | undefined
        if (s.prepare) {
          name = names.get(s.text)
          if (name === undefined) names.set(s.text, (name = `bigfile_${names.size + 1}`))
          if (!record.known.has(name) && !this.#fresh.includes(name)) {
            if (record.unsure.has(name)) wire.close({ type: 'S', name })
            wire.parse({ text: s.text, name, types: [] })
            this.#fresh.push(name)
          }
        } else wire.parse({ text: s.text, types: [] })
        wire.bind({ statement: name, values: (s.values ?? []).map(param) })
        wire.execute({ rows: 0 })
      }
      wire.sync()
    } finally {
      wire.stream.uncork?.()
    }
  }
  handleError(e: unknown): void {
    this.#error ??= e
    if (this.#record) for (const name of this.#fresh) this.#record.unsure.add(name)
    this.#fresh.length = 0
    // pg sends no ReadyForQuery for a lost connection: settle here (a server error's comes later).
    this.#reject(e)
  }
  handleReadyForQuery(): void {
    if (this.#error !== undefined) this.#reject(this.#error)
    else {
      if (this.#record) {
        for (const name of this.#fresh) {
          this.#record.known.add(name)
          this.#record.unsure.delete(name)
        }
      }
      this.#resolve()
    }
  }
  handleCommandComplete(): void {}
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(wire: { sendCopyFail(m: string): void }): void {
    wire.sendCopyFail('bigfile: COPY FROM is not expected here')
  }
  handleCopyData(): void {}
}

/** A parameter as pg's Bind takes it: bytes as a Buffer (sent in binary), the rest as text. */
function param(v: number | string | boolean | Uint8Array | null): Buffer | string | null {
  if (v === null) return null
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length)
  return String(v)
}
