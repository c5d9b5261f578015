// A file record as both storages keep it (meta as JSON text, with its checksum), and the FileRecord it reads as.
import type { FileRecord, Meta } from './storage.ts'

/** A stored file record version; `name` null is a deletion. */
export interface RecordRow {
  id: number
  tid: number
  name: string | null
  blksize: number
  size: number
  meta: string
  sum: number
}

/** The FileRecord a live row reads as. */
export function toRecord(row: RecordRow): FileRecord {
  return {
    id: row.id,
    name: row.name as string,
    blksize: row.blksize,
    size: row.size,
    meta: JSON.parse(row.meta) as Meta,
    tid: row.tid,
  }
}
