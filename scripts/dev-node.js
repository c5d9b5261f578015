// Run before the repository's own npm scripts: the sources are TypeScript run by Node 24's type stripping
// (with `using` declarations), so an older Node (the system one, under pnpm or `npm --ignore-scripts`,
// where the `node` dev dependency's install step did not run) gets a clear message instead of
// ERR_UNKNOWN_FILE_EXTENSION. Plain JavaScript that any Node can parse.
const major = Number(process.versions.node.split('.')[0])
if (major < 24) {
  console.error(
    `bigfile: the repository's scripts need Node.js 24 or later; this is ${process.version} (${process.execPath}).\n` +
      'Run `npm install` (not --ignore-scripts): it brings Node 24 as a dev dependency, and npm scripts use it.',
  )
  process.exit(1)
}
