// netsan's `node` base for setup() is written out rather than loaded from vitest/runtime (src/base.ts):
// it must do to a global exactly what the installed Vitest's own `node` environment does.
import assert from 'node:assert/strict'
import { Console } from 'node:console'
import { test } from 'node:test'
import { loadBase, nodeSetup } from '../src/base.ts'

type Global = { console: Record<string, unknown> }

async function effects(
  setup: (g: Global, o: Record<string, unknown>) => unknown,
): Promise<{ during: string[]; console: unknown; after: string[] }> {
  const global: Global = { console: {} }
  const env = (await setup(global, {})) as { teardown: (g: Global) => unknown }
  const during = Object.keys(global.console)
  const console = global.console.Console
  await env.teardown(global)
  return { during, console, after: Object.keys(global.console) }
}

test("the inlined node base does what the installed Vitest's node environment does", async () => {
  const { builtinEnvironments } = (await import('vitest/runtime')) as {
    builtinEnvironments: { node: { setup: (g: Global, o: Record<string, unknown>) => unknown } }
  }
  const vitest = await effects(builtinEnvironments.node.setup)
  const netsan = await effects(nodeSetup as never)
  assert.deepEqual(netsan, vitest)
  assert.equal(netsan.console, Console)
  assert.deepEqual(netsan.during, ['Console'])
  assert.deepEqual(netsan.after, [])
})

test("the vm pools still get Vitest's own node environment (setupVM)", async () => {
  const fail = (m: string) => new Error(m)
  assert.equal((await loadBase('node', fail)).setup, nodeSetup)
  const vm = await loadBase('node', fail, true)
  assert.equal(typeof vm.setupVM, 'function')
  assert.notEqual(vm.setup, nodeSetup)
})
