// `node --import ./scripts/bigfile-from-source.ts examples/bigarray.ts`: runs code that imports 'bigfile'
// (as the examples do, like a user of the package) against this checkout's sources, without a build. After
// `npm run build` the examples also run plainly (`node examples/bigarray.ts`): the package imports itself
// by name through package.json's exports, which point at dist/.
import { registerHooks } from 'node:module'
import { pathToFileURL } from 'node:url'

const src = pathToFileURL(`${import.meta.dirname}/../src/`)
const entries: Record<string, string> = {
  bigfile: 'index.ts',
  'bigfile/sqlite': 'db/sqlite/storage.ts',
  'bigfile/rawfile': 'rawfile/index.ts',
}

registerHooks({
  resolve(specifier, context, next) {
    const file = entries[specifier]
    if (file === undefined) return next(specifier, context)
    return { url: new URL(file, src).href, shortCircuit: true }
  },
})
