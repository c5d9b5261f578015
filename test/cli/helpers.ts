// Runs the real `bigfile` command as a child process, as a user or a script would.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const MAIN = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts')

export interface Result {
  code: number | null
  stdout: string
  stderr: string
}

export function bigfile(args: readonly string[], env: Record<string, string> = {}): Result {
  const r = spawnSync(process.execPath, [MAIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, BIGFILE_DEBUG: '', ...env },
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** Like bigfile(), without blocking: run several at once. */
export function bigfileAsync(args: readonly string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const c = spawnBigfile(args, env)
    let stdout = ''
    let stderr = ''
    c.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    c.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    c.on('error', reject)
    c.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Starts `bigfile` without waiting (for the Ctrl-C tests). */
export function spawnBigfile(args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, BIGFILE_DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** A temporary directory, removed by the returned dispose. */
export function tempDir(): { dir: string } & Disposable {
  const dir = mkdtempSync(join(tmpdir(), 'bigfile-cli-test-'))
  return { dir, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) }
}

/** The stderr is exactly one `bigfile: ...` line. */
export function oneErrorLine(r: Result): string {
  const lines = r.stderr.split('\n').filter((l) => l !== '')
  if (lines.length !== 1 || !lines[0].startsWith('bigfile: ')) {
    throw new Error(`expected one "bigfile: ..." line on stderr, got ${JSON.stringify(r.stderr)}`)
  }
  return lines[0]
}
