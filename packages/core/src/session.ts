import { BaselineIndex, normalizeTestFile, readBaseline } from './baseline.ts'
import { checkChurn } from './churn.ts'
import { type Engine, getEngine, markOff } from './engine.ts'
import { ErrorCodes, isLeakError, LeakError, NetsanError } from './errors.ts'
import {
  type Colors,
  formatLeaks,
  formatSuppressed,
  mergeLeaks,
  type Presentation,
  type Subject,
} from './format.ts'
import { resolveOptions } from './options.ts'
import { buildReport, ReportFileError, type ReportTest, type Shard, writeJsonAtomic } from './report-file.ts'
import { runIdFor, sessionTag } from './run-id.ts'
import { type RunRecordExtra, runDirFor } from './run-summary.ts'
import type { Scope } from './scope.ts'
import { Stats } from './stats.ts'
import type { Leak, ResolvedOptions, ScopeResult } from './types.ts'

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
  /** The runner's colours, or none (the default): the adapter decides as its runner does. */
  colors?: Colors
  /** Fits every LeakError to the runner's error printer (format.ts, `Presentation`). */
  shapeError?: (error: LeakError) => LeakError
  /**
   * The process that started this run (Vitest's or Jest's main process), whose every worker writes the
   * same run id into its reports. Default: this process.
   */
  mainPid?: number
  /** The shard this run is (`--shard=1/2`), where the runner tells its workers. */
  shard?: Shard | undefined
  /** The runner project, when the run has several: files with the same path in two projects stay apart. */
  project?: string
}

export interface FileRecord {
  file: string
  tests: ReportTest[]
  fileResult: ScopeResult | undefined
  /** Results of the file's describe blocks that are scopes: the report counts them as the file's. */
  blocks: ScopeResult[]
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
  /** The runner project ('' when the run has one); an adapter may learn it after the session starts. */
  project: string
  private readonly init: SessionInit
  private readonly tested = new WeakMap<Scope, ReportTest>()
  /** Ended describe blocks and where their result went, for when the runner runs a block again. */
  private readonly blocksEnded = new WeakMap<Scope, { record: FileRecord; result: ScopeResult }>()
  private reportFile: { path: string | undefined; run: string; tag: string } | undefined
  private readonly presentation: Presentation
  private disposed = false
  /** run ⊃ worker ⊃ file: the worker scope holds what modules shared by its files create. */
  private worker: Scope | undefined
  /** What those modules left open when the worker ended: warnings, in the report too (`workerEnd`). */
  private workerResult: ScopeResult | undefined

  constructor(options: ResolvedOptions, init: SessionInit) {
    this.options = options
    this.init = init
    this.project = init.project ?? ''
    this.presentation = { colors: init.colors, sourceLine: init.sourceLine, shape: init.shapeError }
    if (options.mode === 'off') {
      markOff(globalThis, 1)
      return
    }
    this.baseline = loadBaseline(options.baseline)
    this.engine = getEngine()
    if (!this.engine.installed) this.engine.options = options
    this.engine.presentation = this.presentation
    this.engine.acquire()
  }

  get active(): boolean {
    return this.engine !== undefined && !this.disposed
  }

  startFile(file: string): Scope | undefined {
    if (!this.engine) return undefined
    this.files.push({ file, tests: [], fileResult: undefined, blocks: [] })
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
    this.workerResult = result
    this.writeReport()
    const format = { colors: this.init.colors, sourceLine: this.init.sourceLine, root: this.options.root }
    const message = formatLeaks({ type: 'worker', name: worker.name }, result.leaks, format)
    const note =
      'These were made by modules that this worker imported once for all its files (isolate: false): they serve every later file, so netsan failed no file for them and closed none.'
    return { result, error: undefined, warning: [message, note].join('\n\n') }
  }

  /** `parent`: the file, or the innermost describe block that is a scope (`startDescribe`). */
  startTest(parent: Scope | undefined, name: string): Scope | undefined {
    if (!this.engine || !parent) return undefined
    return parent.child('test', name)
  }

  /**
   * A describe block with its own `beforeAll`/`afterAll` (adapters decide which blocks; others are no
   * scope of their own): what its hooks create is its own, judged when it ends (`endDescribe`).
   * `name`: the block's full name as the runner prints it (`outer > inner`).
   */
  startDescribe(parent: Scope | undefined, name: string): Scope | undefined {
    if (!this.engine || !parent || parent.ended) return undefined
    return parent.child('describe', name)
  }

  /**
   * Ends a describe block after its last `afterAll`: its leaks fail the file, naming the block, and go
   * into the file's entry of the JSON report (as file-level leaks with `ownerType: 'describe'`).
   * `failures`: the errors the runner reports for the block's hooks (as `endTest`'s).
   */
  async endDescribe(
    scope: Scope | undefined,
    run: { failures?: readonly unknown[] } = {},
  ): Promise<Outcome | undefined> {
    if (!scope || scope.ended) return undefined
    const result = await scope.finish(reported(run.failures))
    const record = this.files.at(-1)
    if (record) {
      this.applyBaseline(result, record.file)
      record.blocks.push(result)
      this.blocksEnded.set(scope, { record, result })
    }
    return this.outcome({ type: 'describe', name: scope.name }, result, scope.shownByRunner)
  }

