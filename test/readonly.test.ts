// Every `readonly` public field of every class the package exports is read-only at run time too: an
// assignment from JavaScript (`fh.blksize = 16`) throws instead of corrupting what the VM relies on.
// The fields are found in the sources by the TypeScript parser, so a new class or field cannot slip by.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import ts from 'typescript'
import * as pgStorage from '../src/db/postgres/index.ts'
import * as sqlite from '../src/db/sqlite/storage.ts'
import * as main from '../src/index.ts'
import * as rawfile from '../src/rawfile/index.ts'
import { tmpDir } from './db/helpers.ts'
import { postgres, postgresEnabled } from './helpers/storages.ts'

const src = join(import.meta.dirname, '..', 'src')

/** Class name → its public readonly fields, as declared in src (not the CLI, which is not a library). */
function readonlyFieldsInSources(): Map<string, string[]> {
  const out = new Map<string, string[]>()
  const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !f.startsWith('cli'),
  )
  for (const f of files) {
    const sf = ts.createSourceFile(f, readFileSync(join(src, f), 'utf8'), ts.ScriptTarget.Latest)
    for (const node of sf.statements) {
      if (!ts.isClassDeclaration(node) || !node.name) continue
      const fields: string[] = []
      for (const m of node.members) {
        if (!ts.isPropertyDeclaration(m) || !ts.isIdentifier(m.name)) continue
        const mods = ts.getModifiers(m) ?? []
        const has = (k: ts.SyntaxKind) => mods.some((x) => x.kind === k)
        if (
          has(ts.SyntaxKind.ReadonlyKeyword) &&
          !has(ts.SyntaxKind.PrivateKeyword) &&
          !has(ts.SyntaxKind.StaticKeyword)
        )
          fields.push(m.name.text)
      }
      if (fields.length) out.set(node.name.text, fields)
    }
  }
  return out
}

/** One instance of each exported class, made the way a user makes it. */
async function instances(t: TestContext): Promise<Map<string, object>> {
  const dir = tmpDir(t)
  const ram = new main.RAM({ pagesize: 4096, capacity: 16 * 4096 })
  const fh = new main.FileH(new main.MemoryBigFile(4096), ram)
  const vma = fh.mmap(0, 2)
  const db = await main.openDatabase(join(dir, 'r.bigfile'))
  t.after(() => db.close())
  const conn = db.connect({ ram })
  const raw = join(dir, 'r.raw')
  writeFileSync(raw, new Uint8Array(4096))
  const rf = rawfile.openRawFile(raw, { ram })
  t.after(() => rf[Symbol.dispose]())
  const e = new Error('x')
  const extra: [string, object][] = []
  if (postgresEnabled) {
    const pdb = await main.openDatabase(await postgres.location(t))
    t.after(() => pdb.close())
    extra.push(['PostgresStorage', pdb.storage])
  }
  return new Map<string, object>([
    ...extra,
    ['MemoryBigFile', new main.MemoryBigFile(4096)],
    ['ScratchFile', new main.ScratchFile(4096)],
    ['RAM', ram],
    ['FileH', fh],
    ['VMA', vma],
    ['Pin', vma.pin(0, 8)],
    ['Database', db],
    ['Connection', conn],
    ['DbFile', await conn.open('f', { create: { blksize: 4096 } })],
    ['SQLiteStorage', db.storage],
    ['RawFile', rf],
    ['BigFileError', new main.BigFileError('EX', 'x')],
    ['WouldBlockError', new main.WouldBlockError(1, 'x')],
    ['LoadError', new main.LoadError(1, 2, e)],
    ['StoreError', new main.StoreError(2, e)],
    ['FaultRetryError', new main.FaultRetryError(1, 3)],
    ['ConflictError', new main.ConflictError('f', [1])],
    ['PurgedError', new main.PurgedError(1)],
    ['VolatileWriteError', new main.VolatileWriteError(1)],
    ['StaleSnapshotError', new main.StaleSnapshotError(1, 2)],
    ['CommitRefreshError', new main.CommitRefreshError(3, e)],
    ['ChecksumError', new main.ChecksumError('load', 'f', 1, 2)],
    ['VersionError', new main.VersionError('x.db', 1, 2)],
  ])
}

test('public readonly fields of exported classes are read-only at run time', async (t) => {
  const fields = readonlyFieldsInSources()
  const objs = await instances(t)
  const exported = new Set(
    [main, rawfile, sqlite, ...(postgresEnabled ? [pgStorage] : [])].flatMap((m) =>
      Object.entries(m)
        .filter(([, v]) => typeof v === 'function' && /^class\b/.test(Function.prototype.toString.call(v)))
        .map(([k]) => k),
    ),
  )
  let checked = 0
  for (const name of exported) {
    const own = fields.get(name)
    if (!own) continue
    const obj = objs.get(name)
    assert.ok(obj, `no instance of exported class ${name} (readonly ${own.join(', ')}) in this test`)
    for (const f of own) {
      const before: unknown = (obj as Record<string, unknown>)[f]
      assert.throws(
        () => {
          ;(obj as Record<string, unknown>)[f] = 'changed'
        },
        TypeError,
        `${name}.${f} accepted an assignment`,
      )
      assert.throws(
        () => Object.defineProperty(obj, f, { value: 'changed' }),
        TypeError,
        `${name}.${f} redefinable`,
      )
      assert.equal((obj as Record<string, unknown>)[f], before)
      checked++
    }
  }
  assert.ok(checked >= 50, `${checked} fields checked`)
})

test('fh.blksize = 16 is refused and the next load still reads the right page', () => {
  const ram = new main.RAM({ pagesize: 4096, capacity: 8 * 4096 })
  const file = new main.MemoryBigFile(4096)
  const fh = new main.FileH(file, ram)
  const vma = fh.mmap(0, 2)
  vma.setFloat64(4096, 2.5)
  assert.throws(() => {
    ;(fh as { blksize: number }).blksize = 16
  }, TypeError)
  assert.throws(() => {
    ;(file as { blksize: number }).blksize = 16
  }, TypeError)
  assert.equal(fh.blksize, 4096)
  assert.equal(file.blksize, 4096)
  assert.equal(vma.getFloat64(4096), 2.5)
})
