/// <reference types="vitest/node" preserve="true" />
import path from 'node:path'
import { type Environment, type EnvironmentReturn, loadBase, type VmEnvironmentReturn } from './base.ts'
import { registerOnCollect, registerOnCollectInVm } from './collect.ts'
import { vitestColors } from './colors.ts'
import { loadCore, ownDirectories } from './core.ts'
import { diagnoseExit, exitBaseline } from './exit.ts'
import type { HookApi } from './hooks.ts'
import { isOptionError, refuse } from './refuse.ts'
import { bare, reportOutcome, shapeForVitest, vitestMainPid, warnOnce } from './report.ts'
import { sourceLine } from './source.ts'
import {
  beginFile,
  clearState,
  endFileScope,
  publishState,
  syncWithWorker,
  vitestWorker,
  type WorkerState,
} from './state.ts'
import { dropUnclaimedFile, endUnhookedFile, type Unhooked } from './unhooked.ts'
import { unsupportedVitest } from './version.ts'

export type { NetsanOptions } from 'netsan'
export type { Environment, EnvironmentReturn, VmEnvironmentReturn } from './base.ts'

// `test.environmentOptions.netsan` is netsan's options, typed, wherever these declarations are loaded
// (`/// <reference types="vitest-environment-netsan" />` in vitest.config.ts). Vitest 4.1 and 5 declare
// EnvironmentOptions in 'vitest/node'; an augmentation needs that module in the program, hence the
// reference at the top, kept in the emitted declarations (`preserve`).
declare module 'vitest/node' {
  interface EnvironmentOptions {
    /** netsan's options for `environment: 'netsan'`; a misspelt key fails to compile. */
    netsan?: import('netsan').NetsanOptions
  }
}

export { SETUP_ENTRY } from './unhooked.ts'

/**
 * Validates the options and starts the session. A bad option (or a base environment that cannot be
 * loaded) throws netsan's option error: see `refuse`.
 */
async function startSession(options: Record<string, any> | undefined): Promise<WorkerState> {
  const core = await loadCore()
  for (const dir of ownDirectories()) core.addOwnDirectory(dir)
  const raw: unknown = options?.netsan
  const session = core.createSession(raw, {
    runner: 'vitest',
    sourceLine: (file, line) => sourceLine(path.resolve(session.options.root, file), line),
    colors: vitestColors(core),
    shapeError: shapeForVitest(() => session.options.root),
    mainPid: vitestMainPid(),
  })
  // Vitest without aroundEach: the error is thrown where each file is collected (hooks.ts).
  const vitest = session.active
    ? ((await import('vitest').catch(() => undefined)) as HookApi | undefined)
    : undefined
  const error = vitest && unsupportedVitest(core, vitest)
  const rootGiven = typeof raw === 'object' && raw !== null && (raw as { root?: unknown }).root !== undefined
  return {
    core,
    session,
    file: undefined,
    rootGiven,
    hooksFor: undefined,
    ...(error && { unsupported: { error, thrown: false } }),
  }
}

/** The base environment of the options, loaded; the session ends if it cannot be. */
async function baseOf(state: WorkerState, forVm: boolean): Promise<Environment> {
  const { core, session } = state
  try {
    return await loadBase(
      session.options.base,
      (m) => new core.NetsanError(core.ErrorCodes.INVALID_OPTION, m),
      forVm,
    )
  } catch (error) {
    session.dispose()
    throw error
  }
}

/** The base environment's setup; the session ends if it throws. */
async function ended<T>(state: WorkerState, setup: T | Promise<T>): Promise<T> {
  try {
    return await setup
  } catch (error) {
    state.session.dispose()
    throw error
  }
}

/**
 * With the hooks, each file ends in its `aroundAll`; without them, netsan's own `aroundAll` checks it
 * (unhooked.ts), and where even that could not be added, the environment checks the file here. In the vm
 * pools the environment registers the hooks itself (collect.ts); should that ever fail (a Vitest whose
 * vm worker changed), the file fails loudly rather than be checked only as a whole.
 */
async function finish(state: WorkerState, global: object, why: Unhooked): Promise<void> {
  const worker = vitestWorker(global) ?? vitestWorker()
  syncWithWorker(state, worker)
  // Where no file was collected through netsan's hooks, an unsupported Vitest still fails the file.
  if (state.unsupported && !state.unsupported.thrown) throw state.unsupported.error
  const missing = state.hooksFor === undefined && state.session.active && !state.unsupported
  try {
    // A throw here is Vitest's "Teardown Error": the run fails, with netsan's report as the error.
    if (missing) await endUnhookedFile(state, worker?.filepath, why)
    else if (!(await dropUnclaimedFile(state))) reportOutcome(await endFileScope(state, worker?.filepath))
  } finally {
    try {
      // Teardown runs when the worker is done with its files (once per file where files are isolated).
      reportOutcome(await state.session.endWorker())
    } finally {
      diagnoseExit(state)
    }
  }
}

const environment: Environment = {
  name: 'netsan',
  viteEnvironment: 'ssr',

  async setup(global, options): Promise<EnvironmentReturn> {
    let state: WorkerState
    let baseEnv: Environment
    try {
      state = await startSession(options)
      baseEnv = await baseOf(state, false)
    } catch (error) {
      return refuse(global, options, error)
    }
    const base = await ended(state, baseEnv.setup(global, options))
    publishState(global, state)
    if (global !== globalThis) publishState(globalThis, state)
    exitBaseline(state)
    await beginFile(state, undefined)
    const unhook = await registerOnCollect(state)
    return {
      async teardown(g: any) {
        try {
          await finish(state, global, 'runner')
        } finally {
          unhook()
          clearState(global, state)
          clearState(globalThis, state)
          state.session.dispose()
          await base.teardown(g)
        }
      },
    }
  },

  async setupVM(options): Promise<VmEnvironmentReturn> {
    let state: WorkerState
    let baseEnv: Environment
    try {
      state = await startSession(options)
      baseEnv = await baseOf(state, true)
    } catch (error) {
      // The vm pools run Vitest's runner in the tests' realm, out of reach: each file fails here, and the
      // message is printed once per run, first.
      const core = await loadCore()
      if (!isOptionError(core, error)) throw error
      await warnOnce(`refused-${core.keyOf(error.message)}`, error.message)
      throw bare(new Error('netsan: the options are invalid (the error is printed above); no test ran'))
    }
    if (!baseEnv.setupVM) {
      state.session.dispose()
      throw new TypeError(
        `netsan: base environment "${state.session.options.base}" does not support the vm pools (it has no setupVM)`,
      )
    }
    const vm = await ended(state, baseEnv.setupVM(options))
    const context = vm.getVmContext()
    publishState(context, state)
    publishState(globalThis, state)
    exitBaseline(state)
    // The tests' realm: netsan's trackers patch its globals (fetch, WebSocket) too, and a copy of
    // netsan loaded inside it finds this engine.
    const engine = state.session.engine
    const unwatch = engine?.watchGlobal(context as typeof globalThis)
    if (engine)
      Object.defineProperty(context, Symbol.for('netsan.engine.v1'), { value: engine, configurable: true })
    await beginFile(state, undefined)
    // Vitest's runner lives in that realm too: netsan reaches it there (collect.ts).
    const unhook = registerOnCollectInVm(state, context)
    return {
      getVmContext: () => context,
      async teardown() {
        try {
          await finish(state, context, 'vm')
        } finally {
          unhook()
          unwatch?.()
          clearState(context, state)
          clearState(globalThis, state)
          state.session.dispose()
          await vm.teardown()
        }
      },
    }
  },
}

export default environment
