// A BigFile over a plain OS file, the smallest useful storage: loadblk/storeblk are positional reads
// and writes. No journal, no history: for scratch data and for showing the contract. (The transactional
// storages live in the db layer.)
import { closeSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs'
import type { BigFile } from '../src/index.ts'

export class OSFileBigFile implements BigFile, Disposable {
  readonly blksize: number
  readonly #fd: number

  constructor(path: string, blksize: number, size: number) {
    this.blksize = blksize
    this.#fd = openSync(path, 'w+')
    ftruncateSync(this.#fd, size)
  }

  loadblk(blk: number, buf: Uint8Array): void {
    const n = readSync(this.#fd, buf, 0, buf.length, blk * this.blksize)
    buf.fill(0, n) // past the end of the file reads as zeros
  }

  storeblk(blk: number, buf: Uint8Array): void {
    writeSync(this.#fd, buf, 0, buf.length, blk * this.blksize)
  }

  get size(): number {
    return fstatSync(this.#fd).size
  }

  [Symbol.dispose](): void {
    closeSync(this.#fd)
  }
}
