// Bundles the modules Vitest loads in every worker, after `tsc -b` has checked the sources and written
// the declarations: netsan's runtime entry into one ES module (dist/netsan.js), and the Vitest
// environment's two entries (its `tsc` emits declarations only). Vitest runs each test file in a fresh
// worker by default: 3 modules instead of ~35 spare Node's loader ~10 ms per worker (bench/README.md).
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const core = path.join(root, 'packages/core')
const vitestEnv = path.join(root, 'packages/vitest-env')
const comments = { legal: true, annotation: false, jsdoc: false }

await build({
  input: path.join(core, 'src/index.ts'),
  platform: 'node',
  external: [/^node:/],
  // Only `node:*` is external, and the one dynamic import is a Node builtin, so no chunks: one file.
  output: {
    file: path.join(core, 'dist/netsan.js'),
    format: 'esm',
    sourcemap: true,
    comments,
  },
  logLevel: 'warn',
})

// Its `dist` holds only these bundles and tsc's declarations: no stale modules of earlier builds.
for (const file of fs.readdirSync(path.join(vitestEnv, 'dist'), { withFileTypes: true })) {
  if (file.isFile() && /\.js(\.map)?$/.test(file.name)) fs.rmSync(path.join(vitestEnv, 'dist', file.name))
}

await build({
  input: { index: path.join(vitestEnv, 'src/index.ts'), setup: path.join(vitestEnv, 'src/setup.ts') },
  platform: 'node',
  external: [/^node:/, 'netsan', /^vitest(\/|$)/],
  output: {
    dir: path.join(vitestEnv, 'dist'),
    format: 'esm',
    sourcemap: true,
    entryFileNames: '[name].js',
    // What both entries share (the per-worker state and the report) goes into one chunk.
    chunkFileNames: 'shared.js',
    comments,
  },
  logLevel: 'warn',
})
