// --version, NumPy dtype codes, parse errors as one line, info --json, staging names in ls.
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { STAGING_NAME } from '../../src/cli/commands/ls.ts'
import { stagingName } from '../../src/cli/io.ts'
import { bigfile, bigfileAsync, oneErrorLine, tempDir } from './helpers.ts'

const ok = (args: string[]) => {
  const r = bigfile(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r
}

test('--version prints the version in package.json', () => {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'))
  const r = ok(['--version'])
  assert.equal(r.stdout, `bigfile ${pkg.version}\n`)
  assert.equal(r.stderr, '')
  const bad = bigfile(['--version', 'x'])
  assert.equal(bad.code, 2)
  assert.match(oneErrorLine(bad), /--version: unexpected argument "x"/)
})

test('NumPy dtype codes where dtype names are; refusals list what is supported', async () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  const codes: [string, string][] = [
    ['f8', 'float64'],
    ['<f4', 'float32'],
    ['=i2', 'int16'],
    ['i8', 'int64'],
    ['u1', 'uint8'],
    ['|i1', 'int8'],
    ['<u8', 'uint64'],
    ['uint32', 'uint32'],
  ]
  // A database each, to run them at once.
  const infos = await Promise.all(
    codes.map(async ([code], k) => {
      const each = join(t.dir, `c${k}.db`)
      const c = await bigfileAsync(['create', each, 'a', '--dtype', code, '--shape', '3', '-q'])
      assert.equal(c.code, 0, `${code}: ${c.stderr}`)
      return (await bigfileAsync(['info', each, 'a', '--json'])).stdout
    }),
  )
  for (const [k, [code, name]] of codes.entries()) assert.equal(JSON.parse(infos[k]).dtype, name, code)
  const raw = join(t.dir, 'x.raw')
  writeFileSync(raw, new Float32Array([1, 2, 3, 4]))
  ok(['import', db, 'r', raw, '--dtype', '<f4', '-q'])
  assert.equal(ok(['show', db, 'r']).stdout, '[1. 2. 3. 4.]\n')
  const supported = /\(supported: int8 \(i1\), uint8 \(u1\), .*float64 \(f8\); codes may start with < or =\)$/
  const refused: [string[], RegExp][] = [
    [['create', db, 'b', '--dtype', '>i4', '--shape', '3'], /big-endian dtype ">i4" is not supported/],
    [['create', db, 'b', '--dtype', 'b1', '--shape', '3'], /dtype "b1" \(bool\) is not supported/],
    [['create', db, 'b', '--dtype', 'c16', '--shape', '3'], /dtype "c16" \(complex\) is not supported/],
    [['create', db, 'b', '--dtype', 'float128', '--shape', '3'], /unknown dtype "float128"/],
    [['create', db, 'b', '--dtype', '|f8', '--shape', '3'], /unknown dtype "\|f8"/],
    [['import', db, 'b', raw, '--dtype', 'f3'], /unknown dtype "f3"/],
  ]
  const runs = await Promise.all(refused.map(([args]) => bigfileAsync(args)))
  for (const [k, [args, re]] of refused.entries()) {
    assert.equal(runs[k].code, 2, args.join(' '))
    const line = oneErrorLine(runs[k])
    assert.match(line, /^bigfile: --dtype: /)
    assert.match(line, re)
    assert.match(line, supported)
  }
})

test('every parseArgs mistake is one line; --keep -1 reaches the value check', async () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  ok(['create', db, 'a', '--dtype', 'u1', '--shape', '3', '-q'])
  const cases: [string[], string][] = [
    [['pack', db, '--keep', '-1'], 'bigfile: --keep: not a non-negative integer: "-1"'],
    [['pack', db, '--keep'], 'bigfile: pack: --keep needs a value (see bigfile pack --help)'],
    [['pack', db, '--keep', '--quiet'], 'bigfile: pack: --keep needs a value (see bigfile pack --help)'],
    [
      ['ls', db, '--json=yes'],
      "bigfile: ls: Option '--json' does not take an argument (see bigfile ls --help)",
    ],
    [['ls', db, '-x'], "bigfile: ls: Unknown option '-x' (see bigfile ls --help)"],
    [
      ['create', db, 'b', '--dtype', 'u1', '--shape', '-3'],
      'bigfile: --shape: "-3" is not a list of sizes like 1000,64',
    ],
  ]
  const runs = await Promise.all(cases.map(([args]) => bigfileAsync(args)))
  for (const [k, [args, want]] of cases.entries()) {
    assert.equal(runs[k].code, 2, args.join(' '))
    assert.equal(oneErrorLine(runs[k]), want)
  }
})

test("info --json has the human view's fields at the top level", () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  ok(['create', db, 'a', '--dtype', 'f4', '--shape', '10,3', '--order', 'F', '-q'])
  const json = JSON.parse(ok(['info', db, 'a', '--json']).stdout)
  assert.deepEqual(json, {
    name: 'a',
    kind: 'array',
    dtype: 'float32',
    shape: [10, 3],
    order: 'F',
    itemsize: 4,
    elements: 30,
    blksize: 65536,
    size: 120,
    tid: 1,
    meta: { bigarray: 1, dtype: 'float32', shape: [10, 3], order: 'F' },
  })
  // The human view lists the same fields, in the same order.
  const human = ok(['info', db, 'a']).stdout
  const keys = human
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(/ +/)[0])
  assert.deepEqual(keys, Object.keys(json))
})

test('ls leaves out the staging files of imports unless --all, and says how many', () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  const staging = stagingName('big')
  assert.match(staging, STAGING_NAME, 'ls recognizes the names import stages to')
  assert.doesNotMatch('.importing', STAGING_NAME)
  ok(['create', db, 'a', '--dtype', 'u1', '--shape', '3', '-q'])
  ok(['create', db, staging, '--dtype', 'u1', '--shape', '3', '-q'])
  let r = ok(['ls', db])
  assert.doesNotMatch(r.stdout, /importing/)
  assert.match(r.stdout, /^a +uint8/m)
  assert.equal(r.stderr, '(1 staging file of imports in progress or killed not listed: bigfile ls --all)\n')
  assert.deepEqual(
    JSON.parse(ok(['ls', db, '--json', '-q']).stdout).map((f: { name: string }) => f.name),
    ['a'],
  )
  r = ok(['ls', db, '--all'])
  assert.match(r.stdout, new RegExp(`^${staging.replaceAll('.', '\\.')} \\(importing\\) +uint8`, 'm'))
  assert.equal(r.stderr, '')
  const all = JSON.parse(ok(['ls', db, '-a', '--json']).stdout)
  assert.deepEqual(
    all.map((f: { name: string; staging?: boolean }) => [f.name, f.staging]),
    [
      ['a', undefined],
      [staging, true],
    ].sort((x, y) => (String(x[0]) < String(y[0]) ? -1 : 1)),
  )
})
