// `npm run build` (and `prepack`): emits dist/ from src/ with tsc's own compiler, into a fresh dist/ so
// nothing stale (a moved or deleted module) is ever packed. The published .d.ts leave out `_`-prefixed
// members: the project's mark for "used across modules inside the package, not for users" (stripInternal
// also drops anything tagged @internal). `--out DIR` emits there instead of dist/ (benchmarks build the
// compiled CLI into a temporary directory: the published command runs compiled, not type-stripped).
import { rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import ts from 'typescript'

const root = join(import.meta.dirname, '..')
const host: ts.ParseConfigFileHost = {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (d) => fail([d]),
}
const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.build.json'), {}, host)
if (!config) throw new Error('cannot read tsconfig.build.json')
if (config.errors.length > 0) fail(config.errors)

const { values } = parseArgs({ options: { out: { type: 'string' } } })
const outDir = values.out === undefined ? join(root, 'dist') : resolve(values.out)
rmSync(outDir, { recursive: true, force: true })
const program = ts.createProgram({ rootNames: config.fileNames, options: { ...config.options, outDir } })
const emitted = program.emit(undefined, undefined, undefined, false, {
  afterDeclarations: [stripUnderscored],
})
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]
if (diagnostics.length > 0 || emitted.emitSkipped) fail(diagnostics)

function fail(diagnostics: readonly ts.Diagnostic[]): never {
  const formatHost: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => root,
    getNewLine: () => '\n',
  }
  console.error(ts.formatDiagnosticsWithColorAndContext(diagnostics, formatHost))
  process.exit(1)
}

/** Drops class and interface members named `_…` from the declarations. */
function stripUnderscored(context: ts.TransformationContext) {
  const visit = (node: ts.Node): ts.Node | undefined => {
    if (isMember(node) && node.name && ts.isIdentifier(node.name) && node.name.text.startsWith('_')) {
      return undefined
    }
    return ts.visitEachChild(node, visit, context)
  }
  return (file: ts.SourceFile | ts.Bundle) => ts.visitNode(file, visit) as typeof file
}

function isMember(node: ts.Node): node is ts.ClassElement | ts.TypeElement {
  return ts.isClassElement(node) || ts.isTypeElement(node)
}
