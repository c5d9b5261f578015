import type { FileH } from './fileh.ts'

/** Why page memory is about to go away or change underneath a mirror. */
export type InvalidateReason = 'invalidate' | 'discard' | 'reclaim' | 'purge' | 'spill'

/** The pages a notifier hears about: [pgstart, pgend) of `fileh`, and why. */
export interface InvalidateRange {
  /** The file handle whose pages go. */
  readonly fileh: FileH
  /** First page of the range. */
  readonly pgstart: number
  /** One past the last page. */
  readonly pgend: number
  /** Why the pages go. */
  readonly reason: InvalidateReason
}

/**
 * A listener that mirrors page contents (a decoded cache, an index, a GPU copy): it learns of every drop
 * before the frame is reused (invalidateRangeStart) and after the pages are gone (invalidateRangeEnd), and
 * of the FileH's close (release). Callbacks must not throw: an exception is reported as a process warning
 * and otherwise ignored, so that the VM stays consistent.
 */
export interface FileHNotifier {
  /** Called before the pages of `range` are dropped or changed, while their frames still hold the old contents. */
  invalidateRangeStart?(range: InvalidateRange): void
  /** Called after the pages of `range` are gone. */
  invalidateRangeEnd?(range: InvalidateRange): void
  /** Called once when `fileh` closes; no callback follows. */
  release?(fileh: FileH): void
}

/** What `fileh.registerNotifier()` returns: `unregister()` (or `using`) removes the notifier. */
export interface NotifierRegistration extends Disposable {
  /** After this returns, no callback of the notifier runs, not even a pending invalidateRangeEnd. */
  unregister(): void
}

/** The notifiers of one FileH. Removal is seen at once, even by a fan-out already in progress. */
export class NotifierList {
  readonly #entries: FileHNotifier[] = []

  get size(): number {
    return this.#entries.length
  }

  add(n: FileHNotifier): void {
    if (!this.#entries.includes(n)) this.#entries.push(n)
  }

  remove(n: FileHNotifier): void {
    const i = this.#entries.indexOf(n)
    if (i >= 0) this.#entries.splice(i, 1)
  }

  start(range: InvalidateRange): void {
    for (const n of this.#entries.slice()) {
      if (this.#entries.includes(n)) call(() => n.invalidateRangeStart?.(range))
    }
  }

  end(range: InvalidateRange): void {
    for (const n of this.#entries.slice()) {
      if (this.#entries.includes(n)) call(() => n.invalidateRangeEnd?.(range))
    }
  }

  release(fileh: FileH): void {
    // One at a time, so that a release callback unregistering another notifier is honoured.
    for (let n = this.#entries.shift(); n !== undefined; n = this.#entries.shift()) {
      const cur = n
      call(() => cur.release?.(fileh))
    }
  }
}

function call(fn: () => void): void {
  try {
    fn()
  } catch (e) {
    process.emitWarning(`bigfile: a FileH notifier threw: ${e instanceof Error ? e.message : String(e)}`, {
      code: 'BIGFILE_NOTIFIER',
    })
  }
}
