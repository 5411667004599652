// Bundles what the packages ship, after `tsc -b` has checked the sources and written the declarations.
//
//   node scripts/bundle.mjs core         netsan: dist/netsan.js (ESM), dist/netsan.cjs (the same bundle as
//                                        CommonJS, for Jest's sandbox), dist/netsan.d.ts + .d.cts (one
//                                        declaration file each), dist/cli.js (the `netsan` command)
//   node scripts/bundle.mjs vitest-env   the Vitest environment's entries: the environment, its setup file and
//                                        its reporter (its `tsc` emits declarations only)
//
// `npm run build` runs them in that order, with the env packages' `tsc -b` between: jest-env's and
// vitest-env's `import 'netsan'` type-check against netsan's bundled declarations, as a user's would.
// Vitest runs each test file in a fresh worker by default: 3 modules instead of ~35 spare Node's loader
// ~10 ms per worker (bench/README.md).
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'
import { dts } from 'rolldown-plugin-dts'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const core = path.join(root, 'packages/core')
const vitestEnv = path.join(root, 'packages/vitest-env')
const comments = { legal: true, annotation: false, jsdoc: false }
// What every fresh Vitest worker compiles (bench/README.md, "A fresh Vitest worker, piece by piece"): ASCII source, so V8 keeps it as a
// one-byte string (no UTF-8 decoding to two bytes), and no whitespace; names are kept (no mangling: wrapped
// functions and error classes keep theirs), and the source map restores the original layout.
const lean = {
  charset: 'ascii',
  minify: { compress: false, mangle: false, codegen: { removeWhitespace: true } },
}
// Only `node:*` is external, and nothing is imported dynamically, so no chunks: one file per entry.
const external = [/^node:/]

async function bundleCore() {
  // The source maps carry the sources (sourcesContent), so the package ships no src/. The CommonJS
  // build has none: it runs only in Jest's sandbox, where Jest maps only the files it transformed; so
  // it keeps its whitespace (readable as it is), and is ASCII too.
  for (const [file, format, sourcemap, shape] of [
    ['netsan.js', 'esm', true, lean],
    ['netsan.cjs', 'cjs', false, { charset: 'ascii' }],
  ]) {
    await build({
      input: path.join(core, 'src/index.ts'),
      platform: 'node',
      external,
      output: { file: path.join(core, 'dist', file), format, sourcemap, comments, ...shape },
      logLevel: 'warn',
    })
  }
  // The CLI is its own process: it takes the modules it needs, not the trackers.
  await build({
    input: path.join(core, 'src/cli/main.ts'),
    platform: 'node',
    external,
    output: { file: path.join(core, 'dist/cli.js'), format: 'esm', sourcemap: true, comments },
    logLevel: 'warn',
  })
  // tsc's declarations (dist/index.d.ts and its imports) into one file. It imports only `node:*`, so
  // the same text is right for `require` too, as a .d.cts: TypeScript then reads it as CommonJS.
  await build({
    input: { netsan: path.join(core, 'dist/index.d.ts') },
    platform: 'node',
    external,
    plugins: [dts({ dtsInput: true, tsconfig: false })],
    output: { dir: path.join(core, 'dist'), format: 'esm' },
    logLevel: 'warn',
  })
  fs.copyFileSync(path.join(core, 'dist/netsan.d.ts'), path.join(core, 'dist/netsan.d.cts'))
}

async function bundleVitestEnv() {
  // Its `dist` holds only these bundles and tsc's declarations: no stale modules of earlier builds.
  for (const file of fs.readdirSync(path.join(vitestEnv, 'dist'), { withFileTypes: true })) {
    if (file.isFile() && /\.js(\.map)?$/.test(file.name)) fs.rmSync(path.join(vitestEnv, 'dist', file.name))
  }
  await build({
    input: {
      index: path.join(vitestEnv, 'src/index.ts'),
      setup: path.join(vitestEnv, 'src/setup.ts'),
      reporter: path.join(vitestEnv, 'src/reporter.ts'),
    },
    platform: 'node',
    external: [...external, 'netsan', /^vitest(\/|$)/],
    output: {
      dir: path.join(vitestEnv, 'dist'),
      format: 'esm',
      sourcemap: true,
      entryFileNames: '[name].js',
      // What the entries share (the per-worker state, the report, netsan's loader) goes into one chunk:
      // a worker loads two modules, the environment and this.
      chunkFileNames: 'shared.js',
      codeSplitting: { groups: [{ name: 'shared', test: /src[\\/]/, minShareCount: 2 }] },
      comments,
      ...lean,
    },
    logLevel: 'warn',
  })
}

const steps = { core: bundleCore, 'vitest-env': bundleVitestEnv }
const asked = process.argv.slice(2)
for (const name of asked.length > 0 ? asked : Object.keys(steps)) {
  const step = steps[name]
  if (!step) throw new Error(`bundle.mjs: unknown step ${name}; steps: ${Object.keys(steps).join(', ')}`)
  await step()
}
