/// <reference types="vitest/node" preserve="true" />
import path from 'node:path'
import { type Environment, type EnvironmentReturn, loadBase, type VmEnvironmentReturn } from './base.ts'
import { registerOnCollect } from './collect.ts'
import { loadCore, ownDirectories } from './core.ts'
import type { HookApi } from './hooks.ts'
import { reportOutcome, warnOnce } from './report.ts'
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
import { unsupportedVitest } from './version.ts'

const { isMainThread } = process.getBuiltinModule('node:worker_threads')

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

/** The setup file, for runners whose `importFile` the environment cannot reach (collect.ts). */
export const SETUP_ENTRY = 'vitest-environment-netsan/setup'

/** Validates the options (a bad one throws netsan's error, which fails the run) and starts the session. */
async function startSession(options: Record<string, any> | undefined): Promise<WorkerState> {
  const core = await loadCore()
  for (const dir of ownDirectories()) core.addOwnDirectory(dir)
  const raw: unknown = options?.netsan
  const session = core.createSession(raw, {
    runner: 'vitest',
    sourceLine: (file, line) => sourceLine(path.resolve(session.options.root, file), line),
    // Vitest's main process started every worker of this run: it forked them, or they are its threads.
    mainPid: isMainThread ? process.ppid : process.pid,
  })
  if (session.options.base === 'netsan') {
    session.dispose()
    throw new core.NetsanError(
      core.ErrorCodes.INVALID_OPTION,
      `netsan: invalid value for option "base": received "netsan"; allowed: 'node', 'jsdom', 'happy-dom', 'edge-runtime' or a module path`,
    )
  }
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

/** Why the environment could not register netsan's hooks itself, for the warning. */
const NO_HOOKS = {
  runner:
    "the custom `runner` of this config does not import files through Vitest's own runner class, where netsan registers its per-test hooks",
  vm: "in the vm pools (vmThreads, vmForks) Vitest's runner lives in the tests' realm, out of the environment's reach",
}

function hooksMissing(state: WorkerState, why: keyof typeof NO_HOOKS): void {
  if (!state.session.active) return
  warnOnce(
    `missing-setup-${why}`,
    `netsan: environment 'netsan' is on, but ${NO_HOOKS[why]}, so netsan checks whole files only, not each test.\n` +
      `Add this line to the test config in vitest.config.ts:\n\n    setupFiles: ['${SETUP_ENTRY}'],\n`,
  )
}

/** With the hooks, each file ends in its `aroundAll`; without them, the environment checks the file here. */
async function finish(state: WorkerState, global: object, why: keyof typeof NO_HOOKS): Promise<void> {
  const worker = vitestWorker(global) ?? vitestWorker()
  syncWithWorker(state, worker)
  // Where no file was collected through netsan's hooks, an unsupported Vitest still fails the file.
  if (state.unsupported && !state.unsupported.thrown) throw state.unsupported.error
  if (state.hooksFor === undefined && !state.unsupported) hooksMissing(state, why)
  // A throw here is Vitest's "Teardown Error": the run fails, with netsan's report as the error.
  reportOutcome(await endFileScope(state, worker?.filepath), state.session.options.root)
  // Teardown runs when the worker is done with its files (once per file where files are isolated).
  reportOutcome(await state.session.endWorker(), state.session.options.root)
}

async function withBase<T>(state: WorkerState, start: () => Promise<T>): Promise<T> {
  try {
    return await start()
  } catch (error) {
    state.session.dispose()
    throw error
  }
}

const environment: Environment = {
  name: 'netsan',
  viteEnvironment: 'ssr',

  async setup(global, options): Promise<EnvironmentReturn> {
    const state = await startSession(options)
    const base = await withBase(state, async () =>
      (await loadBase(state.session.options.base)).setup(global, options),
    )
    publishState(global, state)
    if (global !== globalThis) publishState(globalThis, state)
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
    const state = await startSession(options)
    const vm = await withBase(state, async () => {
      const baseEnv = await loadBase(state.session.options.base)
      if (!baseEnv.setupVM) {
        throw new TypeError(
          `netsan: base environment "${state.session.options.base}" does not support the vm pools (it has no setupVM)`,
        )
      }
      return baseEnv.setupVM(options)
    })
    const context = vm.getVmContext()
    publishState(context, state)
    publishState(globalThis, state)
    // The tests' realm: netsan's trackers patch its globals (fetch, WebSocket) too, and a copy of
    // netsan loaded inside it finds this engine.
    const engine = state.session.engine
    const unwatch = engine?.watchGlobal(context as typeof globalThis)
    if (engine)
      Object.defineProperty(context, Symbol.for('netsan.engine.v1'), { value: engine, configurable: true })
    await beginFile(state, undefined)
    return {
      getVmContext: () => context,
      async teardown() {
        try {
          await finish(state, context, 'vm')
        } finally {
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
