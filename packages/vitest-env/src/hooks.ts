/**
 * netsan's per-file and per-test hooks. `aroundAll` runs the file's hooks and tests inside the
 * file's scope and checks the file after its last `afterAll` (and gives each describe block with hooks
 * of its own an `aroundAll` of netsan's: blocks.ts); `aroundEach` runs each test, its
 * `beforeEach` and `afterEach` hooks included, inside the test's scope and fails that test with
 * netsan's report. An environment's `setup()` cannot register hooks (there is no collector yet), so
 * they are registered while Vitest collects the file: by `collect.ts` when Vitest starts importing
 * the file's setup files and the file itself (`realm`: the tests' global, a vm context in the vm
 * pools), or by the setup file where the runner is a custom one.
 */
import path from 'node:path'
import type { Scope } from 'netsan'
import { Blocks, type GetSuiteHooks, hookTimeouts, type SuiteTask } from './blocks.ts'
import { expectedFailureNote, failDespiteFails, restoreFails } from './fails.ts'
import { testName } from './names.ts'
import { reportOutcome } from './report.ts'
import { beginFile, endFileScope, syncWithWorker, vitestWorker, type WorkerState } from './state.ts'
import { unsupportedVitest } from './version.ts'

interface SuiteApi {
  getCurrentSuite?: () => { file?: object } | undefined
  /** The hooks registered on a suite (Vitest 4.1 and 5): where netsan adds its describe blocks' hook. */
  getSuiteHooks?: GetSuiteHooks
}

/** The part of `vitest`'s API the hooks need (`aroundAll` from 4.1 on, `afterAll` before it). */
export interface HookApi {
  aroundEach?: (fn: (runTest: () => Promise<void>, context: any) => Promise<void>, timeout?: number) => void
  aroundAll?: (fn: (runSuite: () => Promise<void>) => Promise<void>, timeout?: number) => void
  afterAll: (fn: () => Promise<void>, timeout?: number) => void
  /** The runner class, whose statics tell the file being collected and a suite's hooks (4.1, 5). */
  TestRunner?: SuiteApi
}

let vitest4Suite: Promise<SuiteApi | undefined> | undefined

/**
 * The file task Vitest collects now. Its collector names it synchronously when the collection starts,
 * before the setup files run; `__vitest_worker__.current` is set only after an RPC round trip
 * (`onCollectStart` is not awaited), so the project's own setup files run before it changes.
 * @note docs/discoveries/runners-and-reports.md
 */
async function collectingFile(vitest: HookApi): Promise<object | undefined> {
  let api: SuiteApi | undefined = vitest.TestRunner
  if (typeof api?.getCurrentSuite !== 'function') {
    // Vitest 4 exports it from `vitest/suite`. Not a literal: see collect.ts.
    vitest4Suite ??= import(/* @vite-ignore */ ['vitest', 'suite'].join('/')).catch(() => undefined)
    api = await vitest4Suite
  }
  try {
    return api?.getCurrentSuite?.()?.file
  } catch {
    return undefined // no collection has started in this worker
  }
}

/**
 * Registers the hooks in the file Vitest collects now, once per collection (Vitest's file task is a
 * new object each time a file is collected, reruns included), however many setup files the project
 * imports before it. Does nothing where no file is being collected.
 */
export async function registerHooks(
  state: WorkerState,
  vitest: HookApi,
  realm: object = globalThis,
): Promise<void> {
  const worker = vitestWorker(realm)
  const collecting = (await collectingFile(vitest)) ?? worker?.current ?? worker?.filepath
  if (collecting === undefined || state.hooksFor === collecting) return
  const aroundEach = vitest.aroundEach
  if (state.unsupported || typeof aroundEach !== 'function') {
    state.unsupported ??= { error: unsupportedVitest(state.core, vitest)!, thrown: false }
    state.unsupported.thrown = true
    throw state.unsupported.error
  }
  state.hooksFor = collecting
  const { session } = state
  syncWithWorker(state, worker)
  // With `isolate: false` the previous file may still be open if its aroundAll never ran.
  reportOutcome(await beginFile(state, worker?.filepath))
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
  const { hookTimeout, timeout } = hookTimeouts(worker?.config?.hookTimeout, session.options.settleMs)
  const endFile = async () => {
    restoreFails()
    if (!fileScope || state.file?.scope !== fileScope) return
    // The file's end is netsan's own hook: it settles within one hook timeout, as the user's would.
    fileScope.deadlineIn(hookTimeout)
    // What the file's beforeAll/afterAll threw, as Vitest reports it (the file task's errors).
    const failures =
      typeof collecting === 'object' ? ((collecting as SuiteTask).result?.errors ?? []) : undefined
    reportOutcome(await endFileScope(state, undefined, failures))
  }
  // Describe blocks with hooks of their own are scopes between the file and its tests (blocks.ts).
  const blocks = new Blocks(session, fileScope)
  const getSuiteHooks = vitest.TestRunner?.getSuiteHooks
  // aroundAll wraps every beforeAll/afterAll of the file, whatever `sequence.hooks` says.
  if (typeof vitest.aroundAll === 'function') {
    vitest.aroundAll(async (runSuite) => {
      fileScope?.importing()
      // The file is collected by now: every block and its hooks are known.
      if (typeof getSuiteHooks === 'function' && typeof collecting === 'object' && collecting !== null)
        blocks.attach(collecting as SuiteTask, getSuiteHooks, hookTimeout, timeout)
      await session.runIn(fileScope, runSuite)
      await endFile()
    }, timeout)
  } else {
    // Registered first, so it runs last under the default sequence.hooks 'stack'.
    vitest.afterAll(endFile, timeout)
  }

  // aroundEach runs once per attempt: Vitest retries inside it (`retry`), and repeats (`repeats`).
  const attempts = new WeakMap<object, { scope: Scope | undefined; retry: number }>()
  aroundEach(async (runTest, context) => {
    const task = context.task
    restoreFails(task)
    const retry: number = task.result?.retryCount ?? 0
    const previous = attempts.get(task)
    if (previous && retry > previous.retry) {
      // Vitest hides the errors of an attempt it retried: netsan's leaks there are a warning.
      const warning = session.retryTest(previous.scope)
      if (warning) console.warn(warning)
    }
    const scope = session.startTest(blocks.scopeAround(task.suite), testName(task))
    attempts.set(task, { scope, retry })
    // Vitest times the test's function; from here it also covers beforeEach: a conservative deadline.
    scope?.deadlineIn(task.timeout)
    try {
      await session.runIn(scope, runTest)
    } finally {
      // The errors Vitest reports for this attempt: a LeakError the test threw is among them (unless the
      // test expects to fail, and Vitest turns its failure into a pass).
      const failures = task.fails ? undefined : (task.result?.errors ?? [])
      const outcome = await session.endTest(scope, {
        attempt: retry + 1,
        note: expectedFailureNote(task),
        failures,
      })
      if (outcome?.error) failDespiteFails(task)
      reportOutcome(outcome)
    }
  }, timeout)
}