  /**
   * The runner runs the ended describe block again as a whole, hooks included (Jest's
   * `retryTimes(n, { entireDescribe: true })`), because this attempt failed. As for a retried test
   * (`retryTest`), the last attempt decides: this attempt's leaks become warnings, recorded in the report
   * as an entry of the block's name with `attempt` and `retried` (its leaks keep `ownerType: 'describe'`),
   * and returned here for the adapter to print (it held the attempt's outcome back until it knew).
   */
  retryDescribe(scope: Scope | undefined, attempt: number): string | undefined {
    const ended = scope && this.blocksEnded.get(scope)
    if (!scope || !ended) return undefined
    this.blocksEnded.delete(scope)
    const { record, result } = ended
    if (result.leaks.length === 0 && result.suppressed.length === 0) return undefined
    record.blocks = record.blocks.filter((b) => b !== result)
    record.tests.push({ name: scope.name, result, attempt, retried: true })
    if (result.leaks.length === 0) return undefined
    const { shape: _, ...format } = this.presentation
    return formatLeaks({ type: 'describe', name: scope.name, attempt, retried: true }, result.leaks, format)
  }

  /** Runs `fn` so that everything it creates, across async hops, belongs to `scope`. */
  runIn<T>(scope: Scope | undefined, fn: () => T): T {
    return scope && this.engine ? this.engine.runIn(scope, fn) : fn()
  }

  /**
   * Ends a test (or one attempt of it: `attempt` counts from 1 when the runner retries the test).
   * `note`: a line the report prints under its heading (the adapters explain `test.fails` with it).
   * `failures`: the errors the runner will report for this test; a LeakError that
   * `expectNoLeakedConnections()` threw among them already showed its leaks, so the outcome leaves them
   * out (the report keeps them).
   */
  async endTest(
    scope: Scope | undefined,
    run: { attempt?: number; note?: string; failures?: readonly unknown[] } = {},
  ): Promise<Outcome | undefined> {
    if (!scope || scope.ended) return undefined
    const result = await scope.finish(reported(run.failures))
    const record = this.files.at(-1)
    if (record) this.applyBaseline(result, record.file)
    const churn = checkChurn(result.stats, this.options.churn, scope.name)
    const test: ReportTest = { name: scope.name, result, ...(churn && { churn }) }
    if (run.attempt !== undefined && run.attempt > 1) test.attempt = run.attempt
    record?.tests.push(test)
    this.tested.set(scope, test)
    const outcome = this.outcome(
      { type: 'test', name: scope.name, note: run.note },
      result,
      scope.shownByRunner,
    )
    if (churn) outcome.warning = [outcome.warning, churn].filter(Boolean).join('\n\n')
    return outcome
  }

  /**
   * The runner runs the test of the ended `scope` again, because this attempt failed. Its verdict is
   * the last attempt's, so this attempt's leaks become warnings: recorded as such in the report, and
   * returned here for the adapter to print in mode 'fail' (the runner hides a retried attempt's errors;
   * in mode 'warn' they were printed when the attempt ended).
   */
  retryTest(scope: Scope | undefined): string | undefined {
    const test = scope && this.tested.get(scope)
    if (!test || test.retried) return undefined
    test.retried = true
    test.attempt ??= 1
    if (test.result.leaks.length === 0 || this.options.mode !== 'fail') return undefined
    const { shape: _, ...format } = this.presentation
    return formatLeaks(
      { type: 'test', name: test.name, attempt: test.attempt, retried: true },
      test.result.leaks,
      format,
    )
  }

  /**
   * `failures`: the errors the runner reports for the file's own hooks (`beforeAll`/`afterAll`): a
   * LeakError that `expectNoLeakedConnections()` threw there already showed its leaks (as `endTest`'s).
   */
  async endFile(
    scope: Scope | undefined,
    run: { failures?: readonly unknown[] } = {},
  ): Promise<Outcome | undefined> {
    if (!scope || scope.ended) return undefined
    const result = await scope.finish(reported(run.failures))
    this.applyBaseline(result, scope.name)
    const record = this.files.find((f) => f.file === scope.name)
    if (record) record.fileResult = withBlocks(result, record.blocks)
    this.writeReport()
    return this.outcome({ type: 'file', name: scope.name }, result, scope.shownByRunner)
  }

  /** Known leaks become warnings (`by: 'baseline'`) before the outcome is computed; new ones still fail. */
  private applyBaseline(result: ScopeResult, file: string): void {
    if (!this.baseline || result.leaks.length === 0) return
    const { leaks, suppressed } = this.baseline.partition(
      result.leaks,
      normalizeTestFile(file, this.options.root),
      file,
      this.project,
    )
    result.leaks = leaks
    result.suppressed.push(...suppressed)
  }

