// Recovery: a journal is checked whole before any of it is applied, since a torn one means the crash
// came before it was durable and the raw file was never touched. Both passes stream through one small
// buffer, so recovering a journal bigger than RAM needs no more memory than a normal open.
import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { CorruptError } from '../errors.ts'
import type { RawIO } from './io.ts'
import {
  getU64,
  HEADER_SIZE,
  MAGIC,
  RECORD_SIZE,
  TAG_BLOCK,
  TAG_END,
  TRAILER_HASHED,
  TRAILER_SIZE,
  VERSION,
} from './journal-format.ts'

const CHUNK = 1 << 20

/** What an open or a recovery found: no journal, a valid one replayed, or a torn one dropped. */
export type Recovery = 'none' | 'replayed' | 'discarded'

export interface JournalRecord {
  /** Position in the raw file. */
  pos: number
  len: number
  /** Position of the data in the journal. */
  at: number
}

export type ScanResult =
  | { valid: true; dataSize: number; records: JournalRecord[] }
  | { valid: false; why: string }

/** Reads and checks a whole journal of `size` bytes. Throws CorruptError only for a journal it cannot judge. */
export function scanJournal(io: RawIO, fd: number, size: number, name: string): ScanResult {
  const invalid = (why: string): ScanResult => ({ valid: false, why })
  if (size < HEADER_SIZE + TRAILER_SIZE) return invalid(`${size} bytes is too short`)
  const head = readExact(io, fd, HEADER_SIZE, 0)
  if (!head) return invalid('truncated header')
  if (!MAGIC.every((b, i) => head[i] === b)) return invalid('bad magic')
  const hdv = new DataView(head.buffer)
  const version = hdv.getUint32(8, true)
  if (version !== VERSION) {
    // A whole header with our magic and another version: written by other code, not torn. Refuse to guess.
    throw new CorruptError(`journal ${name} has version ${version}; this bigfile reads version ${VERSION}`)
  }
  const dataSize = getU64(hdv, 16)
  const nonce = head.subarray(24, 32)
  const hash = createHash('sha256').update(head)
  const records: JournalRecord[] = []
  let bytes = 0
  const buf = new Uint8Array(Math.min(CHUNK, size))
  for (let at = HEADER_SIZE; ; ) {
    if (at + 4 > size) return invalid(`ends at ${at} without a trailer`)
    const tag = readExact(io, fd, 4, at)
    if (!tag) return invalid(`short read at ${at}`)
    const t = new DataView(tag.buffer).getUint32(0, true)
    if (t === TAG_BLOCK) {
      const r = readExact(io, fd, RECORD_SIZE, at)
      if (!r) return invalid(`truncated record header at ${at}`)
      const dv = new DataView(r.buffer)
      const len = dv.getUint32(4, true)
      const pos = getU64(dv, 8)
      const want = dv.getUint32(16, true)
      const data = at + RECORD_SIZE
      if (data + len > size) return invalid(`record at ${at} runs past the end`)
      if (!(pos + len <= dataSize)) return invalid(`record at ${at} lies outside the raw file`)
      let crc = 0
      for (let off = 0; off < len; ) {
        const n = Math.min(CHUNK, len - off)
        if (io.read(fd, buf.subarray(0, n), data + off) !== n) return invalid(`short read at ${data + off}`)
        crc = crc32(buf.subarray(0, n), crc)
        off += n
      }
      if (crc !== want) return invalid(`record at ${at} fails its CRC`)
      hash.update(r)
      records.push({ pos, len, at: data })
      bytes += len
      at = data + len
    } else if (t === TAG_END) {
      const tr = readExact(io, fd, TRAILER_SIZE, at)
      if (!tr) return invalid(`truncated trailer at ${at}`)
      const dv = new DataView(tr.buffer)
      if (dv.getUint32(4, true) !== records.length) return invalid('record count mismatch')
      if (getU64(dv, 8) !== bytes) return invalid('byte count mismatch')
      if (!nonce.every((b, i) => tr[16 + i] === b)) return invalid('trailer of another journal')
      hash.update(tr.subarray(0, TRAILER_HASHED))
      const digest = hash.digest()
      if (!digest.every((b, i) => tr[TRAILER_HASHED + i] === b)) return invalid('checksum mismatch')
      if (Number.isNaN(dataSize)) return invalid('bad data size')
      return { valid: true, dataSize, records }
    } else {
      return invalid(`unknown tag at ${at}`)
    }
  }
}

/** Copies every record into the raw file, then makes it durable. Idempotent: replaying twice is harmless. */
export function applyJournal(io: RawIO, jfd: number, dfd: number, records: readonly JournalRecord[]): void {
  const buf = new Uint8Array(
    Math.min(
      CHUNK,
      records.reduce((m, r) => Math.max(m, r.len), 1),
    ),
  )
  for (const r of records) {
    for (let off = 0; off < r.len; ) {
      const n = Math.min(buf.length, r.len - off)
      const b = buf.subarray(0, n)
      if (io.read(jfd, b, r.at + off) !== n) throw new CorruptError(`journal shrank while being replayed`)
      io.write(dfd, [b], r.pos + off)
      off += n
    }
  }
  io.fsync(dfd)
}

function readExact(io: RawIO, fd: number, n: number, at: number): Uint8Array | undefined {
  const b = new Uint8Array(n)
  return io.read(fd, b, at) === n ? b : undefined
}
