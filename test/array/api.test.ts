// The API that users of NumPy, zarrita and typed-array libraries expect: null as a whole axis, nested
// lists, typed errors for bad values, read()/write() of regions, dtype generics, progress in bytes,
// create({ overwrite }), open({ dtype, signal }).
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  all,
  BigArray,
  type DType,
  type ElementOf,
  FileH,
  MemoryBigFile,
  openDatabase,
  RAM,
  slice,
  type TypedArrayOf,
} from '../../src/index.ts'
import { PS, ram, tmpDir } from './helpers.ts'

function over<D extends DType>(dtype: D, shape: number[]) {
  const r = new RAM({ pagesize: PS, capacity: 64 * PS })
  return BigArray.over(new FileH(new MemoryBigFile(PS), r), { dtype, shape })
}

async function db(t: Parameters<typeof tmpDir>[0]) {
  const d = await openDatabase(join(tmpDir(t), 'a.bigfile'))
  t.after(() => d.close())
  return d
}

/** Compile-time equality: `expectType<T>()(x)` fails to type-check unless x's type is exactly T. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<T>(): <U>(x: U & (Equal<T, U> extends true ? unknown : never)) => void {
  return () => {}
}

test('at(null, ...): null means the whole axis, as in zarrita and NumPy', async () => {
  const a = over('float64', [3, 4])
  await a.copyFrom(Float64Array.from({ length: 12 }, (_, i) => i))
  const col = a.at(null, 1)
  assert.deepEqual(col.shape, [3])
  assert.deepEqual([col.get(0), col.get(1), col.get(2)], [1, 5, 9])
  assert.deepEqual(a.at(null, null).shape, [3, 4])
  assert.deepEqual(a.at(1, null).shape, [4])
  assert.deepEqual(a.at(null, slice(1, 3)).strides, a.at(all, slice(1, 3)).strides)
})

test('append: a nested list is read as NumPy reads it (rows, or one row), shape-checked; never NaN', async (t) => {
  const c = (await db(t)).connect({ ram: ram() })
  const a = await BigArray.create(c, 'n', { dtype: 'float64', shape: [1, 2] })
  await a.append([
    [1, 2],
    [3, 4],
  ])
  assert.deepEqual(a.shape, [3, 2])
  assert.deepEqual([...(await a.read()).data], [0, 0, 1, 2, 3, 4])
  // One row without the growable axis, as np.append of a row.
  const b = await BigArray.create(c, 'cube', { dtype: 'int32', shape: [0, 2, 2] })
  await b.append([
    [1, 2],
    [3, 4],
  ])
  assert.deepEqual(b.shape, [1, 2, 2])
  assert.equal(b.get(0, 1, 0), 3)
  // Refused, with the shape unchanged: wrong row length, ragged, non-numeric leaves, too deep.
  for (const bad of [
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    [[1, 2], [3]],
    [
      [1, 'x'],
      [3, 4],
    ],
    [[[1, 2]], [[3, 4]]],
    [1, [2, 3]],
  ]) {
    await assert.rejects(a.append(bad), { code: 'EINVAL' }, JSON.stringify(bad))
    assert.deepEqual(a.shape, [3, 2])
  }
  // F order grows the last axis: a nested list of shape [2, k] appends k columns.
  const f = await BigArray.create(c, 'f', { dtype: 'float32', shape: [2, 1], order: 'F' })
  await f.append([
    [1, 2],
    [3, 4],
  ])
  assert.deepEqual(f.shape, [2, 3])
  assert.deepEqual([f.get(0, 1), f.get(0, 2), f.get(1, 1), f.get(1, 2)], [1, 2, 3, 4])
  await c.abort()
})

test('64-bit integers: a bad value is InvalidArgumentError (EINVAL), not a raw RangeError/SyntaxError', async (t) => {
  const c = (await db(t)).connect({ ram: ram() })
  const a = await BigArray.create(c, 'i', { dtype: 'int64', shape: [2] })
  await a.append([1, 2n])
  assert.deepEqual([a.get(2), a.get(3)], [1n, 2n])
  for (const bad of [1.5, Number.NaN, '12', {}]) {
    await assert.rejects(a.append([bad as number, 1]), { code: 'EINVAL' }, String(bad))
    assert.deepEqual(a.shape, [4])
    assert.throws(() => a.set1(0, bad as number), { code: 'EINVAL' }, String(bad))
    await assert.rejects(a.fill(bad as number), { code: 'EINVAL' }, String(bad))
  }
  // A float array refuses strings and lists rather than storing NaN.
  const f = await BigArray.create(c, 'f', { dtype: 'float64', shape: [0] })
  await assert.rejects(f.append(['1' as unknown as number]), { code: 'EINVAL' })
  await assert.rejects(f.copyFrom([[1]] as unknown as number[]), { code: 'EINVAL' })
  assert.deepEqual(f.shape, [0])
  await c.abort()
})

test('read(): { data, shape, stride } in C order for any view; write() takes the same back', async () => {
  const a = over('int16', [3, 4])
  await a.copyFrom(Int16Array.from({ length: 12 }, (_, i) => i))
  const r = await a.at(slice(null, null, -1), slice(1, 3)).read()
  assert.ok(r.data instanceof Int16Array)
  assert.deepEqual(r.shape, [3, 2])
  assert.deepEqual(r.stride, [2, 1])
  assert.deepEqual([...r.data], [9, 10, 5, 6, 1, 2])
  // Round trip into another region of the same shape.
  await a.at(null, slice(2, 4)).write({ data: r.data, shape: r.shape })
  assert.deepEqual([...(await a.read()).data], [0, 1, 9, 10, 4, 5, 5, 6, 8, 9, 1, 2])
  // A strided source (F order here) is gathered by its stride.
  await a.at(slice(0, 2), slice(0, 2)).write({ data: [1, 2, 3, 4], shape: [2, 2], stride: [1, 2] })
  assert.deepEqual([a.get(0, 0), a.get(0, 1), a.get(1, 0), a.get(1, 1)], [1, 3, 2, 4])
  // Nested lists, flat lists, one value, a BigArray.
  await a.at(2).write([7, 7, 7, 7])
  await a.at(slice(0, 1)).write([[-1, -2, -3, -4]])
  await a.at(1, slice(0, 2)).write(42)
  const b = over('int16', [4])
  await b.write(a.at(0))
  assert.deepEqual([...(await a.read()).data], [-1, -2, -3, -4, 42, 42, 5, 6, 7, 7, 7, 7])
  assert.deepEqual([...(await b.read()).data], [-1, -2, -3, -4])
  // Shapes must match; strides must stay inside data.
  await assert.rejects(a.write({ data: new Int16Array(12), shape: [4, 3] }), { code: 'EINVAL' })
  await assert.rejects(a.write({ data: new Int16Array(11), shape: [3, 4] }), { code: 'EINVAL' })
  await assert.rejects(a.write({ data: new Int16Array(12), shape: [3, 4], stride: [4] }), { code: 'EINVAL' })
  await assert.rejects(a.write([[1, 2]]), { code: 'EINVAL' })
  // A 0-d view reads as one element with empty shape and stride.
  assert.deepEqual(await a.at(1, 1).read(), { data: Int16Array.of(42), shape: [], stride: [] })
})

test('generics: BigArray<D> gives the typed array and element type of D; is() narrows', async () => {
  const f32 = over('float32', [4])
  expectType<BigArray<'float32'>>()(f32)
  expectType<number>()(f32.get1(0))
  const i64 = over('int64', [4])
  i64.set1(1, 5)
  const e: bigint = i64.get1(1)
  assert.equal(e, 5n)
  expectType<bigint>()(await i64.sum())
  for await (const { data } of f32.chunks()) expectType<Float32Array>()(data)
  await i64.forEachChunk((d) => expectType<BigInt64Array>()(d))
  expectType<BigInt64Array>()((await i64.read()).data)
  expectType<BigArray<'int64'>>()(i64.at(slice(1)))
  // Any dtype: a union, narrowed by the type guard.
  const any: BigArray = f32
  expectType<number | bigint>()(any.get1(0))
  expectType<ElementOf<DType>>()(any.get1(0))
  if (any.is('float32')) {
    expectType<BigArray<'float32'>>()(any)
    const d: TypedArrayOf<'float32'> = (await any.read()).data
    assert.ok(d instanceof Float32Array)
  } else assert.fail('is(float32)')
  assert.equal(any.is('float64'), false)
  assert.equal(i64.is('int64'), true)
})

test('onProgress counts bytes, with the total, in every array operation', async () => {
  const a = over('float64', [1000])
  const b = over('float64', [1000])
  const last = async (op: (p: { onProgress: (d: number, t: number) => void }) => Promise<unknown>) => {
    const seen: [number, number][] = []
    await op({ onProgress: (d, t) => seen.push([d, t]) })
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0])
    return seen[seen.length - 1]
  }
  const bytes: [number, number] = [8000, 8000]
  assert.deepEqual(await last((p) => a.fill(1, p)), bytes)
  assert.deepEqual(await last((p) => a.sum(p)), bytes)
  assert.deepEqual(await last((p) => a.copyFrom(new Float64Array(1000), p)), bytes)
  assert.deepEqual(await last((p) => a.copyTo(new Float64Array(1000), p)), bytes)
  assert.deepEqual(await last((p) => b.copyFrom(a, p)), bytes)
  assert.deepEqual(await last((p) => a.read(p)), bytes)
  assert.deepEqual(
    await last(async (p) => {
      for await (const _ of a.chunks(p));
    }),
    bytes,
  )
  assert.deepEqual(await last((p) => a.at(slice(0, 10)).mean(p)), [80, 80])
})

test('create({ overwrite }) replaces an array in the transaction; open({ dtype }) checks it', async (t) => {
  const d = await db(t)
  const c = d.connect({ ram: ram() })
  const a = await BigArray.create(c, 'x', { dtype: 'float64', shape: [100] })
  await a.fill(3)
  await c.commit()
  await assert.rejects(BigArray.create(c, 'x', { dtype: 'int32', shape: [5] }), { code: 'EEXIST' })
  const b = await BigArray.create(c, 'x', { dtype: 'int32', shape: [5], overwrite: true })
  // The old object no longer fits the file: it says so instead of reading int32 bytes as float64.
  assert.throws(() => a.shape, { code: 'EINVAL' })
  assert.throws(() => a.get1(0), { code: 'EINVAL' })
  assert.deepEqual([...(await b.read()).data], [0, 0, 0, 0, 0])
  b.set1(4, 9)
  // Another connection still sees the old array until the commit.
  const other = d.connect({ ram: ram() })
  assert.equal((await BigArray.open(other, 'x')).dtype, 'float64')
  await c.commit()
  await other.sync()
  const reopened = await BigArray.open(d.connect({ ram: ram() }), 'x', { dtype: 'int32' })
  expectType<BigArray<'int32'>>()(reopened)
  assert.deepEqual([...(await reopened.read()).data], [0, 0, 0, 0, 9])
  await assert.rejects(BigArray.open(d.connect({ ram: ram() }), 'x', { dtype: 'float64' }), {
    code: 'EINVAL',
  })
  await assert.rejects(
    BigArray.create(c, 'x', { dtype: 'int32', shape: [1], overwrite: true, blksize: 8192 }),
    {
      code: 'EINVAL',
    },
  )
  await assert.rejects(BigArray.open(c, 'x', { signal: AbortSignal.abort() }), { code: 'EABORT' })
})
