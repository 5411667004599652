/**
 * A file that netsan's hooks never reached (a custom runner that bypasses `importFile`, without the
 * setup file) is still checked as a whole at its end. That check used to be thrown from the
 * environment's teardown, but Vitest runs a worker's teardown when it stops the worker, and it awaits
 * those stops only when it closes, after the run's report: a "Teardown Error" of the last workers came
 * too late and was missing from the output, and so a leak was lost (Vitest 5.1 `Pool.schedule`,
 * `exitPromises`; docs/discoveries/runner-output.md). So netsan adds an `aroundAll` hook of its own to
 * such a file as it starts running (the runner's `onBeforeRunSuite`, which custom runners inherit from
 * Vitest's runner class): its throw fails the file, in the file's own result, before Vitest is told the
 * file is done. The environment's teardown remains the fallback for a runner that inherits nothing.
 */
import path from 'node:path'
import { AROUND_TIMEOUT, type AroundAll, type GetSuiteHooks, hookTimeouts } from './blocks.ts'
import { bare, reportOutcome, warnOnce } from './report.ts'
import { beginFile, endFileScope, syncWithWorker, vitestWorker, type WorkerState } from './state.ts'

/** The setup file, for runners whose `importFile` the environment cannot reach (collect.ts). */
export const SETUP_ENTRY = 'vitest-environment-netsan/setup'

/** Why the environment could not register netsan's hooks itself. */
export const NO_HOOKS = {
  runner:
    "the custom `runner` of this config does not import files through Vitest's own runner class, where netsan registers its per-test hooks",
  vm: "in this vm pool netsan could not reach the runner Vitest created in the tests' realm, where it registers its per-test hooks",
}

export type Unhooked = keyof typeof NO_HOOKS

const ADD_SETUP = `Add this line to the test config in vitest.config.ts:\n\n    setupFiles: ['${SETUP_ENTRY}'],\n`

/**
 * Ends the file netsan's hooks did not check, and throws what the run must show: the file's leaks,
 * and in a vm pool (where no test of the file was checked) that the setup file is missing; a custom
 * runner's missing line is printed once per run instead. With a bad option, that the file ran
 * unchecked.
 */
export async function endUnhookedFile(
  state: WorkerState,
  filepath: string | undefined,
  why: Unhooked,
): Promise<void> {
  const { core, session } = state
  if (state.refused) {
    // The runner bypassed `importFile` and ran the file unchecked: the run still fails.
    await warnOnce(`refused-${core.keyOf(state.refused.message)}`, state.refused.message)
    throw bare(
      new Error(
        'netsan: the options are invalid (the error is printed above); this file ran unchecked. ' +
          `With this runner, add setupFiles: ['${SETUP_ENTRY}'] to stop at the first file`,
      ),
    )
  }
  if (why === 'runner')
    await warnOnce(
      'missing-setup-runner',
      `netsan: environment 'netsan' is on, but ${NO_HOOKS.runner}, so netsan checks whole files only, not each test.\n${ADD_SETUP}`,
    )
  const outcome = await endFileScope(state, filepath)
  const loud =
    why === 'vm'
      ? `netsan: environment 'netsan' is on, but ${NO_HOOKS.vm}, so no test of ${filepath ? path.relative(session.options.root, filepath) : 'this file'} was checked, only the whole file.\n${ADD_SETUP}`
      : undefined
  // Vitest shows one error per file: the file's report then says what is missing too.
  if (loud && outcome?.error) outcome.error.message = `${loud}\n${outcome.error.message}`
  reportOutcome(outcome)
  if (loud) throw new core.NetsanError(core.ErrorCodes.NO_HOOKS, loud)
}

interface FileTask {
  filepath?: unknown
  file?: unknown
  result?: { state?: string }
}

type RunSuite = (this: unknown, suite: FileTask) => unknown

/**
 * Wraps the runner class's `onBeforeRunSuite` (of the tests' realm in the vm pools): a file whose
 * collection did not register netsan's hooks gets netsan's file check as an `aroundAll` of its own.
 * Returns the undo.
 */
export function watchUnhookedFiles(
  state: WorkerState,
  proto: { onBeforeRunSuite?: RunSuite },
  getSuiteHooks: GetSuiteHooks | undefined,
  realm: object,
  why: Unhooked,
): () => void {
  const original = proto.onBeforeRunSuite
  if (typeof getSuiteHooks !== 'function' || typeof original !== 'function') return () => {}
  const onBeforeRunSuite: RunSuite = function (this: unknown, suite) {
    try {
      checkAtItsEnd(state, suite, getSuiteHooks, realm, why)
    } catch {}
    return original.call(this, suite)
  }
  proto.onBeforeRunSuite = onBeforeRunSuite
  return () => {
    if (proto.onBeforeRunSuite === onBeforeRunSuite) proto.onBeforeRunSuite = original
  }
}

function checkAtItsEnd(
  state: WorkerState,
  suite: FileTask,
  getSuiteHooks: GetSuiteHooks,
  realm: object,
  why: Unhooked,
): void {
  if (!isFile(suite) || !(state.session.active || state.refused)) return
  // Collected through netsan's hooks (importFile, or the setup file), or failed by a bad option already.
  const { hooksFor } = state
  if (hooksFor === suite || hooksFor === suite.filepath || (state.refused && hooksFor === state.refused))
    return
  // A file that failed to collect does not run its hooks: the environment's teardown checks it.
  if (suite.result?.state === 'fail') return
  const hooks = getSuiteHooks(suite)
  if (!hooks) return
  const hook: AroundAll = async (runSuite) => {
    // This file's scope: begun by the environment, or by the previous file's end (isolate: false).
    syncWithWorker(state, vitestWorker(realm))
    const open = state.file
    if (!open || open.path === undefined || open.path === suite.filepath)
      await beginFile(state, suite.filepath)
    await runSuite()
    const now = vitestWorker(realm)
    syncWithWorker(state, now)
    try {
      await endUnhookedFile(state, suite.filepath, why)
    } finally {
      // isolate: false: the worker's next file is collected (its module code run) before it runs.
      if (now?.config?.isolate === false && state.session.active) await beginFile(state, undefined)
    }
  }
  hook[AROUND_TIMEOUT] = hookTimeouts(
    vitestWorker(realm)?.config?.hookTimeout,
    state.session.options.settleMs,
  ).timeout
  // First: it wraps the file's own aroundAll hooks too, and ends the file after its last afterAll.
  ;(hooks.aroundAll ??= []).unshift(hook)
  // Checked there: the environment's teardown has nothing left to say about this file.
  state.hooksFor = UNHOOKED
}

/** `hooksFor` of a worker whose last file netsan checked from its own `aroundAll` (this file). */
export const UNHOOKED = Symbol('netsan: checked by its aroundAll, without the hooks')

function isFile(suite: FileTask): suite is FileTask & { filepath: string } {
  return typeof suite.filepath === 'string' && suite.file === suite
}

/**
 * The scope begun for a next file that never came (isolate: false, above), which nothing was created
 * in: ended without the entry it made in the JSON report. True when there was one.
 */
export async function dropUnclaimedFile(state: WorkerState): Promise<boolean> {
  const file = state.file
  const scope = file?.scope
  if (state.hooksFor !== UNHOOKED || !scope || file.path !== undefined || scope.size() > 0) return false
  const records = state.session.files
  const i = records.findLastIndex((r) => r.file === scope.name && r.tests.length === 0)
  if (i !== -1) records.splice(i, 1)
  await endFileScope(state)
  return true
}
