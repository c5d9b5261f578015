// The preview's text is NumPy's print() (numpy 2.x): the expected strings below are what NumPy prints.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { preview } from '../../src/cli/preview.ts'
import { BigArray, type DType, FileH, MemoryBigFile, RAM } from '../../src/index.ts'

async function arrayOf(dtype: DType, shape: number[], values: ArrayLike<number | bigint>): Promise<BigArray> {
  // Room for every page: a memory file's dirty pages have nowhere to go.
  const bytes = shape.reduce((x, y) => x * y, 1) * 8
  const ram = new RAM({ pagesize: 4096, capacity: (Math.ceil(bytes / 4096) + 8) * 4096 })
  const a = BigArray.over(new FileH(new MemoryBigFile(4096), ram), { dtype, shape })
  await a.copyFrom(values)
  return a
}

const range = <T = number>(n: number, f: (i: number) => T = (i) => i as T): T[] =>
  Array.from({ length: n }, (_, i) => f(i))

test('floats: positional with aligned points, or scientific for all; nan, inf, -0', async () => {
  const cases: [DType, number[], number[], string][] = [
    ['float64', [3], [0.1, 2.5, -0], '[ 0.1  2.5 -0. ]'],
    ['float64', [4], [0.1, 2.5, -0, 1 / 3], '[ 0.1         2.5        -0.          0.33333333]'],
    ['float32', [4], [1e-5, 3.25, Number.NaN, -Infinity], '[1.00e-05 3.25e+00      nan     -inf]'],
    ['float32', [3], [0.1, 0.2, 0.3], '[0.1 0.2 0.3]'],
    ['float64', [2], [1, 2000], '[1.e+00 2.e+03]'],
    ['float64', [2], [1.5, 1e8], '[1.5e+00 1.0e+08]'],
    ['float64', [2, 3], range(6), '[[0. 1. 2.]\n [3. 4. 5.]]'],
    ['float64', [1], [Number.NaN], '[nan]'],
  ]
  for (const [dtype, shape, values, want] of cases) {
    assert.equal(await preview(await arrayOf(dtype, shape, values)), want, `${dtype} ${values}`)
  }
})

test('integers, 0-d, empty; summary and wrapping as NumPy', async () => {
  assert.equal(await preview(await arrayOf('int16', [4], [-5, 10, 300, 0])), '[ -5  10 300   0]')
  assert.equal(
    await preview(await arrayOf('uint64', [2], [2n ** 64n - 1n, 0n])),
    '[18446744073709551615                    0]',
  )
  assert.equal(await preview(await arrayOf('int32', [], [42])), '42')
  assert.equal(await preview(await arrayOf('int32', [0, 3], [])), '[]')
  const big = await arrayOf('int64', [2000, 2000], range(4e6, BigInt))
  assert.equal(
    await preview(big),
    `[[      0       1       2 ...    1997    1998    1999]
 [   2000    2001    2002 ...    3997    3998    3999]
 [   4000    4001    4002 ...    5997    5998    5999]
 ...
 [3994000 3994001 3994002 ... 3995997 3995998 3995999]
 [3996000 3996001 3996002 ... 3997997 3997998 3997999]
 [3998000 3998001 3998002 ... 3999997 3999998 3999999]]`,
  )
  const cube = await arrayOf('int16', [2, 2, 30], range(120))
  assert.equal(
    await preview(cube),
    `[[[  0   1   2   3   4   5   6   7   8   9  10  11  12  13  14  15  16
    17  18  19  20  21  22  23  24  25  26  27  28  29]
  [ 30  31  32  33  34  35  36  37  38  39  40  41  42  43  44  45  46
    47  48  49  50  51  52  53  54  55  56  57  58  59]]

 [[ 60  61  62  63  64  65  66  67  68  69  70  71  72  73  74  75  76
    77  78  79  80  81  82  83  84  85  86  87  88  89]
  [ 90  91  92  93  94  95  96  97  98  99 100 101 102 103 104 105 106
   107 108 109 110 111 112 113 114 115 116 117 118 119]]]`,
  )
  assert.equal(
    await preview(await arrayOf('uint8', [10], range(10)), { threshold: 4, edgeitems: 2 }),
    '[0 1 ... 8 9]',
  )
})
