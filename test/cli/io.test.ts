// import / export of .npy and raw files: an exported import is byte-identical to its source.
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { bigfile, oneErrorLine, tempDir } from './helpers.ts'

const ok = (args: string[]) => {
  const r = bigfile(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r
}

/** A C-order little-endian .npy v1.0 file of float64 values. */
function npy(shape: number[], values: Float64Array): Buffer {
  let h = `{'descr': '<f8', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  const pad = 64 - ((10 + h.length + 1) % 64)
  h = `${h}${' '.repeat(pad % 64)}\n`
  const head = Buffer.alloc(10)
  head.write('\x93NUMPY', 0, 'latin1')
  head[6] = 1
  head[7] = 0
  head.writeUInt16LE(h.length, 8)
  return Buffer.concat([head, Buffer.from(h, 'latin1'), Buffer.from(values.buffer)])
}

test('raw: import then export is byte-identical; the array reads back', () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  const src = join(t.dir, 'in.raw')
  const data = new Int32Array(300_000).map((_, i) => i * 7 - 1_000_000)
  writeFileSync(src, data)
  // A small RAM and block: the import commits many times on the way.
  const r = ok([
    'import',
    db,
    'x',
    src,
    '--dtype',
    'int32',
    '--shape',
    '1000,300',
    '--ram',
    '256KiB',
    '--blksize',
    '4KiB',
  ])
  assert.match(r.stdout, /imported x: int32 \[1000,300\] order C, 1\.1 MiB in [\d.]+ s \([\d.]+ MiB\/s\)/)
  assert.match(r.stderr, /^import x: 100% /m)
  const out = join(t.dir, 'out.raw')
  ok(['export', db, 'x', out, '--ram', '256KiB'])
  assert.ok(readFileSync(out).equals(readFileSync(src)))
  assert.match(bigfile(['info', db, 'x']).stdout, /^shape +1000,300$/m)
  // Without --shape: one dimension of the file's length.
  ok(['import', db, 'flat', src, '--dtype', 'uint16', '-q'])
  assert.match(bigfile(['info', db, 'flat']).stdout, /^shape +600000$/m)
})

test('npy: import then export is byte-identical', () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  const src = join(t.dir, 'in.npy')
  const values = new Float64Array(50_000).map((_, i) => Math.sin(i) * 1e6)
  writeFileSync(src, npy([250, 200], values))
  ok(['import', db, 'm', src, '-q'])
  assert.match(bigfile(['info', db, 'm']).stdout, /^dtype +float64$/m)
  const out = join(t.dir, 'out.npy')
  const r = ok(['export', db, 'm', out])
  assert.match(r.stdout, /exported m: float64 \[250,200\] to .*out\.npy/)
  assert.ok(readFileSync(out).equals(readFileSync(src)))
  // .npy to raw: the data bytes after the header.
  const raw = join(t.dir, 'out.bin')
  ok(['export', db, 'm', raw, '-q'])
  assert.ok(readFileSync(raw).equals(Buffer.from(values.buffer)))
})

test('import checks before it starts: shape against the file size, options for npy', () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  const src = join(t.dir, 'in.raw')
  writeFileSync(src, new Uint8Array(1001))
  let r = bigfile(['import', db, 'x', src, '--dtype', 'float64', '--shape', '10,10'])
  assert.equal(r.code, 2)
  assert.match(oneErrorLine(r), /800 bytes, the file has 1001/)
  r = bigfile(['import', db, 'x', src])
  assert.equal(r.code, 2)
  assert.match(oneErrorLine(r), /needs --dtype/)
  r = bigfile(['import', db, 'x', src, '--dtype', 'float64'])
  assert.equal(r.code, 2)
  assert.match(oneErrorLine(r), /not a whole number of float64/)
  const n = join(t.dir, 'x.npy')
  writeFileSync(n, npy([2], new Float64Array(2)))
  r = bigfile(['import', db, 'x', n, '--dtype', 'float64'])
  assert.equal(r.code, 2)
  oneErrorLine(r)
  writeFileSync(n, 'not an npy file at all, really not')
  r = bigfile(['import', db, 'x', n])
  assert.notEqual(r.code, 0)
  oneErrorLine(r)
  // Nothing was left behind by the failed imports: not even the database they would have created.
  assert.deepEqual(readdirSync(t.dir).sort(), ['in.raw', 'x.npy'])
})

test('import takes any NAME create takes: the staging name stays within the name limit', () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  const src = join(t.dir, 'in.raw')
  writeFileSync(src, new Uint8Array([1, 2, 3]))
  const long = 'n'.repeat(1024) // the database's limit
  ok(['create', db, long, '--dtype', 'uint8', '--shape', '3', '-q'])
  ok(['rm', db, long, '-q'])
  ok(['import', db, long, src, '--dtype', 'uint8', '-q'])
  // Non-BMP characters where the staging name is cut (either parity): it must stay well-formed.
  const emoji = [`${'e'.repeat(950)}${'😀'.repeat(37)}`, `${'e'.repeat(951)}${'😀'.repeat(36)}`]
  for (const name of emoji) ok(['import', db, name, src, '--dtype', 'uint8', '-q'])
  const names = JSON.parse(bigfile(['ls', db, '--json']).stdout).map((f: { name: string }) => f.name)
  assert.deepEqual(names.sort(), [long, ...emoji].sort())
  const out = join(t.dir, 'out.raw')
  ok(['export', db, long, out, '-q'])
  assert.ok(readFileSync(out).equals(readFileSync(src)))
  // A NAME over the limit is refused before any work, as create refuses it.
  const r = bigfile(['import', db, `${long}x`, src, '--dtype', 'uint8'])
  assert.equal(r.code, 2)
  assert.match(oneErrorLine(r), /1025 characters long; the limit is 1024/)
})

test('export into a missing directory: exit 3 naming FILE and the directory, nothing created', () => {
  using t = tempDir()
  const db = join(t.dir, 'a.bigfile')
  ok(['create', db, 'a', '--dtype', 'uint8', '--shape', '4', '-q'])
  const missing = join(t.dir, 'no', 'such')
  let r = bigfile(['export', db, 'a', join(missing, 'out.npy')])
  assert.equal(r.code, 3)
  const line = oneErrorLine(r)
  assert.ok(
    line.includes(join(missing, 'out.npy')) && line.includes(`directory ${missing} does not exist`),
    line,
  )
  assert.doesNotMatch(line, /partial/)
  // A file where the directory should be: a usage error, still about FILE.
  const file = join(t.dir, 'plain')
  writeFileSync(file, '')
  r = bigfile(['export', db, 'a', join(file, 'out.npy')])
  assert.equal(r.code, 2)
  assert.match(oneErrorLine(r), /plain is not a directory/)
})
