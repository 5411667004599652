import { BaselineIndex, normalizeTestFile, readBaseline } from './baseline.ts'
import { checkChurn } from './churn.ts'
import { type Engine, getEngine } from './engine.ts'
import { ErrorCodes, LeakError, NetsanError } from './errors.ts'
import { type Colors, formatLeaks, formatSuppressed } from './format.ts'
import { resolveOptions } from './options.ts'
import { buildReport, ReportFileError, writeJsonAtomic } from './report-file.ts'
import type { Scope } from './scope.ts'
import type { ResolvedOptions, ScopeResult } from './types.ts'

/** What an adapter does with a scope's end: fail the test with `error`, or print `warning`. */
export interface Outcome {
  result: ScopeResult
  /** Set in mode 'fail' when something leaked. */
  error: LeakError | undefined
  /** Set in mode 'warn' when something leaked, and for allowed leaks in any mode. */
  warning: string | undefined
}

export interface SessionInit {
  runner: string
  /** Reads a source line for the code frame; adapters pass one that understands their transforms. */
  sourceLine?: (file: string, line: number) => string | undefined
  colors?: Colors
}

export interface FileRecord {
  file: string
  tests: { name: string; result: ScopeResult; churn?: string }[]
  fileResult: ScopeResult | undefined
}

/**
 * The minimal runner interface both adapters sit on: start/end a file, start/end a test,
 * run code inside a test's scope. The core knows nothing else about Vitest or Jest.
 */
export class Session {
  readonly options: ResolvedOptions
  readonly engine: Engine | undefined
  readonly files: FileRecord[] = []
  /** The accepted leaks of option `baseline`, loaded once at start. */
  readonly baseline: BaselineIndex | undefined
  private readonly init: SessionInit
  private disposed = false
  /** run ⊃ worker ⊃ file: the worker scope holds what modules shared by its files create. */
  private worker: Scope | undefined

  constructor(options: ResolvedOptions, init: SessionInit) {
    this.options = options
    this.init = init
    if (options.mode === 'off') return
    this.baseline = loadBaseline(options.baseline)
    this.engine = getEngine()
    if (!this.engine.installed) this.engine.options = options
    this.engine.acquire()
  }

  get active(): boolean {
    return this.engine !== undefined && !this.disposed
  }

  startFile(file: string): Scope | undefined {
    if (!this.engine) return undefined
    this.files.push({ file, tests: [], fileResult: undefined })
    this.worker ??= this.engine.runScope.child('worker', 'worker')
    return this.worker.child('file', file)
  }

  /**
   * Ends the worker: what modules shared by its files made (Vitest's `isolate: false`, see
   * `Scope.importing`) and left open is reported as a warning, never a failure, and not closed: no
   * hook of the runner runs after the worker's last file, so no code could close it there.
   */
  async endWorker(): Promise<Outcome | undefined> {
    const worker = this.worker
    if (!worker || worker.ended) return undefined
    const result = await worker.finish()
    if (result.leaks.length === 0) return undefined
    const format = { colors: this.init.colors, sourceLine: this.init.sourceLine, root: this.options.root }
    const message = formatLeaks({ type: 'worker', name: worker.name }, result.leaks, format)
    const note =
      'These were made by modules that this worker imported once for all its files (isolate: false): they serve every later file, so netsan failed no file for them and closed none.'
    return { result, error: undefined, warning: [message, note].join('\n\n') }
  }

  startTest(file: Scope | undefined, name: string): Scope | undefined {
    if (!this.engine || !file) return undefined
    return file.child('test', name)
  }

  /** Runs `fn` so that everything it creates, across async hops, belongs to `scope`. */
  runIn<T>(scope: Scope | undefined, fn: () => T): T {
    return scope && this.engine ? this.engine.runIn(scope, fn) : fn()
  }

  async endTest(scope: Scope | undefined): Promise<Outcome | undefined> {
    if (!scope || scope.ended) return undefined
    const result = await scope.finish()
    const record = this.files.at(-1)
    if (record) this.applyBaseline(result, record.file)
    const churn = checkChurn(result.stats, this.options.churn, scope.name)
    record?.tests.push({ name: scope.name, result, ...(churn && { churn }) })
    const outcome = this.outcome({ type: 'test', name: scope.name }, result)
    if (churn) outcome.warning = [outcome.warning, churn].filter(Boolean).join('\n\n')
    return outcome
  }

  async endFile(scope: Scope | undefined): Promise<Outcome | undefined> {
    if (!scope || scope.ended) return undefined
    const result = await scope.finish()
    this.applyBaseline(result, scope.name)
    const record = this.files.find((f) => f.file === scope.name)
    if (record) record.fileResult = result
    this.writeReport()
    return this.outcome({ type: 'file', name: scope.name }, result)
  }

  /** Known leaks become warnings (`by: 'baseline'`) before the outcome is computed; new ones still fail. */
  private applyBaseline(result: ScopeResult, file: string): void {
    if (!this.baseline || result.leaks.length === 0) return
    const { leaks, suppressed } = this.baseline.partition(
      result.leaks,
      normalizeTestFile(file, this.options.root),
      file,
    )
    result.leaks = leaks
    result.suppressed.push(...suppressed)
  }

  private outcome(subject: { type: 'test' | 'file'; name: string }, result: ScopeResult): Outcome {
    const format = { colors: this.init.colors, sourceLine: this.init.sourceLine, root: this.options.root }
    const notes = formatSuppressed(result.suppressed, format)
    if (result.leaks.length === 0) return { result, error: undefined, warning: notes || undefined }
    const message = formatLeaks(subject, result.leaks, format)
    if (this.options.mode === 'warn') {
      return { result, error: undefined, warning: [message, notes].filter(Boolean).join('\n\n') }
    }
    return { result, error: new LeakError(message, result.leaks), warning: notes || undefined }
  }

  /** One JSON file per worker; `netsan report` merges them. */
  private writeReport(): void {
    if (!this.options.report) return
    const file = reportPathFor(this.options.report)
    const data = buildReport({ runner: this.init.runner, root: this.options.root, files: this.files })
    try {
      writeJsonAtomic(file, data)
    } catch (error) {
      process.emitWarning(`netsan: could not write the report ${file}: ${(error as Error).message}`)
    }
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    // Leaves the engine's stack at once (finish() does that before its first await).
    if (this.worker && !this.worker.ended) this.worker.finish().catch(() => {})
    this.engine?.release()
  }
}

function loadBaseline(file: string | undefined): BaselineIndex | undefined {
  if (!file) return undefined
  try {
    return new BaselineIndex(readBaseline(file), file)
  } catch (error) {
    if (!(error instanceof ReportFileError)) throw error
    throw new NetsanError(
      ErrorCodes.INVALID_OPTION,
      `netsan: invalid value for option "baseline": ${error.message.replace(/^netsan: (baseline )?/, '')}; create it with \`npx netsan baseline <report files>\``,
    )
  }
}

/** `netsan-report.json` → `netsan-report.<pid>.json`: each worker writes its own. */
export function reportPathFor(report: string): string {
  return report.endsWith('.json')
    ? `${report.slice(0, -5)}.${process.pid}.json`
    : `${report}.${process.pid}.json`
}

export function createSession(rawOptions: unknown, init: SessionInit): Session {
  return new Session(resolveOptions(rawOptions), init)
}
