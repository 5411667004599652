// Bundles netsan's runtime entry into one ES module, dist/netsan.js, after `tsc -b` has checked the
// sources and written the declarations. Vitest loads netsan afresh in every worker (one per test
// file by default): one module instead of ~25 spares Node's loader ~10 ms per worker (bench/README.md).
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const core = path.join(root, 'packages/core')

await build({
  input: path.join(core, 'src/index.ts'),
  platform: 'node',
  external: [/^node:/],
  // Only `node:*` is external, and the one dynamic import is a Node builtin, so no chunks: one file.
  output: {
    file: path.join(core, 'dist/netsan.js'),
    format: 'esm',
    sourcemap: true,
    comments: { legal: true, annotation: false, jsdoc: false },
  },
  logLevel: 'warn',
})
