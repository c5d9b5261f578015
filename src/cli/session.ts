// Opening what a command works on: the database (existing, unless the command creates), and a RAM
// budget whose page size fits the array's block size.
import type { Database } from '../db/database.ts'
import { openDatabase } from '../db/open.ts'
import { RAM } from '../virtmem/ram.ts'
import { UsageError } from './exit.ts'
import { checkDbPath } from './io.ts'
import { formatBytes } from './size.ts'

export interface DbOptions {
  /** Create the database when missing (commands that write). */
  create?: boolean
  /** Open read-only: nothing is created or converted (ls, info, stats, export, check, ...). */
  readOnly?: boolean
}

/** Opens the database at `path`; NotFoundError (exit 3) when it does not exist, unless `create`. */
export async function openDb(path: string, options: DbOptions = {}): Promise<Database> {
  checkDbPath(path)
  return openDatabase(path, { create: options.create ?? false, readOnly: options.readOnly ?? false })
}

/** Runs `fn` with the database open and closes it afterwards, whatever happens. */
export async function withDb<T>(
  path: string,
  fn: (db: Database) => Promise<T>,
  options: DbOptions = {},
): Promise<T> {
  const db = await openDb(path, options)
  try {
    return await fn(db)
  } finally {
    await db.close()
  }
}

/** withDb for commands that only read: opened read-only, so nothing is ever created or converted. */
export async function withReadOnlyDb<T>(path: string, fn: (db: Database) => Promise<T>): Promise<T> {
  return withDb(path, fn, { readOnly: true })
}

const MIN_PAGE = 4 << 10
const MAX_PAGE = 16 << 20

/** The RAM page size for a block size: one block per page where the RAM allows it. */
export function pagesizeFor(blksize: number): number {
  return Math.min(MAX_PAGE, Math.max(MIN_PAGE, blksize))
}

/** A RAM of `bytes` with pages of `pagesize`; a UsageError when the budget holds too few pages. */
export function makeRam(bytes: number, pagesize: number): RAM {
  const reserve = 2
  if (Math.floor(bytes / pagesize) < reserve + 4) {
    throw new UsageError(
      `--ram ${formatBytes(bytes)} is too small for pages of ${formatBytes(pagesize)} (at least ${formatBytes((reserve + 4) * pagesize)})`,
    )
  }
  return new RAM({ pagesize, capacity: bytes, reserve })
}
