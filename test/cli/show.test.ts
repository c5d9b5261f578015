// bigfile show and bigfile stat through the real command: NumPy's print layout, INDEX, the summary.
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { bigfile, bigfileAsync, oneErrorLine, spawnBigfile, tempDir } from './helpers.ts'

function ok(args: string[]): string {
  const r = bigfile(args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** A database with: m = arange(24.)/4 as float64 (4,6); big = arange(5000) int64; e = empty float32. */
function fixture(dir: string): string {
  const db = join(dir, 'x.db')
  const m = join(dir, 'm.raw')
  writeFileSync(m, new Float64Array(Array.from({ length: 24 }, (_, i) => i / 4)))
  const big = join(dir, 'big.raw')
  writeFileSync(big, new BigInt64Array(Array.from({ length: 5000 }, (_, i) => BigInt(i))))
  ok(['import', db, 'm', m, '--dtype', 'f8', '--shape', '4,6', '-q'])
  ok(['import', db, 'big', big, '--dtype', '<i8', '-q'])
  ok(['create', db, 'e', '--dtype', 'f4', '--shape', '0', '-q'])
  return db
}

test('show: NumPy print layout, summarized beyond --threshold, INDEX selects', async () => {
  using t = tempDir()
  const db = fixture(t.dir)
  const cases: [string[], string][] = [
    [
      ['m'],
      '[[0.   0.25 0.5  0.75 1.   1.25]\n [1.5  1.75 2.   2.25 2.5  2.75]\n [3.   3.25 3.5  3.75 4.   4.25]\n [4.5  4.75 5.   5.25 5.5  5.75]]\n',
    ],
    [['m', '1'], '[1.5  1.75 2.   2.25 2.5  2.75]\n'],
    [['m', '-1,-1'], '5.75\n'],
    [['m', '[1:3, ::2]'], '[[1.5 2.  2.5]\n [3.  3.5 4. ]]\n'],
    [['m', ':,0'], '[0.  1.5 3.  4.5]\n'],
    [['m', '5:'], '[]\n'],
    [['big'], '[   0    1    2 ... 4997 4998 4999]\n'],
    [['big', '-3:'], '[4997 4998 4999]\n'],
    [['big', '--edgeitems', '1'], '[   0 ... 4999]\n'],
    [['big', ':12', '--threshold', '5', '--edgeitems', '2'], '[ 0  1 ... 10 11]\n'],
    [['e'], '[]\n'],
  ]
  const runs = await Promise.all(cases.map(([args]) => bigfileAsync(['show', db, ...args])))
  for (const [k, [args, want]] of cases.entries()) {
    assert.equal(runs[k].code, 0, `${args.join(' ')}: ${runs[k].stderr}`)
    assert.equal(runs[k].stdout, want, args.join(' '))
  }
  // Long rows wrap within 75 columns (room kept for the closing bracket), as NumPy's print.
  assert.equal(
    ok(['show', db, 'big', ':30']),
    `[${Array.from({ length: 24 }, (_, i) => String(i).padStart(2)).join(' ')}\n 24 25 26 27 28 29]\n`,
  )
})

test('show and stat: a bad INDEX is a usage error (2), a missing array not found (3)', async () => {
  using t = tempDir()
  const db = fixture(t.dir)
  const cases: [string[], number, RegExp][] = [
    [['show', db, 'm', '4'], 2, /INDEX "4": index 4 is out of bounds for axis 0 with size 4/],
    [['show', db, 'm', '1,2,3'], 2, /INDEX "1,2,3": too many indices for an array of 2 dimension/],
    [['show', db, 'm', 'a:b'], 2, /INDEX "a:b": "a" is not an integer/],
    [['show', db, 'm', '::0'], 2, /step cannot be zero/],
    [['show', db, 'm', '1,,2'], 2, /an empty item/],
    [['show', db, 'm', '0', 'extra'], 2, /unexpected argument "extra"/],
    [['show', db, 'nope'], 3, /nope/],
    [['stat', db, 'nope'], 3, /nope/],
    [['stat', db, 'm', '9'], 2, /out of bounds/],
  ]
  const runs = await Promise.all(cases.map(([args]) => bigfileAsync(args)))
  for (const [k, [args, code, re]] of cases.entries()) {
    assert.equal(runs[k].code, code, `${args.join(' ')}: ${runs[k].stderr}`)
    assert.match(oneErrorLine(runs[k]), re)
    assert.equal(runs[k].stdout, '')
  }
})

test('stat: count, min, max, mean, sum (exact for int64), NaNs; JSON; progress on stderr', async () => {
  using t = tempDir()
  const db = fixture(t.dir)
  const nan = join(t.dir, 'nan.raw')
  writeFileSync(nan, new Float32Array([1, Number.NaN, 3]))
  ok(['import', db, 'n', nan, '--dtype', 'float32', '-q'])
  const [m, big, row, e, n, bigJson] = await Promise.all([
    bigfileAsync(['stat', db, 'm']),
    bigfileAsync(['stat', db, 'big', '-q']),
    bigfileAsync(['stat', db, 'm', '1', '--json']),
    bigfileAsync(['stat', db, 'e', '--json']),
    bigfileAsync(['stat', db, 'n', '--json']),
    bigfileAsync(['stat', db, 'big', '--json']),
  ])
  assert.equal(m.stdout, 'count  24\nmin    0\nmax    5.75\nmean   2.875\nsum    69\nnan    0\n')
  // Not a terminal: the progress is a line per tenth on stderr.
  assert.match(m.stderr, /^stat m: 100% \(192 B of 192 B, .*\)$/m)
  assert.equal(big.stdout, 'count  5,000\nmin    0\nmax    4999\nmean   2499.5\nsum    12497500\n')
  assert.equal(big.stderr, '')
  assert.deepEqual(JSON.parse(row.stdout), {
    dtype: 'float64',
    count: 6,
    min: 1.5,
    max: 2.75,
    mean: 2.125,
    sum: 12.75,
    nan: 0,
  })
  assert.deepEqual(JSON.parse(e.stdout), {
    dtype: 'float32',
    count: 0,
    min: null,
    max: null,
    mean: null,
    sum: 0,
    nan: 0,
  })
  assert.deepEqual(JSON.parse(n.stdout), {
    dtype: 'float32',
    count: 3,
    min: null,
    max: null,
    mean: null,
    sum: null,
    nan: 1,
  })
  assert.equal(JSON.parse(bigJson.stdout).sum, 12497500)
})

test('stat: 64-bit sums beyond 2^53 stay exact (as a JSON string)', () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  const f = join(t.dir, 'u.raw')
  writeFileSync(f, new BigUint64Array([2n ** 63n, 2n ** 63n + 1n, 5n]))
  ok(['import', db, 'u', f, '--dtype', 'u8', '-q'])
  const s = JSON.parse(ok(['stat', db, 'u', '--json']))
  assert.equal(s.sum, String(2n ** 64n + 6n))
  assert.equal(s.max, String(2n ** 63n + 1n))
  assert.equal(s.min, 5)
  assert.match(ok(['stat', db, 'u']), /^sum +18446744073709551622$/m)
})

test('stat: Ctrl-C stops the pass, exit 130, one line', async () => {
  using t = tempDir()
  const db = join(t.dir, 'x.db')
  // 2 GiB of zeros (holes: nothing stored), read through 4 MiB of RAM.
  ok(['create', db, 'big', '--dtype', 'f8', '--shape', String(2 ** 28), '-q'])
  const c = spawnBigfile(['stat', db, 'big', '--ram', '4MiB'])
  let stderr = ''
  let stdout = ''
  let sent = false
  c.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  c.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
    // Once: a second Ctrl-C is the "exit at once" one, and one late in the exit is Node's default kill.
    if (!sent && /^stat big: 10%/m.test(stderr)) {
      sent = true
      c.kill('SIGINT')
    }
  })
  const code = await new Promise((resolve) => c.on('close', resolve))
  assert.equal(code, 130, stderr)
  assert.equal(stdout, '')
  assert.match(stderr, /^bigfile: interrupted/m)
  assert.doesNotMatch(stderr, /stat big: 100%/)
})
