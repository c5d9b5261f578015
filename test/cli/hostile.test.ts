// The command around hostile files and paths (issue 11 items 1, 2, 4, 6, 11, 12; issue 10: `-`).
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { run } from '../../src/cli/main.ts'
import { npyBytes } from '../array/npy-bytes.ts'
import { bigfile, bigfileAsync, MAIN, oneErrorLine, spawnBigfile, tempDir } from './helpers.ts'

const ok = (args: string[]) => {
  const r = bigfile(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r
}

test('export never writes through a link planted at the old predictable partial name', async () => {
  using t = tempDir()
  const db = join(t.dir, 'd.db')
  ok(['create', db, 'a', '--dtype', 'uint8', '--shape', '4', '-q'])
  const victim = join(t.dir, 'victim.txt')
  writeFileSync(victim, 'precious')
  const out = join(t.dir, 'out.npy')
  // The name an export in this process would have used before: FILE.partial-<pid>.
  symlinkSync(victim, `${out}.partial-${process.pid}`)
  assert.equal(await run(['export', db, 'a', out, '-q']), 0)
  assert.equal(readFileSync(victim, 'utf8'), 'precious')
  assert.ok(lstatSync(out).isFile())
  assert.equal(readFileSync(out).subarray(1, 6).toString(), 'NUMPY')
  // A read-only open of a WAL database may leave SQLite's empty -wal/-shm pair (it may not delete them).
  assert.deepEqual(
    readdirSync(t.dir)
      .filter((f) => !/-(wal|shm)$/.test(f))
      .sort(),
    ['d.db', 'out.npy', `out.npy.partial-${process.pid}`, 'victim.txt'],
  )
})

test('export --force replaces only a regular file: a FIFO, directory, symlink or device is exit 2', async () => {
  using t = tempDir()
  const db = join(t.dir, 'd.db')
  ok(['create', db, 'a', '--dtype', 'uint8', '--shape', '4', '-q'])
  const victim = join(t.dir, 'victim.txt')
  writeFileSync(victim, 'precious')
  const targets: [string, string][] = [
    [join(t.dir, 'fifo'), 'a FIFO'],
    [join(t.dir, 'dir'), 'a directory'],
    [join(t.dir, 'sym'), 'a symbolic link'],
  ]
  execFileSync('mkfifo', [targets[0][0]])
  mkdirSync(targets[1][0])
  symlinkSync(victim, targets[2][0])
  try {
    // A character device like /dev/null (as root; elsewhere mknod is not allowed and the case is skipped).
    execFileSync('mknod', [join(t.dir, 'null'), 'c', '1', '3'], { stdio: 'ignore' })
    targets.push([join(t.dir, 'null'), 'a character device'])
  } catch {}
  const before = readdirSync(t.dir).sort()
  const runs = await Promise.all(
    targets.flatMap(([p]) => [
      bigfileAsync(['export', db, 'a', p, '--force']),
      bigfileAsync(['export', db, 'a', p]),
    ]),
  )
  for (const [i, [p, kind]] of targets.entries()) {
    const [forced, plain] = [runs[2 * i], runs[2 * i + 1]]
    assert.equal(forced.code, 2, `${p}: ${forced.stderr}`)
    assert.match(oneErrorLine(forced), new RegExp(`is ${kind}: only a regular file is replaced`))
    assert.equal(plain.code, 4, `${p}: ${plain.stderr}`)
    assert.match(oneErrorLine(plain), /exists \(--force to replace it\)/)
  }
  assert.ok(statSync(targets[0][0]).isFIFO())
  assert.equal(readFileSync(victim, 'utf8'), 'precious')
  assert.deepEqual(readdirSync(t.dir).sort(), before)
})

test('export without --force keeps a FILE created while it ran: exit 4, no partial file', async () => {
  using t = tempDir()
  const db = join(t.dir, 'd.db')
  // Never written: zeros, cheap to create, 64 MiB to export.
  ok(['create', db, 'big', '--dtype', 'float64', '--shape', String(8 << 20), '-q'])
  const out = join(t.dir, 'out.raw')
  const c = spawnBigfile(['export', db, 'big', out, '--ram', '16MiB'])
  let stderr = ''
  let planted = false
  const code = await new Promise<number | null>((resolve) => {
    c.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
      if (!planted && /^export big: 10%/m.test(stderr)) {
        planted = true
        // Stopped, the export cannot finish before the file is there, however fast the machine.
        c.kill('SIGSTOP')
        writeFileSync(out, 'theirs')
        c.kill('SIGCONT')
      }
    })
    c.stdout?.resume()
    c.on('close', resolve)
  })
  assert.ok(planted, stderr)
  assert.equal(code, 4, stderr)
  assert.match(stderr, /^bigfile: .*out\.raw appeared while the export ran; it was kept/m)
  assert.equal(readFileSync(out, 'utf8'), 'theirs')
  assert.deepEqual(
    readdirSync(t.dir).filter((f) => !f.startsWith('d.db')),
    ['out.raw'],
  )
})

