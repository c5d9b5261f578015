// A PostgreSQL schema of version 1 (CRC-32 block checksums) is refused with a VersionError: this bigfile
// would take every one of its blocks for corrupt.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { openDatabase } from '../../src/db/index.ts'
import { SCHEMA_VERSION } from '../../src/db/postgres/schema.ts'
import { VersionError } from '../../src/errors.ts'
import { postgres, postgresEnabled } from '../helpers/storages.ts'

test('a version-1 schema is a VersionError (EVERSION) naming both versions', {
  skip: !postgresEnabled && 'BIGFILE_TEST_POSTGRES=0',
}, async (t) => {
  assert.equal(SCHEMA_VERSION, 2)
  const url = await postgres.location(t)
  await (await openDatabase(url)).close()
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  try {
    await c.query(`UPDATE bigfile.meta SET value = 1 WHERE key = 'schema_version'`)
  } finally {
    await c.end()
  }
  await assert.rejects(openDatabase(url), (e) => {
    assert.ok(e instanceof VersionError, String(e))
    assert.equal(e.code, 'EVERSION')
    assert.equal(e.found, 1)
    assert.equal(e.expected, 2)
    assert.match(e.message, /schema "bigfile"/)
    return true
  })
})