  /** `shown`: leaks the runner already reported through a thrown LeakError; not reported again. */
  private outcome(subject: Subject, result: ScopeResult, shown: Leak[] = []): Outcome {
    const { shape, ...format } = this.presentation
    const notes = formatSuppressed(result.suppressed, format, subject)
    const leaks = withoutLeaks(result.leaks, shown)
    if (leaks.length === 0) return { result, error: undefined, warning: notes || undefined }
    const message = formatLeaks(subject, leaks, format)
    if (this.options.mode === 'warn') {
      return { result, error: undefined, warning: [message, notes].filter(Boolean).join('\n\n') }
    }
    const error = new LeakError(message, leaks)
    return { result, error: shape ? shape(error) : error, warning: notes || undefined }
  }

  /**
   * One JSON file per session, named after the run: a Jest worker runs one session per test file, and
   * worker threads share the pid. `netsan report` merges them. The same report goes to the run's folder
   * when netsan's reporter opened one, for the closing summary (run-summary.ts).
   */
  private writeReport(): void {
    const runDir = process.env.NETSAN_RUN_DIR
    if (!this.options.report && !runDir) return
    if (!this.reportFile) {
      const run = runIdFor(this.init.mainPid ?? process.pid)
      const tag = `${run}.${sessionTag()}`
      const { report } = this.options
      this.reportFile = { run, tag, path: report ? reportPathFor(report, tag) : undefined }
    }
    const { path: file, run, tag } = this.reportFile
    const data = buildReport({
      runner: this.init.runner,
      run,
      shard: this.init.shard,
      project: this.project,
      root: this.options.root,
      files: this.files,
      workerEnd: this.workerResult,
    })
    if (file) write(file, data)
    const dir = runDir && runDirFor(run)
    if (dir) {
      const { report } = this.options
      const extra: RunRecordExtra = {
        mode: this.options.mode,
        ...(report && { reportFiles: reportPathFor(report, `${run}.*`) }),
      }
      // The reporter removes the folder once it printed the summary; a worker that ends later (Vitest
      // tears an isolate: false worker down after that) must not make it again and leave it behind.
      write(`${dir}/${tag}.json`, { ...data, ...extra }, { create: false })
    }
  }

  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    if (this.options.mode === 'off') markOff(globalThis, -1)
    // Leaves the engine's stack at once (finish() does that before its first await).
    if (this.worker && !this.worker.ended) this.worker.finish().catch(() => {})
    if (this.engine?.presentation === this.presentation) this.engine.presentation = {}
    this.engine?.release()
  }
}

/** A file's result with its describe blocks' (the adapters reported those when each block ended). */
function withBlocks(result: ScopeResult, blocks: ScopeResult[]): ScopeResult {
  if (blocks.length === 0) return result
  return {
    owner: result.owner,
    leaks: [...blocks.flatMap((b) => b.leaks), ...result.leaks],
    suppressed: [...blocks.flatMap((b) => b.suppressed), ...result.suppressed],
    stats: Stats.combine([result.stats, ...blocks.map((b) => b.stats)]),
  }
}

/** `create: false`: into a folder that must exist; nothing is written (and nothing said) if it is gone. */
function write(file: string, data: unknown, { create = true } = {}): void {
  try {
    writeJsonAtomic(file, data, { create })
  } catch (error) {
    if (!create && (error as NodeJS.ErrnoException).code === 'ENOENT') return
    process.emitWarning(`netsan: could not write the report ${file}: ${(error as Error).message}`)
  }
}

/** `Scope.finish`'s test of which LeakErrors the runner reports among `failures` (none known: undefined). */
function reported(failures: readonly unknown[] | undefined) {
  const all = failures?.flat()
  return { reportedByRunner: all && ((error: object) => all.some((f) => sameError(f, error))) }
}

/**
 * The runner holds the error a test threw, or its copy: Vitest serializes errors, Jest keeps them
 * (`[error, asyncError]` pairs, flattened by the caller).
 */
function sameError(failure: unknown, thrown: object): boolean {
  if (failure === thrown) return true
  return (
    isLeakError(failure) && isLeakError(thrown) && (failure as Error).message === (thrown as Error).message
  )
}

/** `leaks` without those of `shown` (merged leaks: the counts are subtracted). */
function withoutLeaks(leaks: Leak[], shown: Leak[]): Leak[] {
  if (shown.length === 0) return leaks
  const key = (l: Leak) => `${l.kind}\0${l.description}\0${l.stack.join('\n')}\0${l.owner}`
  const left = new Map<string, number>()
  for (const l of mergeLeaks(shown)) left.set(key(l), l.count)
  const out: Leak[] = []
  for (const l of leaks) {
    const seen = left.get(key(l)) ?? 0
    if (seen >= l.count) continue
    out.push(seen > 0 ? { ...l, count: l.count - seen } : l)
  }
  return out
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

/** `netsan.json` → `netsan.<tag>.json`: the tag names the run, the worker and the session. */
export function reportPathFor(report: string, tag: string): string {
  return report.endsWith('.json') ? `${report.slice(0, -5)}.${tag}.json` : `${report}.${tag}.json`
}

export function createSession(rawOptions: unknown, init: SessionInit): Session {
  return new Session(resolveOptions(rawOptions), init)
}
