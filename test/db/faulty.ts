// A Storage wrapper that fails the k-th read or write call, once, for fault-injection tests.

import type {
  Change,
  Commit,
  FilePatch,
  FileRecord,
  LogQuery,
  NewFile,
  PackResult,
  Storage,
  StorageTxn,
  Tid,
  Touched,
} from '../../src/db/storage.ts'
import { StorageError } from '../../src/errors.ts'
import type { Awaitable } from '../../src/util/awaitable.ts'

export class FaultyStorage implements Storage {
  readonly inner: Storage
  reads = 0
  writes = 0
  failRead = 0
  failWrite = 0
  /** Answer with rejected Promises instead of throwing. */
  async = false

  constructor(inner: Storage) {
    this.inner = inner
  }

  #fail<T>(kind: 'read' | 'write', fn: () => Awaitable<T>): Awaitable<T> {
    const n = kind === 'read' ? ++this.reads : ++this.writes
    const at = kind === 'read' ? this.failRead : this.failWrite
    if (n === at) {
      const e = new StorageError(`injected ${kind} fault #${n}`)
      if (this.async) return Promise.reject(e)
      throw e
    }
    return fn()
  }

  head(): Awaitable<Tid> {
    return this.#fail('read', () => this.inner.head())
  }
  listFiles(at: Tid): Awaitable<FileRecord[]> {
    return this.#fail('read', () => this.inner.listFiles(at))
  }
  fileByName(name: string, at: Tid): Awaitable<FileRecord | undefined> {
    return this.#fail('read', () => this.inner.fileByName(name, at))
  }
  fileById(id: number, at: Tid): Awaitable<FileRecord | undefined> {
    return this.#fail('read', () => this.inner.fileById(id, at))
  }
  loadBlock(file: number, blk: number, at: Tid, buf: Uint8Array): Awaitable<void> {
    return this.#fail('read', () => this.inner.loadBlock(file, blk, at, buf))
  }
  changes(after: Tid, upto: Tid): Awaitable<Change[] | null> {
    return this.#fail('read', () => this.inner.changes(after, upto))
  }
  begin(): Awaitable<StorageTxn> {
    return this.#fail('write', async () => new FaultyTxn(this, await this.inner.begin()))
  }
  packed(): Awaitable<Tid> {
    return this.#fail('read', () => this.inner.packed())
  }
  tidAt(time: Date): Awaitable<Tid> {
    return this.#fail('read', () => this.inner.tidAt(time))
  }
  log(query: LogQuery): Awaitable<Commit[]> {
    return this.#fail('read', () => this.inner.log(query))
  }
  pack(cutoff: Tid): Awaitable<PackResult> {
    return this.inner.pack(cutoff)
  }
  close(): Awaitable<void> {
    return this.inner.close()
  }

  /** @internal */
  _write<T>(fn: () => Awaitable<T>): Awaitable<T> {
    return this.#fail('write', fn)
  }
}

class FaultyTxn implements StorageTxn {
  readonly #s: FaultyStorage
  readonly #t: StorageTxn
  constructor(s: FaultyStorage, t: StorageTxn) {
    this.#s = s
    this.#t = t
  }
  get tid(): Tid {
    return this.#t.tid
  }
  checkConflicts(at: Tid, touched: readonly Touched[]): Awaitable<void> {
    return this.#s._write(() => this.#t.checkConflicts(at, touched))
  }
  createFile(spec: NewFile): Awaitable<number> {
    return this.#s._write(() => this.#t.createFile(spec))
  }
  updateFile(file: number, patch: FilePatch): Awaitable<void> {
    return this.#s._write(() => this.#t.updateFile(file, patch))
  }
  deleteFile(file: number): Awaitable<void> {
    return this.#s._write(() => this.#t.deleteFile(file))
  }
  dropBlocks(file: number, fromBlk: number): Awaitable<void> {
    return this.#s._write(() => this.#t.dropBlocks(file, fromBlk))
  }
  writeBlock(file: number, blk: number, data: Uint8Array | null): Awaitable<void> {
    return this.#s._write(() => this.#t.writeBlock(file, blk, data))
  }
  commit(): Awaitable<void> {
    return this.#s._write(() => this.#t.commit())
  }
  rollback(): Awaitable<void> {
    return this.#t.rollback()
  }
}
