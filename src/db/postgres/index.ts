// bigfile/postgres: the PostgreSQL storage (needs the optional "pg" package at run time).
export { AuthenticationError, ConnectionError, TimeoutError } from './errors.ts'
export { isPostgresUrl, openPostgres, openPostgresStorage } from './open.ts'
export { type PostgresOptions, PostgresStorage, type PostgresTarget } from './storage.ts'
