// The PostgreSQL schema (one SQL schema per bigfile database, "bigfile" by default) and the checks
// that run before trusting it.
import type { ClientBase } from 'pg'
import { CorruptError, InvalidArgumentError, NotFoundError, VersionError } from '../../errors.ts'

/** 'bigF' in meta.application marks our schemas. */
export const APPLICATION_ID = 0x62696746
/** 2: block checksums are util/blockhash.ts instead of CRC-32 (version 1). */
export const SCHEMA_VERSION = 2

/** An SQL schema name we accept (quoted anyway; no surprises in identifiers or channel names). */
export function checkSchemaName(name: string): string {
  if (typeof name !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new InvalidArgumentError(`schema must match [a-z_][a-z0-9_]{0,62}, got ${JSON.stringify(name)}`)
  }
  return name
}

/**
 * The same tables as the SQLite storage (ARCHITECTURE.md, "PostgreSQL storage"): blocks keyed
 * (file, blk, tid) with data NULL as a tombstone, stored EXTERNAL (no compression attempt: array data
 * rarely compresses and pglz costs more than it saves); versioned file records; blocks and records
 * carry the checksums of sqlite/checksum.ts (`sum`), verified on every load; the commit log with
 * a token per commit, so a commit whose COMMIT reply was lost can be looked up; meta holds the head
 * tid (its row lock is the write lock), the pack cutoff and the next file id.
 */
export function schemaSql(s: string): string {
  return `
CREATE SCHEMA IF NOT EXISTS "${s}";
CREATE TABLE "${s}".meta (key text PRIMARY KEY, value int8 NOT NULL);
CREATE TABLE "${s}".log (tid int8 PRIMARY KEY, time float8 NOT NULL, token text NOT NULL);
CREATE TABLE "${s}".log_files (
  tid int8 NOT NULL, file_id int8 NOT NULL, blocks bytea, record bool NOT NULL,
  PRIMARY KEY (tid, file_id));
CREATE INDEX log_files_file ON "${s}".log_files (file_id, tid);
CREATE TABLE "${s}".file_versions (
  file_id int8 NOT NULL, tid int8 NOT NULL, name text, blksize int8 NOT NULL,
  size int8 NOT NULL, meta text NOT NULL, sum int8 NOT NULL, PRIMARY KEY (file_id, tid));
CREATE INDEX file_versions_name ON "${s}".file_versions (name, tid);
CREATE TABLE "${s}".blocks (
  file_id int8 NOT NULL, blk int8 NOT NULL, tid int8 NOT NULL, data bytea, sum int8 NOT NULL,
  PRIMARY KEY (file_id, blk, tid));
ALTER TABLE "${s}".blocks ALTER COLUMN data SET STORAGE EXTERNAL;
INSERT INTO "${s}".meta (key, value) VALUES
  ('application', ${APPLICATION_ID}), ('schema_version', ${SCHEMA_VERSION}),
  ('head', 0), ('packed', 0), ('next_file_id', 1);
`
}

/** Creates the schema when missing (under an advisory lock: two openers may race), checks it. */
export async function initSchema(
  client: ClientBase,
  s: string,
  create: boolean,
  where: string,
): Promise<void> {
  const exists = async () =>
    (await client.query(`SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = 'meta'`, [s]))
      .rowCount === 1
  if (!(await exists())) {
    if (!create) throw new NotFoundError(`database ${where} has no bigfile schema "${s}"`)
    await client.query('BEGIN')
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`bigfile:${s}`])
      if (!(await exists())) await client.query(schemaSql(s))
      await client.query('COMMIT')
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {})
      throw e
    }
  }
  const rows = (await client.query(`SELECT key, value FROM "${s}".meta`)).rows as {
    key: string
    value: number
  }[]
  const meta = new Map(rows.map((r) => [r.key, Number(r.value)]))
  if (meta.get('application') !== APPLICATION_ID) {
    throw new CorruptError(`${where}: schema "${s}" has a table "meta", but is not a bigfile database`)
  }
  const version = meta.get('schema_version')
  if (version === undefined) throw new CorruptError(`${where}: schema "${s}" has no schema_version`)
  if (version !== SCHEMA_VERSION) throw new VersionError(`${where} (schema "${s}")`, version, SCHEMA_VERSION)
}
