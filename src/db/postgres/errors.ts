// pg throws plain Errors (a SQLSTATE in `code`, or a Node socket error); callers get typed ones.
import {
  AuthenticationError,
  BigFileError,
  ConnectionError,
  LockedError,
  NotFoundError,
  StorageError,
  TimeoutError,
} from '../../errors.ts'

export { AuthenticationError, ConnectionError, TimeoutError }

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
])

/** Whether `e` says the connection is gone (so a read may be retried on another connection). */
export function isConnectionLoss(e: unknown): boolean {
  if (e instanceof ConnectionError) return true
  if (e instanceof BigFileError) return false
  const code = (e as { code?: unknown }).code
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return true
    // admin_shutdown (pg_terminate_backend, fast shutdown), crash_shutdown, cannot_connect_now,
    // and class 08: connection exceptions.
    if (code === '57P01' || code === '57P02' || code === '57P03' || code.startsWith('08')) return true
  }
  const msg = e instanceof Error ? e.message : ''
  return /Connection terminated|connection error and is not queryable|Client was closed|not queryable/i.test(
    msg,
  )
}

/** Maps an error thrown by pg to a BigFileError; BigFileErrors pass through. */
export function pgError(e: unknown, what: string): BigFileError {
  if (e instanceof BigFileError) return e
  const code = (e as { code?: unknown }).code
  const msg = e instanceof Error ? e.message : String(e)
  if (code === '28P01' || code === '28000') {
    return new AuthenticationError(`${what}: the server refused the credentials (${msg})`, { cause: e })
  }
  if (isConnectionLoss(e)) return new ConnectionError(`${what}: ${msg}`, { cause: e })
  if (code === '57014') return new TimeoutError(`${what}: ${msg}`, { cause: e })
  if (code === '40001' || code === '40P01' || code === '55P03') {
    return new LockedError(`${what}: another writer holds a lock (${msg}); retry`)
  }
  if (code === '3D000') return new NotFoundError(`${what}: ${msg}`)
  return new StorageError(`${what}: ${msg}`, { cause: e })
}
