/**
 * Makes `environment: 'netsan'` the whole config: netsan's hooks are registered when Vitest's
 * runner imports a file it collects (its setup files, then the test file: `importFile`, the method
 * every Vitest runner implements). That is the moment a setup file would run, with the file's
 * collector ready, without the cost of one more module for Vitest to fetch and run in every file
 * (≈ 10–15 ms of worker CPU per test file, bench/README.md).
 *
 * Vitest's own runner class is public (`TestRunner` from `vitest` in 5, `VitestTestRunner` from
 * `vitest/runners` in 4), and custom runners usually extend it. A runner that bypasses its
 * `importFile` never reaches this; the setup file (`vitest-environment-netsan/setup`) then registers
 * the same hooks, and the environment says so if neither ran.
 */
import { type HookApi, registerHooks } from './hooks.ts'
import type { WorkerState } from './state.ts'

type ImportFile = (this: unknown, filepath: string, source: string) => unknown

interface RunnerClass {
  prototype: { importFile?: ImportFile }
}

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
 * Wraps the runner's `importFile` for this environment's lifetime; returns the undo. With a bad option
 * (`state.refused`) the wrapper fails the file instead, before any of its code runs.
 */
export async function registerOnCollect(state: WorkerState): Promise<() => void> {
  if (!state.session.active && !state.refused) return () => {}
  let vitest: HookApi & { TestRunner?: RunnerClass }
  try {
    vitest = (await import('vitest')) as unknown as typeof vitest
  } catch {
    // Then the setup file is the way, and the environment says so at the end of the file.
    return () => {}
  }
  const Runner = await runnerClass(vitest)
  const proto = Runner?.prototype
  const original = proto?.importFile
  if (!proto || !original) return () => {}
  const importFile: ImportFile = async function (this: unknown, filepath, source) {
    if (state.refused) {
      state.hooksFor = state.refused
      throw state.refused
    }
    await registerHooks(state, vitest)
    return original.call(this, filepath, source)
  }
  proto.importFile = importFile
  return () => {
    if (proto.importFile === importFile) proto.importFile = original
  }
}
