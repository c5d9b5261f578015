export * from './db/index.ts'
export * from './errors.ts'
export type { Awaitable } from './util/awaitable.ts'
export * from './virtmem/index.ts'
