// Exclusive creation and publication of files in a directory others can write to (issue 11, items 1, 2, 4).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import {
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createExclusive, openRegular, tempNameFor } from '../../src/util/exclusive.ts'
import { checkTarget, publishFile, TempFile } from '../../src/util/publish.ts'

function dir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'bigfile-publish-'))
  t.after(() => rmSync(d, { recursive: true, force: true }))
  return d
}

test('a temporary name is unpredictable: not the pid, different every time', () => {
  const names = new Set(Array.from({ length: 100 }, () => tempNameFor('/x/out.npy')))
  assert.equal(names.size, 100)
  for (const n of names) {
    assert.match(n, /^\/x\/out\.npy\.partial-[A-Za-z0-9_-]{12}$/)
    assert.ok(!n.endsWith(`-${process.pid}`))
  }
})

test('createExclusive never opens what is already there: a symlink, a hard link, a file', async (t) => {
  const d = dir(t)
  const victim = join(d, 'victim.txt')
  writeFileSync(victim, 'precious')
  symlinkSync(victim, join(d, 'sym'))
  symlinkSync(join(d, 'nowhere'), join(d, 'dangling'))
  linkSync(victim, join(d, 'hard'))
  for (const name of ['sym', 'dangling', 'hard', 'victim.txt'])
    await assert.rejects(createExclusive(join(d, name)), { code: 'EEXIST' }, name)
  assert.equal(readFileSync(victim, 'utf8'), 'precious')
  assert.throws(() => lstatSync(join(d, 'nowhere')), { code: 'ENOENT' })
  await assert.rejects(createExclusive(join(d, 'no', 'dir')), (e: Error) => {
    assert.equal((e as { code?: string }).code, 'ENOENT')
    assert.equal((e.cause as { code?: string }).code, 'ENOENT')
    return true
  })
  const fh = await createExclusive(join(d, 'new'))
  await fh.close()
  assert.equal(statSync(join(d, 'new')).mode & 0o777, 0o600)
})

test('a TempFile is 0600 while written and gets the usual mode when published', async (t) => {
  const d = dir(t)
  const target = join(d, 'out.bin')
  const tmp = await TempFile.create(target)
  await tmp.handle.write(Buffer.from('data'))
  assert.equal(statSync(tmp.path).mode & 0o777, 0o600)
  await tmp.publish()
  assert.equal(statSync(target).mode & 0o777, 0o666 & ~process.umask())
  assert.equal(readFileSync(target, 'utf8'), 'data')
  assert.deepEqual(readdirSync(d), ['out.bin'])
  // Replacing a regular file keeps its mode.
  execFileSync('chmod', ['640', target])
  const again = await TempFile.create(target)
  await again.handle.write(Buffer.from('new'))
  await again.publish({ replace: true })
  assert.equal(statSync(target).mode & 0o777, 0o640)
  assert.equal(readFileSync(target, 'utf8'), 'new')
  assert.deepEqual(readdirSync(d), ['out.bin'])
})

test('publish without replace never replaces a name that appeared meanwhile, not even a dangling link', async (t) => {
  const d = dir(t)
  const target = join(d, 'out.bin')
  for (const plant of [
    () => writeFileSync(target, 'theirs'),
    () => symlinkSync(join(d, 'nowhere'), target),
    () => mkdirSync(target),
  ]) {
    const tmp = await TempFile.create(target)
    await tmp.handle.write(Buffer.from('ours'))
    plant()
    const before = lstatSync(target)
    await assert.rejects(tmp.publish(), { code: 'EEXIST' })
    await tmp.discard()
    const after = lstatSync(target)
    assert.equal(after.ino, before.ino)
    assert.deepEqual(readdirSync(d), ['out.bin'])
    rmSync(target, { recursive: true })
  }
})

test('publish with replace replaces only a regular file: not a directory, symlink or FIFO', async (t) => {
  const d = dir(t)
  const target = join(d, 'out.bin')
  const victim = join(d, 'victim')
  writeFileSync(victim, 'precious')
  const plants: [string, () => void][] = [
    ['a directory', () => mkdirSync(target)],
    ['a symbolic link', () => symlinkSync(victim, target)],
    ['a FIFO', () => execFileSync('mkfifo', [target])],
  ]
  for (const [kind, plant] of plants) {
    plant()
    assert.throws(() => checkTarget(target, { replace: true }), { code: 'EINVAL', message: new RegExp(kind) })
    const tmp = await TempFile.create(target)
    await assert.rejects(tmp.publish({ replace: true }), { code: 'EINVAL' })
    await tmp.discard()
    assert.equal(readFileSync(victim, 'utf8'), 'precious')
    rmSync(target, { recursive: true })
    assert.deepEqual(readdirSync(d), ['victim'])
  }
  // A hard link to someone else's file: the name is replaced, their file is not written through.
  linkSync(victim, target)
  const tmp = join(d, 'tmp')
  writeFileSync(tmp, 'ours')
  await publishFile(tmp, target, { replace: true })
  assert.equal(readFileSync(victim, 'utf8'), 'precious')
  assert.equal(readFileSync(target, 'utf8'), 'ours')
})

test('openRegular refuses a symlink (unless follow), a directory and a FIFO without blocking on it', async (t) => {
  const d = dir(t)
  const f = join(d, 'f')
  writeFileSync(f, 'x')
  symlinkSync(f, join(d, 'link'))
  execFileSync('mkfifo', [join(d, 'fifo')])
  await assert.rejects(openRegular(join(d, 'link')), { code: 'EINVAL', message: /symbolic link/ })
  await (await openRegular(join(d, 'link'), { follow: true })).close()
  await assert.rejects(openRegular(d), { code: 'EINVAL', message: /directory/ })
  await assert.rejects(openRegular(join(d, 'fifo')), { code: 'EINVAL', message: /FIFO/ })
  await assert.rejects(openRegular(join(d, 'missing')), (e: Error) => {
    assert.equal((e as { code?: string }).code, 'ENOENT')
    assert.equal((e.cause as { code?: string }).code, 'ENOENT')
    return true
  })
})

test('discard removes the partial name before its first await: an exit right after leaves nothing', async (t) => {
  const d = dir(t)
  const tmp = await TempFile.create(join(d, 'out.raw'))
  assert.deepEqual(readdirSync(d).length, 1)
  const pending = tmp.discard()
  // What a second Ctrl-C sees: discard() has started, so discardSync() does nothing, and the process exits.
  tmp.discardSync()
  assert.deepEqual(readdirSync(d), [])
  await pending
})
