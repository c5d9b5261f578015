// NumPy type codes name dtypes in the library too: dtypeOf, and wherever a dtype is taken (create, over).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SUPPORTED_DTYPES } from '../../src/array/dtype.ts'
import { BigArray, DTYPES, type DType, dtypeOf, FileH, MemoryBigFile, RAM } from '../../src/index.ts'

test('dtypeOf: names, codes with little-endian or no byte order', () => {
  for (const d of DTYPES) assert.equal(dtypeOf(d), d)
  const codes: [string, DType][] = [
    ['f8', 'float64'],
    ['<f8', 'float64'],
    ['=f4', 'float32'],
    ['f2', 'float16'],
    ['i1', 'int8'],
    ['|i1', 'int8'],
    ['|u1', 'uint8'],
    ['<i2', 'int16'],
    ['u2', 'uint16'],
    ['i4', 'int32'],
    ['<u4', 'uint32'],
    ['i8', 'int64'],
    ['u8', 'uint64'],
  ]
  for (const [code, d] of codes) assert.equal(dtypeOf(code), d, code)
})

test('dtypeOf refuses by name, listing what is supported', () => {
  const list = `(supported: ${SUPPORTED_DTYPES}; codes may start with < or =)`
  assert.equal(SUPPORTED_DTYPES.split(', ').length, DTYPES.length)
  assert.match(SUPPORTED_DTYPES, /^int8 \(i1\), uint8 \(u1\), int16 \(i2\), .*, float64 \(f8\)$/)
  const refused: [unknown, string][] = [
    ['>f8', 'big-endian dtype ">f8" is not supported: arrays are little-endian'],
    ['>i1', 'big-endian dtype ">i1" is not supported: arrays are little-endian'],
    ['b1', 'dtype "b1" (bool) is not supported'],
    ['?', 'unknown dtype "?"'],
    ['<c8', 'dtype "<c8" (complex) is not supported'],
    ['<U10', 'dtype "<U10" (unicode) is not supported'],
    ['|f8', 'unknown dtype "|f8"'],
    ['f16', 'unknown dtype "f16"'],
    ['float', 'unknown dtype "float"'],
    [7, 'unknown dtype 7'],
  ]
  for (const [text, why] of refused) {
    assert.throws(() => dtypeOf(text), { code: 'EINVAL', message: `${why} ${list}` }, String(text))
  }
})

test('BigArray.over takes a code; the array reports the name (create too: test/cli/options.test.ts)', async () => {
  const ram = new RAM({ pagesize: 4096, capacity: 16 * 4096 })
  const a = BigArray.over(new FileH(new MemoryBigFile(4096), ram), { dtype: '<f4' as DType, shape: [3] })
  assert.equal(a.dtype, 'float32')
  assert.equal(a.itemsize, 4)
})
