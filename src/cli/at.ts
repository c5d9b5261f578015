// The --at TID|ISO-TIME option of the commands that read a database: which past snapshot they read.
import type { Database } from '../db/database.ts'
import type { Tid } from '../db/storage.ts'
import { type Parsed, str } from './args.ts'
import { UsageError } from './exit.ts'

export const AT_OPTION = { at: { type: 'string' } } as const

/** The help lines of --at, its text starting at column `col` (as the other options of the command). */
export function atHelp(col = 17): string {
  const pad = ' '.repeat(col)
  return `  ${'--at TID|TIME'.padEnd(col - 2)}read the database as of a past commit: a tid, or an ISO time
${pad}such as 2026-11-28T09:30:00Z (the newest commit at or before it); see bigfile log`
}

/** The --at value: a tid, a Date, or undefined when not given. */
export function parseAt(text: string | undefined): Tid | Date | undefined {
  if (text === undefined) return undefined
  const t = text.trim()
  if (/^\d+$/.test(t)) {
    const tid = Number(t)
    if (Number.isSafeInteger(tid)) return tid
  } else if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const d = new Date(t)
    if (!Number.isNaN(d.getTime())) return d
  }
  throw new UsageError(
    `--at: ${JSON.stringify(text)} is neither a tid nor an ISO time like 2026-11-28T09:30:00Z`,
  )
}

/**
 * The tid --at names, resolved once (a time becomes the newest commit at or before it, so every read of
 * the command sees the same snapshot); undefined without --at. ENOENT past the head, ESTALE if packed.
 */
export async function resolveAt(db: Database, p: Parsed): Promise<Tid | undefined> {
  const at = parseAt(str(p, 'at'))
  return at === undefined ? undefined : db.tidAt(at)
}
