/**
 * netsan's per-file and per-test hooks. `aroundAll` runs the file's hooks and tests inside the
 * file's scope and checks the file after its last `afterAll`; `aroundEach` runs each test, its
 * `beforeEach` and `afterEach` hooks included, inside the test's scope and fails that test with
 * netsan's report. An environment's `setup()` cannot register hooks (there is no collector yet), so
 * they are registered while Vitest collects the file: by `collect.ts` when Vitest starts importing
 * the file's setup files and the file itself, or by the setup file where the runner is a custom one.
 */
import path from 'node:path'
import { testName } from './names.ts'
import { reportOutcome } from './report.ts'
import { beginFile, endFileScope, syncWithWorker, vitestWorker, type WorkerState } from './state.ts'

/** The part of `vitest`'s API the hooks need (`aroundAll` from 4.1 on, `afterAll` before it). */
export interface HookApi {
  aroundEach?: (fn: (runTest: () => Promise<void>, context: any) => Promise<void>, timeout?: number) => void
  aroundAll?: (fn: (runSuite: () => Promise<void>) => Promise<void>, timeout?: number) => void
  afterAll: (fn: () => Promise<void>, timeout?: number) => void
}

/**
 * Registers the hooks in the file Vitest collects now, once per collection (Vitest's file task,
 * `__vitest_worker__.current`, is a new object each time a file is collected, reruns included).
 * Does nothing where no file is being collected.
 */
export async function registerHooks(state: WorkerState, vitest: HookApi): Promise<void> {
  const worker = vitestWorker()
  const collecting = worker?.current ?? worker?.filepath
  if (collecting === undefined || state.hooksFor === collecting) return
  if (typeof vitest.aroundEach !== 'function') {
    throw new Error('netsan: vitest-environment-netsan needs aroundEach, which Vitest has from 4.1 on')
  }
  state.hooksFor = collecting
  const { session } = state
  syncWithWorker(state, worker)
  // With `isolate: false` the previous file may still be open if its aroundAll never ran.
  reportOutcome(await beginFile(state, worker?.filepath), session.options.root)
  const fileScope = state.file?.scope
  // isolate: false keeps imported modules for the worker's later files: what they make at their top
  // level is the worker's, never this file's (only the test file and setup files run again per file).
  if (worker?.config?.isolate === false && worker.filepath) {
    const perFile = new Set(
      [worker.filepath, ...(worker.config.setupFiles ?? [])].map((f) => path.resolve(f)),
    )
    fileScope?.importing((file) => perFile.has(file))
  }

  // The hooks' timeouts cover Vitest's own hook timeout plus netsan's settle wait (0: none).
  const hookTimeout = worker?.config?.hookTimeout ?? 10_000
  const timeout = hookTimeout > 0 && Number.isFinite(hookTimeout) ? hookTimeout + session.options.settleMs : 0
  const endFile = async () => {
    if (!fileScope || state.file?.scope !== fileScope) return
    reportOutcome(await endFileScope(state), session.options.root)
  }
  // aroundAll wraps every beforeAll/afterAll of the file, whatever `sequence.hooks` says.
  if (typeof vitest.aroundAll === 'function') {
    vitest.aroundAll(async (runSuite) => {
      fileScope?.importing()
      await session.runIn(fileScope, runSuite)
      await endFile()
    }, timeout)
  } else {
    // Registered first, so it runs last under the default sequence.hooks 'stack'.
    vitest.afterAll(endFile, timeout)
  }

  vitest.aroundEach(async (runTest, context) => {
    const scope = session.startTest(fileScope, testName(context.task))
    try {
      await session.runIn(scope, runTest)
    } finally {
      reportOutcome(await session.endTest(scope), session.options.root)
    }
  }, timeout)
}
