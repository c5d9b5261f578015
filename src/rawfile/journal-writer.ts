import { createHash, type Hash, randomBytes } from 'node:crypto'
import { crc32 } from 'node:zlib'
import type { RawIO } from './io.ts'
import {
  HEADER_SIZE,
  MAGIC,
  RECORD_SIZE,
  TAG_BLOCK,
  TAG_END,
  TRAILER_HASHED,
  TRAILER_SIZE,
  u64,
  VERSION,
} from './journal-format.ts'

/**
 * Streams one commit's blocks into the journal as the writeout hands them over, hashing as it goes, so
 * the journal never sits in memory: its size is bounded by the disk, not by the RAM budget.
 */
export class JournalWriter {
  readonly #io: RawIO
  readonly #fd: number
  #hash: Hash = createHash('sha256')
  #nonce = new Uint8Array(8)
  #at = 0
  #count = 0
  #bytes = 0

  constructor(io: RawIO, fd: number) {
    this.#io = io
    this.#fd = fd
  }

  /** Starts a journal for a raw file of `dataSize` bytes, replacing whatever the file held. */
  begin(dataSize: number): void {
    this.#hash = createHash('sha256')
    this.#nonce = randomBytes(8)
    this.#count = 0
    this.#bytes = 0
    this.#io.truncate(this.#fd, 0)
    const h = new Uint8Array(HEADER_SIZE)
    const dv = new DataView(h.buffer)
    h.set(MAGIC, 0)
    dv.setUint32(8, VERSION, true)
    u64(dv, 16, dataSize)
    h.set(this.#nonce, 24)
    this.#io.write(this.#fd, [h], 0)
    this.#hash.update(h)
    this.#at = HEADER_SIZE
  }

  /** Appends the bytes destined for raw-file position `pos`. */
  add(pos: number, data: Uint8Array): void {
    const r = new Uint8Array(RECORD_SIZE)
    const dv = new DataView(r.buffer)
    dv.setUint32(0, TAG_BLOCK, true)
    dv.setUint32(4, data.length, true)
    u64(dv, 8, pos)
    dv.setUint32(16, crc32(data), true)
    this.#io.write(this.#fd, [r, data], this.#at)
    this.#hash.update(r)
    this.#at += RECORD_SIZE + data.length
    this.#count++
    this.#bytes += data.length
  }

  /** Seals the journal and makes it durable: from the moment this returns, the commit will happen. */
  finish(): void {
    const t = new Uint8Array(TRAILER_SIZE)
    const dv = new DataView(t.buffer)
    dv.setUint32(0, TAG_END, true)
    dv.setUint32(4, this.#count, true)
    u64(dv, 8, this.#bytes)
    t.set(this.#nonce, 16)
    this.#hash.update(t.subarray(0, TRAILER_HASHED))
    t.set(this.#hash.digest(), TRAILER_HASHED)
    this.#io.write(this.#fd, [t], this.#at)
    this.#at += TRAILER_SIZE
    this.#io.fsync(this.#fd)
  }

  get count(): number {
    return this.#count
  }
}
