// The storages the database contract tests run against: each test registered with storageTest runs
// once per storage. PostgreSQL starts (once per test file, lazily) on first use and stops after the
// file; BIGFILE_TEST_POSTGRES=0 leaves it out.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, type TestContext, test } from 'node:test'
import type { VMA } from '../../src/virtmem/vma.ts'
import { type PgServer, startPostgres } from './postgres.ts'

export interface StorageKind {
  readonly name: 'sqlite' | 'postgres'
  /** A new, empty database location for openDatabase: a file path, or a postgres:// URL. */
  location(t: TestContext, file?: string): Promise<string>
}

let server: Promise<PgServer> | undefined

// Registered at load, on the file's root: a hook registered inside a test would run after that test.
after(async () => {
  if (server) await (await server).stop()
})

/** The test file's PostgreSQL server, started on first call and stopped after the file. */
export function pgServer(): Promise<PgServer> {
  server ??= startPostgres()
  return server
}

export const sqlite: StorageKind = {
  name: 'sqlite',
  async location(t, file = 'db.bigfile') {
    const dir = mkdtempSync(join(tmpdir(), 'bigfile-db-'))
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    return join(dir, file)
  },
}

export const postgres: StorageKind = {
  name: 'postgres',
  async location() {
    return (await pgServer()).createDatabase()
  },
}

export const postgresEnabled = process.env.BIGFILE_TEST_POSTGRES !== '0'

export const storages: readonly StorageKind[] = postgresEnabled ? [sqlite, postgres] : [sqlite]

/** Registers `fn` as one test per storage, named "name [storage]". */
export function storageTest(name: string, fn: (t: TestContext, s: StorageKind) => Promise<void>): void {
  for (const s of storages) test(`${name} [${s.name}]`, (t) => fn(t, s))
}

/**
 * The VMA once the page holding `off` is resident: an asynchronous storage (PostgreSQL) loads in
 * the background, so synchronous access waits for the fault first (SQLite answers at once).
 */
export async function faulted(vma: VMA, off: number): Promise<VMA> {
  await vma.fault(off, 1)
  return vma
}
