import { isAbsolute, relative } from 'node:path'
import type { Outcome, Scope, Session } from 'netsan'
import type { Core } from './core.ts'

/**
 * What the environment shares with the setup file. It lives under a global symbol because the
 * two are loaded separately (the environment by Vitest's loader, the setup file by the test's
 * module runner) and, in the vm pools, in different realms.
 */
export interface WorkerState {
  /** netsan as the environment loaded it (natively): the setup file uses the same copy. */
  core: Core
  session: Session
  /** The file that is running now, if its scope has started and not yet ended. */
  file: { path: string | undefined; scope: Scope | undefined } | undefined
  /** Whether the user set `root`; if not, it follows Vitest's root once the worker state is known. */
  rootGiven: boolean
  /** The collection (Vitest's file task) netsan's hooks were last registered in (hooks.ts); undefined: never. */
  hooksFor: unknown
  /**
   * A bad option: the session is inert, and every file this worker collects fails with this error,
   * identical in every worker so that Vitest prints it once (index.ts, `refuse`).
   */
  refused?: Error
  /** Set when this Vitest cannot run netsan (version.ts): the one error to report, and whether it was. */
  unsupported?: { error: Error; thrown: boolean }
}

export const STATE_KEY = Symbol.for('vitest-environment-netsan.state.v1')

export function publishState(target: object, state: WorkerState): void {
  Object.defineProperty(target, STATE_KEY, { value: state, configurable: true, writable: true })
}

export function readState(target: object = globalThis): WorkerState | undefined {
  return (target as Record<symbol, WorkerState | undefined>)[STATE_KEY]
}

export function clearState(target: object, state: WorkerState): void {
  if (readState(target) === state) delete (target as Record<symbol, unknown>)[STATE_KEY]
}

/** Vitest's per-worker state: which file runs now and the resolved config. Set after the environment's setup. */
interface VitestWorkerState {
  filepath?: string
  /** The file task being collected or run (set when its collection starts). */
  current?: object
  config?: { root?: string; hookTimeout?: number; name?: string; isolate?: boolean; setupFiles?: string[] }
}

export function vitestWorker(target: object = globalThis): VitestWorkerState | undefined {
  return (target as { __vitest_worker__?: VitestWorkerState }).__vitest_worker__
}

/**
 * Takes Vitest's root (for relative paths in reports) unless the user set one, and the project's name
 * (a run with several projects may run one file in each).
 */
export function syncWithWorker(state: WorkerState, worker: VitestWorkerState | undefined): void {
  const root = worker?.config?.root
  if (!state.rootGiven && root) state.session.options.root = root
  const name = worker?.config?.name
  if (name) state.session.project = name
}

/**
 * Starts (or adopts) the scope of the file that runs now. The environment starts an unnamed one
 * before Vitest says which file runs, so that module-level code is owned; the first caller that
 * knows the path names it. A previous file's scope left open (`isolate: false`) ends first.
 */
export async function beginFile(state: WorkerState, path: string | undefined): Promise<Outcome | undefined> {
  const current = state.file
  if (current?.scope && !current.scope.ended) {
    if (current.path === path) return undefined
    if (current.path === undefined) {
      if (path !== undefined) name(state, current.scope, path)
      current.path = path
      return undefined
    }
  }
  const outcome = current ? await endFileScope(state) : undefined
  state.file = {
    path,
    scope: state.session.startFile(path === undefined ? 'test file' : display(state, path)),
  }
  return outcome
}

/** Files are named relative to the root, as Vitest prints them. */
function display(state: WorkerState, file: string): string {
  const rel = relative(state.session.options.root, file)
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel
}

function name(state: WorkerState, scope: Scope, file: string): void {
  const old = scope.name
  const path = display(state, file)
  ;(scope as { name: string }).name = path
  const record = state.session.files.findLast((f) => f.file === old)
  if (record) record.file = path
}

/**
 * Ends the current file's scope; returns what the adapter must report. `failures`: the errors Vitest
 * reports for the file's own hooks (a check they threw is not reported again).
 */
export async function endFileScope(
  state: WorkerState,
  path?: string,
  failures?: readonly unknown[],
): Promise<Outcome | undefined> {
  const file = state.file
  state.file = undefined
  if (!file?.scope) return undefined
  if (file.path === undefined && path !== undefined) name(state, file.scope, path)
  return state.session.endFile(file.scope, { failures })
}
