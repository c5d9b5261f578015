// The README's examples must run as written (with the package name pointing at the sources and database
// paths moved to a temporary folder).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

const root = join(import.meta.dirname, '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')

function runBlock(section: string, epilogue: string): string {
  const block = readme.split(`## ${section}`)[1]?.match(/```ts\n([\s\S]*?)```/)?.[1]
  assert.ok(block, `README has a \`\`\`ts block under "## ${section}"`)
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-readme-'))
  try {
    const code = `${block}\n${epilogue}\n`
      .replace(/from 'bigfile'/g, `from '${join(root, 'src/index.ts')}'`)
      .replace(/'data\.bigfile'/g, JSON.stringify(join(dir, 'data.bigfile')))
    const file = join(dir, 'example.mts')
    writeFileSync(file, code)
    return execFileSync(process.execPath, [file], { encoding: 'utf8', cwd: dir })
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('README quick start runs', () => {
  assert.match(runBlock('Quick start', ''), /\[ 100001, 64 \] 3200128\.5/)
})

test('README virtual memory example runs', () => {
  assert.match(
    runBlock('The virtual memory layer', "console.log('ok', vma.unmapped, fh.closed)"),
    /ok true true/,
  )
})

test('README history example runs', () => {
  const out = runBlock('History', '')
  assert.match(out, /^2 \d{4}-\S+Z \[ 'x: 1 blocks' \]\n1 \S+ \[ 'x: 1 blocks' \]\n1\n$/)
})

test('README database example runs', () => {
  const reopen = `
    const db2 = await openDatabase('data.bigfile')
    const f2 = await db2.connect({ ram }).open('temps')
    console.log('ok', conn.at, f2.meta.dtype, f2.mmap(0, 1).getFloat64(0))`
  assert.match(runBlock('Databases', reopen), /ok 1 f8 21\.5/)
})

test('README arrays example runs: null axis, read()/write(), nested append, is()', () => {
  const out = runBlock('Arrays as NumPy and zarrita users expect', '')
  assert.match(out, /Float32Array\(8\) \[\s*1, 1, 1, 0,\s*1, 1, 1, 0\s*\] \[ 2, 4 \] \[ 4, 1 \]/)
  assert.match(out, /^\[ 1001, 1000 \] 7$/m)
})

test('README transactions example runs: the conflicting transfer runs twice, nothing is lost', () => {
  const out = runBlock('Transactions', '')
  assert.match(out, /^\[ 1, 2 \]$/m)
  assert.match(out, /^-15n 15n$/m)
})

test('README memmap example runs', () => {
  assert.match(runBlock('An existing raw or .npy file in place', ''), /^int32 \[ 2, 3 \] 21$/m)
})
