#!/usr/bin/env node
// The installed `bigfile` command. It checks the Node version before anything loads node:sqlite (missing
// before 22.5, lacking what the storages use before 22.16), so an old Node gets one line and exit 2 rather
// than a crash; then it runs the CLI. Keep this file free of static imports.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
if (major === 23 || major < 22 || (major === 22 && minor < 16)) {
  console.error(`bigfile: needs Node.js 22.16+ or 24+ (this is ${process.version})`)
  process.exit(2)
}

// node:sqlite still calls itself experimental on some supported versions: that warning is not the user's.
const emitWarning = process.emitWarning
process.emitWarning = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]) {
  const message = typeof warning === 'string' ? warning : warning.message
  if (message.startsWith('SQLite is an experimental feature')) return
  return Reflect.apply(emitWarning, this, [warning, ...rest])
} as typeof process.emitWarning

const { main } = await import('./main.ts')
await main(process.argv.slice(2))
