// `npm run docs`: HTML API docs of the package as published, from the .d.ts that `npm run build` emits
// (so `_`-prefixed internals are already gone), one module per subpath export of package.json.
import { readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'))

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: pkg.name,
  entryPoints: Object.values(pkg.exports).map((e) => e.types),
  tsconfig: 'tsconfig.docs.json',
  out: 'docs/api',
  readme: 'README.md',
  excludePrivate: true,
  excludeInternal: true,
  validation: { notExported: true, invalidLink: true, notDocumented: true },
}