test('names are escaped in human output: a newline cannot forge a row, ESC never reaches the terminal', () => {
  using t = tempDir()
  const db = join(t.dir, 'd.db')
  const evil = 'x\nfake  float64  1  C  64 KiB  8 B\x1b[31m\u202e'
  const r = ok(['create', db, evil, '--dtype', 'uint8', '--shape', '1'])
  assert.equal(r.stdout.split('\n').length, 2, r.stdout)
  assert.ok(r.stdout.startsWith('created x\\nfake  float64  1  C  64 KiB  8 B\\x1b[31m\\u{202e}: uint8'))
  for (const args of [
    ['ls', db],
    ['info', db, evil],
    ['rm', db, evil],
  ]) {
    const out = ok(args).stdout
    assert.ok(!out.includes('\x1b') && !out.includes('\u202e'), args[0])
    assert.ok(out.includes('x\\nfake'), `${args[0]}: ${out}`)
    if (args[0] === 'ls') assert.equal(out.trimEnd().split('\n').length, 2, out)
  }
  const e = bigfile(['export', db, 'a', join(t.dir, 'no\x1b[2Jdir', 'f.npy')])
  assert.equal(e.code, 3)
  assert.ok(!e.stderr.includes('\x1b'))
  assert.match(oneErrorLine(e), /no\\x1b\[2Jdir/)
})

test('a failed create or import creates no database', async () => {
  using t = tempDir()
  const npy = join(t.dir, 'bad.npy')
  writeFileSync(npy, npyBytes(`{'descr': '<f8', 'fortran_order': False, 'shape': (0x1e,)}`))
  const short = join(t.dir, 'short.npy')
  writeFileSync(short, npyBytes(`{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}`, new Uint8Array(8)))
  const cases: [string[], number][] = [
    [['create', 'new1.db', '', '--dtype', 'uint8', '--shape', '4'], 2],
    [['create', 'new2.db', 'a', '--dtype', 'float64', '--shape', '99999999999,99999999999'], 2],
    [['create', 'new3.db', 'a', '--dtype', 'float64', '--shape', String(2 ** 50)], 2],
    [['create', 'new4.db', 'n'.repeat(1025), '--dtype', 'uint8', '--shape', '4'], 2],
    [['import', 'new5.db', 'a', npy], 1],
    [['import', 'new6.db', 'a', short], 1],
    [['import', 'new7.db', 'a', t.dir, '--dtype', 'uint8'], 2],
    [['import', 'new8.db', 'a', join(t.dir, 'missing.raw'), '--dtype', 'uint8'], 3],
    [['import', 'new9.db', '', npy], 2],
  ]
  const runs = await Promise.all(
    cases.map(([args]) => bigfileAsync(args.map((a) => (a.endsWith('.db') ? join(t.dir, a) : a)))),
  )
  for (const [i, [args, code]] of cases.entries()) {
    assert.equal(runs[i].code, code, `${args.join(' ').slice(0, 80)}: ${runs[i].stderr}`)
    oneErrorLine(runs[i])
  }
  assert.deepEqual(readdirSync(t.dir).sort(), ['bad.npy', 'short.npy'])
})

test('a failure after the database was created removes it; an existing database is kept', async () => {
  using t = tempDir()
  const db = join(t.dir, 'new.db')
  // The header is fine, the data is short: found only after the database is open (stdin has no size).
  const body = npyBytes(`{'descr': '<f8', 'fortran_order': False, 'shape': (1000,)}`, new Uint8Array(80))
  const r = await pipeInto(['import', db, 'a', '-', '--format', 'npy'], body)
  assert.equal(r.code, 1, r.stderr)
  assert.match(r.stderr, /stdin is truncated: 7920 bytes missing/)
  assert.deepEqual(readdirSync(t.dir), [])
  ok(['create', db, 'keep', '--dtype', 'uint8', '--shape', '1', '-q'])
  const again = await pipeInto(['import', db, 'a', '-', '--format', 'npy'], body)
  assert.equal(again.code, 1)
  assert.deepEqual(
    JSON.parse(ok(['ls', db, '--json']).stdout).map((f: { name: string }) => f.name),
    ['keep'],
  )
})

test('exit codes: an existing NAME is 4 whatever the block sizes; a header of 2^52 elements is 1', () => {
  using t = tempDir()
  const db = join(t.dir, 'd.db')
  ok(['create', db, 'big', '--dtype', 'uint8', '--shape', '4', '--blksize', '1MiB', '-q'])
  const r = bigfile(['create', db, 'big', '--dtype', 'uint8', '--shape', '4', '--blksize', '4KiB'])
  assert.equal(r.code, 4, r.stderr)
  assert.match(oneErrorLine(r), /"big" exists/)
  const huge = join(t.dir, 'huge.npy')
  writeFileSync(huge, npyBytes(`{'descr': '|u1', 'fortran_order': False, 'shape': (4503599627370496,)}`))
  const h = bigfile(['import', db, 'h', huge])
  assert.equal(h.code, 1, h.stderr)
  assert.match(oneErrorLine(h), /truncated/)
  const c = join(t.dir, 'c.npy')
  writeFileSync(c, npyBytes(`{'descr': '<c16', 'fortran_order': False, 'shape': (1,)}`, new Uint8Array(16)))
  const u = bigfile(['import', db, 'c', c])
  assert.equal(u.code, 2)
  assert.match(oneErrorLine(u), /unsupported dtype '<c16' \(complex\); supported: int8/)
})

/** Runs bigfile with `input` on its stdin (a pipe), in `cwd`. */
function pipeInto(
  args: string[],
  input: Uint8Array,
  cwd?: string,
): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [MAIN, ...args], {
      cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, BIGFILE_DEBUG: '' },
    })
    const out: Buffer[] = []
    let stderr = ''
    c.stdout.on('data', (d: Buffer) => out.push(d))
    c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    c.stdin.on('error', () => {}) // the command may stop reading early
    c.stdin.end(input)
    c.on('error', reject)
    c.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr }))
  })
}

