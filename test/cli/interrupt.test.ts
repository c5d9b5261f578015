// Ctrl-C: SIGINT to a long import or demo exits 130 with the transaction aborted, nothing half-written.
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { closeSync, ftruncateSync, openSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { bigfile, spawnBigfile, tempDir } from './helpers.ts'

/** Sends SIGINT once `pattern` shows on stderr; resolves to the exit code and the output. */
function interruptWhen(
  c: ChildProcess,
  pattern: RegExp,
): Promise<{ code: number | null; stderr: string; sent: boolean }> {
  return new Promise((resolve) => {
    let stderr = ''
    let sent = false
    c.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      if (!sent && pattern.test(stderr)) {
        sent = true
        c.kill('SIGINT')
      }
    })
    c.stdout?.resume()
    c.on('close', (code) => resolve({ code, stderr, sent }))
  })
}

test('Ctrl-C during a long import: exit 130, no array under the name, no staging leftover', async () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  const src = join(t.dir, 'big.raw')
  const fd = openSync(src, 'w')
  ftruncateSync(fd, 512 << 20) // sparse: cheap to make, 512 MiB to import
  closeSync(fd)
  assert.equal(bigfile(['create', db, 'other', '--dtype', 'uint8', '--shape', '10', '-q']).code, 0)
  // Opt-in commits every 2 MiB (an import is otherwise one transaction), so some chunks are committed
  // before the interrupt.
  const c = spawnBigfile([
    'import',
    db,
    'big',
    src,
    '--dtype',
    'float64',
    '--ram',
    '4MiB',
    '--commit-every',
    '2MiB',
  ])
  const r = await interruptWhen(c, /^import big: 10%/m)
  assert.ok(r.sent, `the import ended before it could be interrupted: ${r.stderr}`)
  assert.equal(r.code, 130, r.stderr)
  assert.match(r.stderr, /^bigfile: interrupted/m)
  const names = JSON.parse(bigfile(['ls', db, '--json']).stdout).map((f: { name: string }) => f.name)
  assert.deepEqual(names, ['other'])
  // Chunks were committed under the staging name before the interrupt, and deleted after it.
  const st = JSON.parse(bigfile(['stats', db, '--json']).stdout)
  assert.ok(st.head > 3, `head ${st.head}`)
  assert.equal(st.bytes, 10)
})

test('Ctrl-C during the demo: exit 130, temporary database removed', async () => {
  using t = tempDir()
  const c = spawnBigfile(['demo', '--data', '1GiB', '--ram', '64MiB'], { TMPDIR: t.dir })
  const r = await interruptWhen(c, /^fill: 10%/m)
  assert.ok(r.sent, r.stderr)
  assert.equal(r.code, 130, r.stderr)
  assert.match(r.stderr, /^bigfile: interrupted/m)
  assert.deepEqual(readdirSync(t.dir), [])
})

test('a second Ctrl-C during an export exits 130 at once: no partial file left, one line on stderr', async () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  // Never written: the array reads as zeros, so it is cheap to make and 512 MiB to export.
  assert.equal(
    bigfile(['create', db, 'big', '--dtype', 'float64', '--shape', String(64 << 20), '-q']).code,
    0,
  )
  const out = join(t.dir, 'big.raw')
  const c = spawnBigfile(['export', db, 'big', out, '--ram', '64MiB'])
  let stderr = ''
  let sent = false
  const code = await new Promise<number | null>((resolve) => {
    c.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      if (!sent && /^export big: 10%/m.test(stderr)) {
        sent = true
        // Two signals at once (SIGTERM is handled as SIGINT; two SIGINTs could merge into one): the
        // second arrives while the first is still aborting, and exits without waiting for it.
        c.kill('SIGINT')
        c.kill('SIGTERM')
      }
    })
    c.stdout?.resume()
    c.on('close', resolve)
  })
  assert.ok(sent, `the export ended before it could be interrupted: ${stderr}`)
  assert.equal(code, 130, stderr)
  assert.match(stderr, /^bigfile: interrupted/m)
  assert.equal(stderr.split('\n').filter((l) => l.startsWith('bigfile: ')).length, 1, stderr)
  // The immediate exit ran the export's cleanup (the database's -wal/-shm files may stay: it was not closed).
  assert.deepEqual(
    readdirSync(t.dir).filter((f) => !f.startsWith('a.bigfile')),
    [],
  )
})
