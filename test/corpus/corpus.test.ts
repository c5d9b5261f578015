// Runs the bad-input corpus (generate.ts, fixed seed): every case gives exactly its error code or exit
// code, and no case leaves a file behind.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { format } from 'node:util'
import {
  BigArray,
  exportNpy,
  exportRaw,
  importNpy,
  importNpyFrom,
  importRaw,
  readNpyHeader,
  streamSource,
} from '../../src/array/index.ts'
import { run } from '../../src/cli/main.ts'
import { openDatabase } from '../../src/db/sqlite/open.ts'
import { createExclusive, openRegular } from '../../src/util/exclusive.ts'
import { TempFile } from '../../src/util/publish.ts'
import { RAM } from '../../src/virtmem/ram.ts'
import { bigfileAsync } from '../cli/helpers.ts'
import { type CliCase, cliCases, npyCases, type Plant } from './generate.ts'

function scratch(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'bigfile-corpus-'))
  t.after(() => rmSync(d, { recursive: true, force: true }))
  return d
}

const ram = () => new RAM({ pagesize: 4096, capacity: 1 << 20, reserve: 2 })
const codeOf = (e: unknown) => (e as { code?: string }).code

test('.npy corpus: each file imports, or is refused with its code and a message that says why', async (t) => {
  const dir = scratch(t)
  const db = await openDatabase(join(dir, 'c.db'))
  const conn = db.connect({ ram: ram() })
  const f = join(dir, 'case.npy')
  const cases = npyCases()
  const counts: Record<string, number> = {}
  for (const c of cases) {
    writeFileSync(f, c.bytes)
    // By path (the size is checked up front) and as a stream (read once, in order, like stdin).
    for (const how of ['file', 'stream'] as const) {
      let got = 'ok'
      try {
        if (how === 'file') await importNpy(conn, 'x', f)
        else {
          const src = streamSource([c.bytes])
          await importNpyFrom(conn, 'x', src, await readNpyHeader(src))
        }
      } catch (e) {
        got = codeOf(e) ?? String(e)
        const msg = (e as Error).message
        if (got === 'ECORRUPT') assert.match(msg, /^not a valid \.npy file: |truncated|trailing/, c.id)
        if (got === 'EINVAL' && how === 'file')
          assert.match(msg, /^unsupported dtype .*; supported: int8 \(i1\)/, c.id)
      }
      await conn.abort()
      // An import commits on its own (one transaction): the next case needs the name free again.
      if (got === 'ok') {
        await db.deleteFile('x')
        await conn.sync()
      }
      assert.equal(got, how === 'stream' ? (c.streamExpect ?? c.expect) : c.expect, `${c.id} (${how})`)
    }
    counts[c.expect] = (counts[c.expect] ?? 0) + 1
  }
  await db.close()
  assert.ok(cases.length >= 400 && counts.ok >= 40 && counts.EINVAL >= 10, JSON.stringify(counts))
  // The database is c.db and its block segments, c.db-seg (imports stored blocks).
  assert.deepEqual(readdirSync(dir).sort(), ['c.db', 'c.db-seg', 'case.npy'])
})

function plant(dir: string, p: Plant): boolean {
  if ('db' in p || 'truncatedDb' in p) return true // made by the caller
  if ('file' in p) writeFileSync(join(dir, p.file), p.text)
  else if ('dir' in p) mkdirSync(join(dir, p.dir))
  else if ('symlink' in p) symlinkSync(p.to, join(dir, p.symlink))
  else if ('fifo' in p) execFileSync('mkfifo', [join(dir, p.fifo)])
  else {
    try {
      // A character device like /dev/null: root only (elsewhere the case is skipped).
      execFileSync('mknod', [join(dir, p.device), 'c', '1', '3'], { stdio: 'ignore' })
    } catch {
      return false
    }
  }
  return true
}

/** What a directory holds, with a fingerprint of each entry (kind, and a file's content). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of readdirSync(dir)) {
    // The planted database's own companions: SQLite's, and its block segments once blocks are stored.
    if (/^d\.db-(wal|shm|seg)$/.test(name)) continue
    const st = lstatSync(join(dir, name))
    out[name] = st.isFile()
      ? `file:${st.size}:${name === 'd.db' ? '' : readFileSync(join(dir, name), 'latin1').slice(0, 16)}`
      : st.isDirectory()
        ? `dir:${readdirSync(join(dir, name)).join(',')}`
        : st.isSymbolicLink()
          ? 'symlink'
          : st.isFIFO()
            ? 'fifo'
            : 'other'
  }
  return out
}

/** Runs the command in this process (the real `run` of main.ts), its output captured. */
async function runQuiet(args: string[]): Promise<{ code: number; out: string }> {
  const saved = [console.log, console.error]
  let out = ''
  console.log = (...a: unknown[]) => {
    out += `${format(...a)}\n`
  }
  console.error = console.log
  try {
    return { code: await run(args), out }
  } finally {
    ;[console.log, console.error] = saved
  }
}

/** One database with array `a` (uint8 [4]), copied into each case that plants one. */
async function templateDb(root: string): Promise<string> {
  const path = join(root, 'template.db')
  const db = await openDatabase(path)
  const conn = db.connect({ ram: ram() })
  await BigArray.create(conn, 'a', { dtype: 'uint8', shape: [4] })
  await conn.commit()
  await db.close()
  return path
}

function prepare(root: string, template: string, k: number, c: CliCase): string | undefined {
  const dir = join(root, String(k))
  mkdirSync(dir)
  for (const p of c.plant) {
    if ('db' in p) copyFileSync(template, join(dir, p.db))
    else if ('truncatedDb' in p)
      writeFileSync(join(dir, p.truncatedDb), readFileSync(template).subarray(0, p.bytes))
    else if (!plant(dir, p)) return undefined
  }
  return dir
}

