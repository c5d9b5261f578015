// Names planted next to a raw file: a symlink, a hard link, a FIFO at `<file>.bigfile-journal` or
// `<file>.bigfile-lock` is refused (CorruptError) and nothing is written through it; the victim keeps
// its bytes. A data file that is a FIFO is refused without hanging. Created side files are no more
// readable than the data file.
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  linkSync,
  lstatSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { describe, test } from 'node:test'
import { RAM } from '../../src/index.ts'
import { openRawFile } from '../../src/rawfile/index.ts'
import { pattern, tempDir } from './fixtures/util.ts'

const PS = 4096
const newRam = () => new RAM({ pagesize: PS, capacity: 18 * PS })
const VICTIM = 'precious bytes of somebody else\n'.repeat(64)

type Plant = 'symlink' | 'dangling symlink' | 'hard link' | 'fifo' | 'symlink to /dev/zero'

function plant(kind: Plant, at: string, victim: string): void {
  if (kind === 'symlink') symlinkSync(victim, at)
  else if (kind === 'dangling symlink') symlinkSync(`${victim}.not-yet`, at)
  else if (kind === 'hard link') linkSync(victim, at)
  else if (kind === 'fifo') execFileSync('mkfifo', [at])
  else symlinkSync('/dev/zero', at)
}

const PLANTS: Plant[] = ['symlink', 'dangling symlink', 'hard link', 'fifo', 'symlink to /dev/zero']

describe('names planted at the journal and the lock', { skip: process.platform === 'win32' }, () => {
  for (const side of ['journal', 'lock'] as const) {
    for (const kind of PLANTS) {
      test(`${kind} at <file>.bigfile-${side}: ECORRUPT for rw (and r), the target untouched`, () => {
        using tmp = tempDir()
        const path = tmp.path('data.bin')
        writeFileSync(path, pattern(4 * PS, 1))
        const victim = tmp.path('victim.txt')
        writeFileSync(victim, VICTIM)
        const at = `${path}.bigfile-${side}`
        plant(kind, at, victim)
        const before = lstatSync(at)
        assert.throws(
          () => openRawFile(path, { ram: newRam(), mode: 'rw' }),
          (e: { code?: string; message?: string }) => {
            assert.equal(e.code, 'ECORRUPT', e.message)
            assert.ok(e.message?.includes(at), e.message)
            return true
          },
        )
        if (side === 'journal' && kind !== 'hard link') {
          // A reader looks at the journal too (to recover a crash): the same refusal.
          assert.throws(() => openRawFile(path, { ram: newRam(), mode: 'r' }), { code: 'ECORRUPT' })
        }
        assert.equal(readFileSync(victim, 'utf8'), VICTIM)
        assert.ok(!existsSync(`${victim}.not-yet`), 'a dangling link was not followed to create its target')
        const after = lstatSync(at)
        assert.equal(after.ino, before.ino, 'the planted name is left as it was')
        assert.deepEqual(readFileSync(path), Buffer.from(pattern(4 * PS, 1)))
      })
    }
  }

  test('a data file that is a FIFO is EINVAL at once, in either mode', () => {
    using tmp = tempDir()
    const path = tmp.path('fifo.bin')
    execFileSync('mkfifo', [path])
    for (const mode of ['r', 'rw'] as const) {
      assert.throws(() => openRawFile(path, { ram: newRam(), mode, length: 4 * PS }), {
        code: 'EINVAL',
        message: /a FIFO, not a regular file/,
      })
    }
  })

  test('the journal and the lock are created with the data file permission bits', () => {
    using tmp = tempDir()
    const path = tmp.path('data.bin')
    writeFileSync(path, pattern(4 * PS, 3))
    chmodSync(path, 0o600)
    const f = openRawFile(path, { ram: newRam(), mode: 'rw' })
    // The journal lives while the file is open (close removes it); the lock stays.
    for (const side of ['journal', 'lock']) {
      const st = statSync(`${path}.bigfile-${side}`)
      assert.equal(st.mode & 0o777, 0o600, side)
      assert.equal(st.nlink, 1)
    }
    f.close()
    // And a second open uses them again (they exist, are regular, have one link).
    openRawFile(path, { ram: newRam(), mode: 'rw' }).close()
  })
})
