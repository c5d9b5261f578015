// Size and argument parsing, in process: the shapes of what people type.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { parseBlksize, parseDType, parseShape } from '../../src/cli/args.ts'
import { Exit, exitCodeOf } from '../../src/cli/exit.ts'
import { formatBytes, parseSize } from '../../src/cli/size.ts'
import { BigFileError, NotFoundError, OutOfMemoryError } from '../../src/errors.ts'

test('sizes: binary and decimal units, plain bytes', () => {
  assert.equal(parseSize('256MiB', 'x'), 256 << 20)
  assert.equal(parseSize('1GiB', 'x'), 1 << 30)
  assert.equal(parseSize('64KiB', 'x'), 64 << 10)
  assert.equal(parseSize('64k', 'x'), 64 << 10)
  assert.equal(parseSize('1.5GiB', 'x'), 1.5 * (1 << 30))
  assert.equal(parseSize('1GB', 'x'), 1e9)
  assert.equal(parseSize('4096', 'x'), 4096)
  for (const bad of ['', 'MiB', '12 parsecs', '-1MiB', '0.3B']) {
    assert.throws(
      () => parseSize(bad, '--ram'),
      (e: Error & { code: string }) => e.code === 'EUSAGE',
    )
  }
})

test('formatBytes', () => {
  assert.equal(formatBytes(512), '512 B')
  assert.equal(formatBytes(64 << 10), '64 KiB')
  assert.equal(formatBytes(1536 << 20), '1.5 GiB')
})

test('shapes, dtypes, block sizes', () => {
  assert.deepEqual(parseShape('1000,64'), [1000, 64])
  assert.deepEqual(parseShape('(3, 4)'), [3, 4])
  assert.deepEqual(parseShape(''), [])
  assert.throws(() => parseShape('3,-4'))
  assert.throws(() => parseShape('a'))
  assert.equal(parseDType('float64'), 'float64')
  assert.throws(() => parseDType('float128'))
  assert.equal(parseBlksize('2MiB'), 2 << 20)
  assert.throws(() => parseBlksize('3000'))
})

test('exit codes by error code', () => {
  assert.equal(exitCodeOf(new NotFoundError('x')), Exit.NOT_FOUND)
  assert.equal(exitCodeOf(new OutOfMemoryError('x')), Exit.OUT_OF_MEMORY)
  assert.equal(exitCodeOf(new BigFileError('EABORT', 'x')), Exit.INTERRUPTED)
  assert.equal(exitCodeOf(new BigFileError('ECONFLICT', 'x')), Exit.CONFLICT)
  assert.equal(exitCodeOf(new BigFileError('ESTORAGE', 'x')), Exit.ERROR)
  assert.equal(exitCodeOf(new Error('x')), Exit.ERROR)
})
