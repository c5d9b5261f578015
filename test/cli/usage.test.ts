// Help, usage errors and error reporting of the real command.
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { COMMANDS } from '../../src/cli/main.ts'
import { bigfile, bigfileAsync, oneErrorLine, tempDir } from './helpers.ts'

test('--help on every subcommand: exit 0, its usage on stdout', async () => {
  const names = Object.keys(COMMANDS)
  const runs = await Promise.all(names.map((name, i) => bigfileAsync([name, i % 2 ? '--help' : '-h'])))
  names.forEach((name, i) => {
    const r = runs[i]
    assert.equal(r.code, 0, `${name}: ${r.stderr}`)
    assert.match(r.stdout, new RegExp(`^Usage: bigfile ${name}`), name)
    assert.match(r.stdout, /--ram SIZE/, name)
    assert.equal(r.stderr, '')
  })
})

test('top-level help lists every command and the exit codes', () => {
  const r = bigfile(['--help'])
  assert.equal(r.code, 0)
  for (const name of Object.keys(COMMANDS)) assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'))
  assert.match(r.stdout, /^ {2}130 {2}interrupted/m)
  const none = bigfile([])
  assert.equal(none.code, 2)
  assert.match(none.stderr, /^Usage: bigfile/)
})

test('usage errors: exit 2, one line, no stack', async () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown command "frobnicate"/],
    [['ls'], /ls: missing DB/],
    [['info', db], /info: missing NAME/],
    [['ls', db, 'extra'], /unexpected argument "extra"/],
    [['ls', db, '--bogus'], /Unknown option '--bogus'/],
    [['create', db, 'a', '--shape', '10'], /--dtype is required/],
    [['create', db, 'a', '--dtype', 'float128', '--shape', '10'], /unknown dtype "float128"/],
    [['create', db, 'a', '--dtype', 'float64', '--shape', '10,-1'], /--shape/],
    [['create', db, 'a', '--dtype', 'float64', '--shape', '10', '--blksize', '1000'], /--blksize/],
    [['create', db, 'a', '--dtype', 'float64', '--shape', '10', '--order', 'Z'], /--order/],
    [['demo', '--ram', 'lots'], /--ram: not a size/],
    [['pack', db, '--keep', '-1'], /--keep|Unknown option/],
  ]
  const runs = await Promise.all(cases.map(([args]) => bigfileAsync(args)))
  for (const [k, [args, re]] of cases.entries()) {
    const r = runs[k]
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(oneErrorLine(r), re)
    assert.equal(r.stdout, '')
  }
})

test('not found: exit 3 for a missing database, array or input file', () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  let r = bigfile(['ls', db])
  assert.equal(r.code, 3)
  assert.match(oneErrorLine(r), /does not exist/)
  assert.equal(bigfile(['create', db, 'a', '--dtype', 'uint8', '--shape', '4', '-q']).code, 0)
  for (const args of [
    ['info', db, 'nope'],
    ['rm', db, 'nope'],
    ['export', db, 'nope', join(t.dir, 'o.npy')],
    ['import', db, 'b', join(t.dir, 'missing.npy')],
  ]) {
    r = bigfile(args)
    assert.equal(r.code, 3, `${args[0]}: ${r.stderr}`)
    oneErrorLine(r)
  }
})

test('conflict: exit 4 when the name or the output file exists', () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  assert.equal(bigfile(['create', db, 'a', '--dtype', 'uint8', '--shape', '4', '-q']).code, 0)
  let r = bigfile(['create', db, 'a', '--dtype', 'uint8', '--shape', '4'])
  assert.equal(r.code, 4)
  assert.match(oneErrorLine(r), /exists/)
  const out = join(t.dir, 'a.raw')
  assert.equal(bigfile(['export', db, 'a', out, '-q']).code, 0)
  r = bigfile(['export', db, 'a', out])
  assert.equal(r.code, 4)
  assert.match(oneErrorLine(r), /--force/)
  assert.equal(bigfile(['export', db, 'a', out, '--force', '-q']).code, 0)
  r = bigfile(['import', db, 'a', out, '--dtype', 'uint8'])
  assert.equal(r.code, 4)
  oneErrorLine(r)
})

test('BIGFILE_DEBUG=1 adds the stack', () => {
  using t = tempDir()
  const r = bigfile(['ls', join(t.dir, 'x.db')], { BIGFILE_DEBUG: '1' })
  assert.equal(r.code, 3)
  assert.match(r.stderr, /^bigfile: .*\n.*Error/)
  assert.match(r.stderr, /\n\s+at /)
})

test('help as parsed: -qh asks for it, `help CMD` shows that command, after -- it is a positional', async () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  const runs = await Promise.all([
    bigfileAsync(['info', db, 'a', '-qh']),
    bigfileAsync(['ls', db, '--bogus', '--help']),
    bigfileAsync(['help', 'create']),
    bigfileAsync(['help']),
  ])
  for (const r of runs) assert.equal(r.code, 0, r.stderr)
  assert.match(runs[0].stdout, /^Usage: bigfile info /)
  assert.match(runs[1].stdout, /^Usage: bigfile ls /)
  assert.match(runs[2].stdout, /^Usage: bigfile create /)
  assert.match(runs[3].stdout, /^Usage: bigfile <command>/)
  let r = bigfile(['help', 'frobnicate'])
  assert.equal(r.code, 2)
  assert.match(oneErrorLine(r), /unknown command "frobnicate"/)
  // An array named --help: `--` ends the options, what follows is positional.
  r = bigfile(['create', db, '--dtype', 'uint8', '--shape', '4', '-q', '--', '--help'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, '')
  assert.deepEqual(
    JSON.parse(bigfile(['ls', db, '--json']).stdout).map((f: { name: string }) => f.name),
    ['--help'],
  )
  r = bigfile(['rm', db, '--', '--help'])
  assert.equal(r.code, 0, r.stderr)
  assert.equal(r.stdout, 'removed --help\n')
  assert.deepEqual(JSON.parse(bigfile(['ls', db, '--json']).stdout), [])
})

test('--shape takes NumPy tuple forms: (3,) and 3, are 1-d, () is 0-d', async () => {
  using t = tempDir()
  const cases: [string, string][] = [
    ['(3,)', '3'],
    ['3,', '3'],
    ['(2, 5)', '2,5'],
    ['()', ''],
  ]
  for (const [k, [shape, want]] of cases.entries()) {
    const db = join(t.dir, `s${k}.db`)
    const r = bigfile(['create', db, 'a', '--dtype', 'uint8', '--shape', shape, '-q'])
    assert.equal(r.code, 0, `${shape}: ${r.stderr}`)
    assert.deepEqual(
      JSON.parse(bigfile(['info', db, 'a', '--json']).stdout).meta.shape,
      want === '' ? [] : want.split(',').map(Number),
    )
  }
  for (const bad of [',', '3,,', '(,)', '3,,4']) {
    const r = bigfile(['create', join(t.dir, 'bad.db'), 'a', '--dtype', 'uint8', '--shape', bad])
    assert.equal(r.code, 2, bad)
    assert.match(oneErrorLine(r), /--shape/)
  }
})
