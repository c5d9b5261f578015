// The README's quick start must run as written (with the package name pointing at the sources).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

test('README quick start runs', () => {
  const root = join(import.meta.dirname, '..')
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const block = readme.split('## Quick start')[1]?.match(/```ts\n([\s\S]*?)```/)?.[1]
  assert.ok(block, 'README has a ```ts block under "## Quick start"')
  const code = block.replace(/from 'bigfile'/g, `from '${join(root, 'src/index.ts')}'`)
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-readme-'))
  try {
    const file = join(dir, 'quickstart.mts')
    writeFileSync(file, `${code}\nconsole.log('quickstart ok', vma.unmapped, fh.closed)\n`)
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8' })
    assert.match(out, /quickstart ok true true/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
