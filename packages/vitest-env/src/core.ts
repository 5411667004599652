import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

// Not `import … from 'node:…'`: an ES module import of a builtin reads every lazy export (fs: its
// streams, fs/promises, readline; timers: timers/promises), ≈ 10 ms more for each Vitest worker.
const fs = process.getBuiltinModule('node:fs')
const { createRequire } = process.getBuiltinModule('node:module')

export type Core = typeof import('netsan')

// A real `import()`, out of reach of Vite's transform: see loadCore.
const nativeImport = new Function('id', 'return import(id)') as (id: string) => Promise<unknown>

let core: Promise<Core> | undefined

/**
 * Loads netsan with Node's own loader. Vitest may run this package through Vite's module runner
 * (it does whenever the package's real path is outside node_modules: a workspace, `npm link`);
 * netsan's trackers would then run as `eval` code, and their frames would look like Vite's.
 */
export function loadCore(): Promise<Core> {
  core ??= (async () => {
    try {
      return (await nativeImport(pathToFileURL(esmEntry()).href)) as Core
    } catch {
      return import('netsan')
    }
  })()
  return core
}

/** netsan's ES module entry (its `require` entry is a CommonJS wrapper for Jest's sandbox). */
function esmEntry(): string {
  const manifest = createRequire(fileURLToPath(import.meta.url)).resolve('netsan/package.json')
  const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as {
    exports?: Record<string, { import?: string; default?: string } | string>
    main?: string
  }
  const root = pkg.exports?.['.']
  const entry = typeof root === 'string' ? root : (root?.import ?? root?.default ?? pkg.main ?? 'index.js')
  return path.join(path.dirname(manifest), entry)
}

/** This package's own directories: its frames are never user code (dist, and src under source maps). */
export function ownDirectories(): string[] {
  const here = path.dirname(fileURLToPath(import.meta.url))
  return [here, path.join(path.dirname(here), 'src'), path.join(path.dirname(here), 'dist')]
}
