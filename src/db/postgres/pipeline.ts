// Several statements in one round trip, with binary parameters: the extended protocol's Parse, Bind
// and Execute for each, then one Sync. pg sends a query only after the previous one's ReadyForQuery,
// and a simple query (several statements in one text) takes no parameters; the commit needs both
// (the last blocks as bytes, then the log, the head, the NOTIFY and COMMIT), so it goes as one of these.
// After an error the server skips the rest up to the Sync: a failed statement leaves the later ones,
// COMMIT included, unrun.
import type { ClientBase } from 'pg'

/** One statement: its text and its parameters (numbers, strings, bytes sent in binary, or null). */
export interface Statement {
  readonly text: string
  readonly values?: readonly (number | string | boolean | Uint8Array | null)[]
}

// The parts of pg's Connection a submittable uses (pg calls submit() and the handle* methods).
interface Wire {
  parse(q: { text: string; name?: string; types?: number[] }): void
  bind(c: { portal?: string; statement?: string; values?: unknown[] }): void
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
      for (const s of this.#statements) {
        wire.parse({ text: s.text, types: [] })
        wire.bind({ values: (s.values ?? []).map(param) })
        wire.execute({ rows: 0 })
      }
      wire.sync()
    } finally {
      wire.stream.uncork?.()
    }
  }
  handleError(e: unknown): void {
    this.#error ??= e
    // pg sends no ReadyForQuery for a lost connection: settle here (a server error's comes later).
    this.#reject(e)
  }
  handleReadyForQuery(): void {
    if (this.#error !== undefined) this.#reject(this.#error)
    else this.#resolve()
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
