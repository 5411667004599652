/**
 * A bad option stops the run. Thrown from `setup()`, Vitest would print it once per test file, as the
 * cause of "Failed to start forks worker", under "Unhandled Errors". So the worker starts (on the node
 * environment: the base may be the bad option) and every file it collects fails with netsan's error, the
 * same text in every worker: Vitest prints identical errors once, for all the files they failed.
 * @note docs/discoveries/runner-output.md
 */
import { type EnvironmentReturn, loadBase } from './base.ts'
import { registerOnCollect } from './collect.ts'
import { type Core, loadCore } from './core.ts'
import { bare } from './report.ts'
import { clearState, publishState, type WorkerState } from './state.ts'
import { endUnhookedFile, UNHOOKED } from './unhooked.ts'

export function isOptionError(core: Core, error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code
  return code === core.ErrorCodes.INVALID_OPTION || code === core.ErrorCodes.UNKNOWN_OPTION
}

/**
 * The environment of a worker whose options are bad: every file it collects fails with `error`. Where
 * the environment cannot fail the file (a custom runner; the setup file still can), the file's end does,
 * and the error is printed once per run.
 */
export async function refuse(
  global: object,
  options: Record<string, any>,
  error: unknown,
): Promise<EnvironmentReturn> {
  const core = await loadCore()
  if (!isOptionError(core, error)) throw error
  const refused = bare(error)
  // Not from the options (nor from NETSAN, which may be the bad option): an inactive session.
  const inert = new core.Session({ ...core.DEFAULT_OPTIONS, mode: 'off' }, { runner: 'vitest' })
  const state: WorkerState = {
    core,
    session: inert,
    file: undefined,
    rootGiven: false,
    hooksFor: undefined,
    refused,
  }
  const base = await loadBase('node', (m) => new Error(m))
  const env = await base.setup(global, options)
  publishState(global, state)
  if (global !== globalThis) publishState(globalThis, state)
  const unhook = await registerOnCollect(state)
  return {
    async teardown(g: any) {
      try {
        // The runner bypassed `importFile` and ran the file unchecked, and no aroundAll of netsan's could
        // say so in the file's result (unhooked.ts): the run still fails, from here.
        if (state.hooksFor !== refused && state.hooksFor !== UNHOOKED)
          await endUnhookedFile(state, undefined, 'runner')
      } finally {
        unhook()
        clearState(global, state)
        clearState(globalThis, state)
        await env.teardown(g)
      }
    },
  }
}