test('`-` is stdout for export and stdin for import, through real pipes between two processes', async () => {
  using t = tempDir()
  const db = join(t.dir, 'd.db')
  const src = join(t.dir, 'in.npy')
  const values = new Float64Array(100_000).map((_, i) => i / 7)
  writeFileSync(
    src,
    npyBytes(
      `{'descr': '<f8', 'fortran_order': False, 'shape': (1000, 100), }`,
      new Uint8Array(values.buffer),
    ),
  )
  ok(['import', db, 'm', src, '-q'])
  // export … - | import … - : two processes joined by a pipe.
  const exp = spawn(process.execPath, [MAIN, 'export', db, 'm', '-', '--format', 'npy'], {
    cwd: t.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const imp = spawn(
    process.execPath,
    [MAIN, 'import', join(t.dir, 'e.db'), 'n', '-', '--format', 'npy', '-q'],
    { cwd: t.dir, stdio: [exp.stdout, 'pipe', 'pipe'] },
  )
  let expErr = ''
  let impErr = ''
  exp.stderr.setEncoding('utf8').on('data', (d: string) => (expErr += d))
  imp.stderr.setEncoding('utf8').on('data', (d: string) => (impErr += d))
  const [ce, , ci] = await Promise.all([
    // 'exit', not 'close': this process keeps its end of the pipe the importer reads from.
    new Promise((r) => exp.on('exit', r)),
    new Promise((r) => exp.stderr.on('end', r)),
    new Promise((r) => imp.on('close', r)),
  ])
  exp.stdout.destroy()
  assert.equal(ce, 0, expErr)
  assert.equal(ci, 0, impErr)
  assert.match(expErr, /^exported m: float64 \[1000,100\] to stdout/m) // the summary is not mixed into the data
  assert.ok(!existsSync(join(t.dir, '-')))
  const out = join(t.dir, 'out.npy')
  ok(['export', join(t.dir, 'e.db'), 'n', out, '-q'])
  assert.ok(readFileSync(out).equals(readFileSync(src)))
  // Raw through stdin needs --shape; with it, the bytes must be exactly the shape's.
  const raw = new Uint8Array(values.buffer)
  let r = await pipeInto(['import', db, 'r', '-', '--dtype', 'float64'], raw)
  assert.equal(r.code, 2)
  assert.match(r.stderr, /stdin needs --shape/)
  r = await pipeInto(['import', db, 'r', '-', '--dtype', 'float64', '--shape', '1000,100', '-q'], raw)
  assert.equal(r.code, 0, r.stderr)
  r = await pipeInto(['import', db, 'r2', '-', '--dtype', 'float64', '--shape', '10', '-q'], raw)
  assert.equal(r.code, 1)
  assert.match(r.stderr, /stdin has trailing bytes/)
  r = await pipeInto(['export', db, 'r', '-', '-q'], new Uint8Array(0), t.dir)
  assert.equal(r.code, 0, r.stderr)
  assert.ok(r.stdout.equals(Buffer.from(raw)))
  assert.ok(!existsSync(join(t.dir, '-')))
})
