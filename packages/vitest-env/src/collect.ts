/**
 * Makes `environment: 'netsan'` the whole config: netsan's hooks are registered when Vitest's
 * runner imports a file it collects (its setup files, then the test file: `importFile`, the method
 * every Vitest runner implements). That is the moment a setup file would run, with the file's
 * collector ready, without the cost of one more module for Vitest to fetch and run in every file
 * (≈ 10–15 ms of worker CPU per test file, bench/README.md).
 *
 * Vitest's own runner class is public (`TestRunner` from `vitest` in 4.1 and 5, also
 * `VitestTestRunner` from `vitest/runners` in 4), and custom runners usually extend it. A runner that
 * bypasses its `importFile` never reaches this; the setup file (`vitest-environment-netsan/setup`)
 * then registers the same hooks, and the environment says so if neither ran.
 */
import { type HookApi, registerHooks } from './hooks.ts'
import type { WorkerState } from './state.ts'
import { type Unhooked, watchUnhookedFiles } from './unhooked.ts'

type ImportFile = (this: unknown, filepath: string, source: string) => unknown

interface RunnerClass {
  prototype: { importFile?: ImportFile; onBeforeRunSuite?: (this: unknown, suite: object) => unknown }
}

type VitestApi = HookApi & { TestRunner?: RunnerClass }

async function runnerClass(vitest: { TestRunner?: RunnerClass }): Promise<RunnerClass | undefined> {
  if (typeof vitest.TestRunner?.prototype?.importFile === 'function') return vitest.TestRunner
  try {
    // Vitest 4. Not a literal: Vitest 5 has no `vitest/runners`, and Vite resolves literal imports
    // when it transforms this module (it does where the package is linked, not installed).
    const runners = ['vitest', 'runners'].join('/')
    const mod = (await import(/* @vite-ignore */ runners)) as { VitestTestRunner?: RunnerClass }
    if (typeof mod.VitestTestRunner?.prototype?.importFile === 'function') return mod.VitestTestRunner
  } catch {}
  return undefined
}

/**
 * Wraps `Runner.prototype.importFile` so that netsan's hooks are registered, with `vitest`'s API, in
 * each file the runner collects; `realm`: the global of the tests' realm. Returns the undo.
 */
function wrapImportFile(
  state: WorkerState,
  vitest: VitestApi,
  Runner: RunnerClass | undefined,
  realm: object,
  why: Unhooked,
): () => void {
  const proto = Runner?.prototype
  const original = proto?.importFile
  if (!proto || !original) return () => {}
  // A runner that bypasses importFile still gets each file checked at its end (unhooked.ts).
  const unwatch = watchUnhookedFiles(state, proto, vitest.TestRunner?.getSuiteHooks, realm, why)
  const importFile: ImportFile = async function (this: unknown, filepath, source) {
    if (state.refused) {
      state.hooksFor = state.refused
      throw state.refused
    }
    await registerHooks(state, vitest, realm)
    return original.call(this, filepath, source)
  }
  proto.importFile = importFile
  return () => {
    if (proto.importFile === importFile) proto.importFile = original
    unwatch()
  }
}

/**
 * Wraps the runner's `importFile` for this environment's lifetime; returns the undo. With a bad option
 * (`state.refused`) the wrapper fails the file instead, before any of its code runs.
 */
export async function registerOnCollect(state: WorkerState): Promise<() => void> {
  if (!state.session.active && !state.refused) return () => {}
  let vitest: VitestApi
  try {
    vitest = (await import('vitest')) as unknown as VitestApi
  } catch {
    // Then the setup file is the way, and the environment says so at the end of the file.
    return () => {}
  }
  return wrapImportFile(state, vitest, await runnerClass(vitest), globalThis, 'runner')
}

// Assigned by Vitest's vm worker once the tests' realm holds its `vitest` module (`__vitest_index__`),
// before it creates the runner (runVmTests.ts in Vitest 4.1 and 5): @note docs/discoveries/scopes.md
const REQUIRED = '__vitest_required__'

/**
 * The vm pools (vmThreads, vmForks): Vitest evaluates its runner, `vitest` included, inside the tests'
 * vm context, a copy the environment cannot import. The environment watches the one assignment
 * Vitest's worker makes to the context's global between putting its `vitest` module there and
 * creating the runner, and wraps that copy's runner class as for the other pools. The accessor turns
 * back into the plain property Vitest meant to create as soon as it is assigned.
 */
export function registerOnCollectInVm(state: WorkerState, context: Record<PropertyKey, any>): () => void {
  if (!state.session.active || Object.getOwnPropertyDescriptor(context, REQUIRED)) return () => {}
  let undo = () => {}
  const accessor: PropertyDescriptor = {
    configurable: true,
    enumerable: false,
    get: () => undefined,
    set(value: unknown) {
      Object.defineProperty(context, REQUIRED, {
        value,
        writable: true,
        enumerable: true,
        configurable: true,
      })
      const vitest = context.__vitest_index__ as VitestApi | undefined
      if (vitest && typeof vitest.TestRunner?.prototype?.importFile === 'function')
        undo = wrapImportFile(state, vitest, vitest.TestRunner, context, 'vm')
    },
  }
  Object.defineProperty(context, REQUIRED, accessor)
  return () => {
    const now = Object.getOwnPropertyDescriptor(context, REQUIRED)
    if (now?.set === accessor.set) delete context[REQUIRED]
    undo()
  }
}
