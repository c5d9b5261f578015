// A RawIO that fails the k-th read or the k-th write-like operation (write, fsync, truncate, unlink,
// directory fsync), or calls a hook before each operation (the crash child kills itself there).
import { nodeIO, type OpenMode, type RawIO } from '../../../src/db/rawfile/index.ts'

export type OpKind = 'read' | 'write'

export class InjectedIOError extends Error {
  readonly code = 'EIO'
}

export class FaultIO implements RawIO {
  reads = 0
  writes = 0
  /** Fail read number `failRead` / write number `failWrite` (1-based); 0: never. */
  failRead = 0
  failWrite = 0
  injected = 0
  /** Called before each operation with its kind, number and (for writes of data) the buffers and fd. */
  before:
    | ((
        kind: OpKind,
        n: number,
        op: string,
        io: { fd?: number; bufs?: readonly Uint8Array[]; position?: number },
      ) => void)
    | undefined

  #r(op: string): void {
    const n = ++this.reads
    this.before?.('read', n, op, {})
    if (n === this.failRead) this.#fail(op, n)
  }

  #w(op: string, args: { fd?: number; bufs?: readonly Uint8Array[]; position?: number } = {}): void {
    const n = ++this.writes
    this.before?.('write', n, op, args)
    if (n === this.failWrite) this.#fail(op, n)
  }

  #fail(op: string, n: number): never {
    this.injected++
    throw new InjectedIOError(`EIO: injected failure of ${op} (#${n})`)
  }

  open(path: string, mode: OpenMode): number {
    return nodeIO.open(path, mode)
  }
  close(fd: number): void {
    nodeIO.close(fd)
  }
  size(fd: number): number {
    return nodeIO.size(fd)
  }
  read(fd: number, buf: Uint8Array, position: number): number {
    this.#r('read')
    return nodeIO.read(fd, buf, position)
  }
  write(fd: number, bufs: readonly Uint8Array[], position: number): void {
    this.#w('write', { fd, bufs, position })
    nodeIO.write(fd, bufs, position)
  }
  fsync(fd: number): void {
    this.#w('fsync')
    nodeIO.fsync(fd)
  }
  truncate(fd: number, length: number): void {
    this.#w('truncate')
    nodeIO.truncate(fd, length)
  }
  unlink(path: string): void {
    this.#w('unlink')
    nodeIO.unlink(path)
  }
  fsyncDir(dir: string): void {
    this.#w('fsyncDir')
    nodeIO.fsyncDir(dir)
  }
}
