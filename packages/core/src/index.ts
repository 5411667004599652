/**
 * netsan: a network-leak sanitizer for test runners.
 * The public API lives here; everything else is internal.
 */
import { getEngine, isOff } from './engine.ts'
import { ErrorCodes, LeakError, NetsanError } from './errors.ts'
import { formatLeaks } from './format.ts'
import { type CheckOptions, resolveCheckOptions, resolveOptions } from './options.ts'
import type { Scope } from './scope.ts'
import { LEAK_KINDS, type LeakKind, type NetsanOptions } from './types.ts'

export type { Baseline, BaselineEntry } from './baseline.ts'
export { BASELINE_SCHEMA, buildBaseline, parseBaseline, readBaseline } from './baseline.ts'
export { CHURN_MAX_REQUESTS_PER_CONNECTION, checkChurn } from './churn.ts'
export type { ErrorCode } from './errors.ts'
export { ErrorCodes, isLeakError, LeakError, NetsanError } from './errors.ts'
export type { DiagnoseOptions, ExitReport, ExitWatch } from './exit.ts'
export { exitWatch } from './exit.ts'
export type { Colors, FormatOptions, Presentation, Subject } from './format.ts'
export { ansiColors, formatLeaks, formatSuppressed, mergeLeaks, plainColors, printedFrame } from './format.ts'
export { FIXES, KIND_WORDS } from './kinds.ts'
export { firstInRun, keyOf } from './once.ts'
export type { CheckOptions } from './options.ts'
export { DEFAULT_OPTIONS, modeFromEnv, resolveOptions } from './options.ts'
export { redactUrl } from './redact.ts'
export type { NetsanReport, ReportFileEntry, ReportTest } from './report-file.ts'
export { netsanVersion, parseReport, REPORT_SCHEMA, ReportFileError, readReport } from './report-file.ts'
export { RUN_ID_ENV, runIdFor } from './run-id.ts'
export type { RunSummary, SummaryStyle } from './run-summary.ts'
export { closeRunDir, formatRunSummary, openRunDir, RUN_DIR_ENV, readRunDir } from './run-summary.ts'
export type { Scope } from './scope.ts'
export type { FileRecord, Outcome, SessionInit } from './session.ts'
export { createSession, reportPathFor, Session } from './session.ts'
export { addOwnDirectory } from './stack.ts'
export type {
  BodiesPolicy,
  ChurnOptions,
  ConnectionStats,
  Frame,
  HandleKind,
  IgnoreRule,
  KindGroup,
  Leak,
  LeakKind,
  Mode,
  NetsanOptions,
  NetworkKind,
  ResolvedOptions,
  ScopeResult,
  SharedPoolsPolicy,
  Suppressed,
} from './types.ts'
export { HANDLE_KINDS, LEAK_KINDS, NETWORK_KINDS } from './types.ts'

/**
 * Starts a scope for any runner (node:test, mocha): what the current async flow creates from now on
 * belongs to it. `await scope.end()` settles and returns the leaks; nest with `scope.track()`.
 */
export function track(options?: NetsanOptions): Scope {
  const engine = getEngine()
  const resolved = resolveOptions(options)
  if (!engine.installed) engine.options = resolved
  engine.acquire()
  const scope = engine.current().live().track('track()')
  const end = scope.finish.bind(scope)
  scope.finish = async () => {
    try {
      return await end()
    } finally {
      engine.release()
    }
  }
  return scope
}

/** The scope a helper acts on; none while netsan is off (mode 'off', NETSAN=off): the helpers do nothing then. */
function currentScope(what: string): Scope | undefined {
  const engine = getEngine()
  if (!engine.installed) {
    if (isOff()) return undefined
    throw new NetsanError(
      ErrorCodes.NO_SCOPE,
      `netsan: ${what} needs netsan to be active: use testEnvironment/environment 'netsan', or call track() first`,
    )
  }
  return engine.current().live()
}

/**
 * Settles (up to `settleMs`, the config's by default), then throws a `LeakError` if the current test
 * has open resources of `kinds` (the config's by default). Options are checked like the config's.
 */
export async function expectNoLeakedConnections(options?: CheckOptions): Promise<void> {
  const { kinds, settleMs } = resolveCheckOptions(options)
  const scope = currentScope('expectNoLeakedConnections()')
  if (!scope) return
  const { leaks, leaked } = await scope.check(kinds, settleMs)
  if (leaks.length > 0) {
    // Formatted and shaped as the adapter's reports are, even from a copy of netsan in Jest's sandbox.
    const { shape, ...format } = getEngine().presentation
    // A check in a file's beforeAll/afterAll names the file, as the file's end would.
    const type = scope.type === 'run' ? 'scope' : scope.type
    const created = new LeakError(formatLeaks({ type, name: scope.name }, leaks, format), leaks)
    const error = shape ? shape(created) : created
    // If the runner reports this error as the test's failure, the test's end does not report it again.
    scope.thrownFor(error, leaked)
    throw error
  }
}

/**
 * Returns its argument, typed, so that a misspelt option fails to compile where the runner's config
 * does not know netsan's options: `testEnvironmentOptions: { netsan: defineNetsanOptions({ … }) }`.
 */
export function defineNetsanOptions(options: NetsanOptions): NetsanOptions {
  return options
}

/** Lets the current test keep resources of `kind` open; the reason is required and printed. */
export function allowLeaks(kind: LeakKind, reason: string): void {
  if (!LEAK_KINDS.includes(kind)) {
    throw new NetsanError(
      ErrorCodes.INVALID_OPTION,
      `netsan: allowLeaks() got kind ${JSON.stringify(kind)}; allowed: ${LEAK_KINDS.join(', ')}`,
    )
  }
  currentScope('allowLeaks()')?.allow(kind, reason)
}