const argsIn = (dir: string, args: string[]) =>
  args.map((a) => (a.startsWith('@') ? join(dir, a.slice(1)) : a))

test('command-line corpus: each gives its exit code and leaves exactly what it should', async (t) => {
  const root = scratch(t)
  const template = await templateDb(root)
  const cases = cliCases()
  let skipped = 0
  const viaProcess: [CliCase, string][] = []
  for (const [k, c] of cases.entries()) {
    const dir = prepare(join(root), template, k, c)
    if (dir === undefined) {
      skipped++
      continue
    }
    const before = snapshot(dir)
    const r = await runQuiet([...argsIn(dir, c.args), '-q'])
    assert.equal(r.code, c.exit, `${c.id}: ${r.out}`)
    if (c.exit !== 0) assert.equal(r.out.trim().split('\n').length, 1, `${c.id}: ${r.out}`)
    const after = snapshot(dir)
    for (const name of c.creates ?? []) {
      assert.ok(after[name]?.startsWith('file:'), `${c.id}: ${name} not created`)
      delete after[name]
      // A database created is the file and, once it stores blocks, its segment directory.
      if (after[`${name}-seg`]?.startsWith('dir:')) delete after[`${name}-seg`]
    }
    if (c.id === 'export-force-file') {
      assert.match(after['o.npy'], /^file:\d+:\x93NUMPY/)
      after['o.npy'] = before['o.npy']
    }
    assert.deepEqual(after, before, `${c.id}: the directory changed`)
    if (k % 16 === 0) viaProcess.push([c, dir])
  }
  // A sample again through the real command in a child process: the same exit codes.
  for (let i = 0; i < viaProcess.length; i += 8) {
    const batch = viaProcess.slice(i, i + 8)
    const rs = await Promise.all(batch.map(([c, dir]) => bigfileAsync([...argsIn(dir, c.args), '-q'])))
    for (const [j, [c]] of batch.entries())
      assert.equal(rs[j].code, c.exit, `${c.id} (process): ${rs[j].stderr}`)
  }
  assert.ok(cases.length - skipped >= 100, `${skipped} skipped`)
})

test('API misuse in the file layer: typed errors, never a raw TypeError or errno', async (t) => {
  const dir = scratch(t)
  const db = await openDatabase(join(dir, 'c.db'))
  const conn = db.connect({ ram: ram() })
  const a = await BigArray.create(conn, 'a', { dtype: 'uint8', shape: [4] })
  await conn.commit()
  const fifo = join(dir, 'fifo')
  execFileSync('mkfifo', [fifo])
  writeFileSync(join(dir, 'f'), 'x')
  symlinkSync(join(dir, 'f'), join(dir, 'link'))
  const cases: [string, () => Promise<unknown>, string][] = [
    ['importNpy path 42', () => importNpy(conn, 'x', 42 as unknown as string), 'EINVAL'],
    ['importNpy path ""', () => importNpy(conn, 'x', ''), 'EINVAL'],
    ['importNpy path NUL', () => importNpy(conn, 'x', 'a\0b'), 'EINVAL'],
    ['importNpy missing', () => importNpy(conn, 'x', join(dir, 'nope')), 'ENOENT'],
    ['importNpy dir', () => importNpy(conn, 'x', dir), 'EINVAL'],
    ['importNpy fifo', () => importNpy(conn, 'x', fifo), 'EINVAL'],
    [
      'importRaw bad dtype',
      () => importRaw(conn, 'x', join(dir, 'f'), { dtype: 'nope' as 'uint8', shape: [1] }),
      'EINVAL',
    ],
    [
      'importRaw bad shape',
      () => importRaw(conn, 'x', join(dir, 'f'), { dtype: 'uint8', shape: [-1] }),
      'EINVAL',
    ],
    [
      'importRaw size',
      () => importRaw(conn, 'x', join(dir, 'f'), { dtype: 'uint8', shape: [2] }),
      'ECORRUPT',
    ],
    ['exportNpy path null', () => exportNpy(a, null as unknown as string), 'EINVAL'],
    ['exportNpy missing dir', () => exportNpy(a, join(dir, 'no', 'x.npy')), 'ENOENT'],
    ['exportNpy onto dir', () => exportNpy(a, dir), 'EINVAL'],
    ['exportNpy onto fifo', () => exportNpy(a, fifo), 'EINVAL'],
    ['exportNpy onto symlink', () => exportNpy(a, join(dir, 'link')), 'EINVAL'],
    ['exportRaw no overwrite', () => exportRaw(a, join(dir, 'f'), { overwrite: false }), 'EEXIST'],
    ['createExclusive symlink', () => createExclusive(join(dir, 'link')), 'EEXIST'],
    ['createExclusive fifo', () => createExclusive(fifo), 'EEXIST'],
    ['openRegular symlink', () => openRegular(join(dir, 'link')), 'EINVAL'],
    ['TempFile missing dir', () => TempFile.create(join(dir, 'no', 'x')), 'ENOENT'],
  ]
  for (const [id, fn, code] of cases) {
    await assert.rejects(fn(), (e: unknown) => {
      assert.equal(codeOf(e), code, `${id}: ${String(e)}`)
      return true
    })
    await conn.abort()
  }
  await db.close()
  assert.deepEqual(readdirSync(dir).sort(), ['c.db', 'f', 'fifo', 'link'])
  assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'x')
})
