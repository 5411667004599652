/**
 * The JSON report a session writes (option `report`, one file per worker) and `netsan report` reads.
 *
 * Schema 1 (documented in docs/ci.md):
 * ```
 * {
 *   "schema": 1,                 // bumped on any incompatible change; readers refuse newer schemas
 *   "tool": "netsan",
 *   "version": "0.1.0",          // the netsan that wrote it
 *   "runner": "vitest",          // what the adapter calls itself
 *   "run": "4242-81234567",      // the runner invocation: the same in every report of one run (run-id.ts)
 *   "shard"?: { "index": 1, "count": 2 }, // when the runner tells its workers (Jest)
 *   "project"?: "api",           // the runner project, when the run has several
 *   "pid": 4242,                 // the worker process
 *   "thread": 0,                 // its worker thread (0: main thread)
 *   "createdAt": "2026-…Z",      // ISO 8601, rewritten after every file
 *   "root": "/repo",             // project root: leak frames are relative to it
 *   "files": [{
 *     "file": "test/a.test.ts",  // as the runner names it (made relative to root by readers)
 *     "tests": [{ "name": "…", "result": ScopeResult, "churn"?: "warning text",
 *                 "attempt"?: 2,     // when the runner ran the test more than once (retries)
 *                 "retried"?: true   // the runner ran it again after this attempt: its leaks are warnings
 *     }],
 *     "fileResult": ScopeResult | null   // null while the file has not ended
 *   }],
 *   "workerEnd"?: ScopeResult    // what modules shared by the worker's files (Vitest isolate: false)
 *                                // left open when the worker ended: warnings, never failures
 * }
 * ```
 * `ScopeResult` is `{ owner, leaks: Leak[], suppressed: Suppressed[], stats: ConnectionStats }` (types.ts).
 * Adding an optional field keeps schema 1; removing or changing the meaning of a field bumps it.
 */
import path from 'node:path'
import { LEAK_KINDS, type ScopeResult } from './types.ts'

// Not `import … from 'node:…'`: an ES module import of a builtin reads every lazy export (fs: its
// streams, fs/promises, readline; timers: timers/promises), ≈ 10 ms more for each Vitest worker.
const fs = process.getBuiltinModule('node:fs')

export const REPORT_SCHEMA = 1

export interface ReportTest {
  name: string
  result: ScopeResult
  /** The churn warning for this test, when the churn check is on and fired. */
  churn?: string
  /** Which run of the test this is (1-based), when the runner ran it more than once. */
  attempt?: number
  /**
   * The runner ran the test again because this attempt failed: the last attempt is the verdict, and
   * this attempt's leaks are warnings.
   */
  retried?: true
}

export interface Shard {
  index: number
  count: number
}

export interface ReportFileEntry {
  file: string
  tests: ReportTest[]
  fileResult: ScopeResult | null
}

export interface NetsanReport {
  schema: typeof REPORT_SCHEMA
  tool: 'netsan'
  version: string
  runner: string
  /** The runner invocation; '' in reports of netsan 0.1.0, which did not record it. */
  run: string
  shard?: Shard
  /** The runner project; '' when the run has one. */
  project: string
  pid: number
  thread: number
  createdAt: string
  root: string
  files: ReportFileEntry[]
  /**
   * What modules that the worker imported once for all its files (Vitest `isolate: false`) left open
   * when the worker ended. No file owns them and the runner fails none for them: warnings.
   */
  workerEnd?: ScopeResult
}

/** A report or baseline file that cannot be used: the message says which file and why, for people. */
export class ReportFileError extends Error {
  readonly code = 'NETSAN_ERR_REPORT_FILE'
  constructor(message: string) {
    super(message)
    this.name = 'ReportFileError'
  }
}

let cachedVersion: string | undefined

/** The version of this netsan, from its package.json (`src/` and `dist/` sit next to it). */
export function netsanVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion
  let version = 'unknown'
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
    if (typeof pkg.version === 'string') version = pkg.version
  } catch {}
  cachedVersion = version
  return version
}

export function buildReport(init: {
  runner: string
  run: string
  shard?: Shard | undefined
  project?: string
  root: string
  files: { file: string; tests: ReportTest[]; fileResult: ScopeResult | undefined | null }[]
  workerEnd?: ScopeResult | undefined
  pid?: number
  thread?: number
  now?: Date
}): NetsanReport {
  return {
    schema: REPORT_SCHEMA,
    tool: 'netsan',
    version: netsanVersion(),
    runner: init.runner,
    run: init.run,
    ...(init.shard && { shard: init.shard }),
    project: init.project ?? '',
    pid: init.pid ?? process.pid,
    thread: init.thread ?? process.getBuiltinModule('node:worker_threads').threadId,
    createdAt: (init.now ?? new Date()).toISOString(),
    root: init.root,
    files: init.files.map((f) => ({
      file: f.file,
      tests: f.tests.map((t) => ({
        name: t.name,
        result: t.result,
        ...(t.churn && { churn: t.churn }),
        ...(t.attempt !== undefined && { attempt: t.attempt }),
        ...(t.retried && { retried: true as const }),
      })),
      fileResult: f.fileResult ?? null,
    })),
    ...(init.workerEnd && { workerEnd: init.workerEnd }),
  }
}

/**
 * Writes via a temporary file and a rename, so a reader never sees half a report. `create: false`: the
 * folder must exist (throws ENOENT otherwise).
 */
export function writeJsonAtomic(file: string, data: unknown, { create = true } = {}): void {
  if (create) fs.mkdirSync(path.dirname(file), { recursive: true })
  const { threadId } = process.getBuiltinModule('node:worker_threads')
  const tmp = `${file}.${process.pid}-${threadId}.tmp`
  fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`)
  fs.renameSync(tmp, file)
}

/** Reads a file and parses JSON, with errors that name the file and never carry a stack for users. */
export function readJsonFile(file: string, what: string): unknown {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new ReportFileError(`netsan: ${what} ${file} does not exist`)
    if (code === 'EISDIR') throw new ReportFileError(`netsan: ${what} ${file} is a directory, not a file`)
    throw new ReportFileError(`netsan: cannot read ${what} ${file}: ${(error as Error).message}`)
  }
  // A UTF-8 byte order mark (some editors and PowerShell's Out-File write one) is not JSON.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
  try {
    return JSON.parse(text)
  } catch (error) {
    const detail = text.trim() === '' ? 'the file is empty' : (error as Error).message
    throw new ReportFileError(`netsan: ${what} ${file} is not valid JSON (${detail})`)
  }
}

/** Checks the header every netsan file shares: tool name and schema version. */
export function checkHeader(data: unknown, source: string, tool: string, schema: number, what: string): void {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ReportFileError(`netsan: ${source} is not a ${what}: expected a JSON object`)
  }
  const d = data as Record<string, unknown>
  if (d.tool !== tool) {
    const hint =
      d.tool === 'netsan-baseline'
        ? ' (it is a netsan baseline; pass it with --baseline)'
        : d.tool === 'netsan'
          ? ' (it is a netsan report, not a baseline)'
          : ''
    throw new ReportFileError(
      `netsan: ${source} is not a ${what}: "tool" is ${JSON.stringify(d.tool)}${hint}`,
    )
  }
  if (typeof d.schema !== 'number' || !Number.isInteger(d.schema) || d.schema < 1) {
    throw new ReportFileError(
      `netsan: ${source} has an invalid "schema": ${JSON.stringify(d.schema)} (expected ${schema})`,
    )
  }
  if (d.schema > schema) {
    throw new ReportFileError(
      `netsan: ${source} was written by a newer netsan (schema ${d.schema}); this netsan (${netsanVersion()}) reads schema ${schema} — upgrade netsan`,
    )
  }
}

type Json = Record<string, unknown>

function fail(source: string, at: string, expected: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 60)
  throw new ReportFileError(
    `netsan: ${source} is not a valid netsan report: ${at} should be ${expected}, got ${shown}`,
  )
}

function obj(v: unknown, source: string, at: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(source, at, 'an object', v)
  return v as Json
}

function arr(v: unknown, source: string, at: string): unknown[] {
  if (!Array.isArray(v)) fail(source, at, 'an array', v)
  return v
}

function str(v: unknown, source: string, at: string): string {
  if (typeof v !== 'string') fail(source, at, 'a string', v)
  return v
}

function num(v: unknown, source: string, at: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(source, at, 'a number', v)
  return v
}

function checkLeak(v: unknown, source: string, at: string): void {
  const l = obj(v, source, at)
  if (!(LEAK_KINDS as readonly unknown[]).includes(l.kind))
    fail(source, `${at}.kind`, `one of ${LEAK_KINDS.join(', ')}`, l.kind)
  str(l.description, source, `${at}.description`)
  str(l.fix, source, `${at}.fix`)
  str(l.owner, source, `${at}.owner`)
  num(l.count, source, `${at}.count`)
  arr(l.stack, source, `${at}.stack`).forEach((f, i) => {
    str(f, source, `${at}.stack[${i}]`)
  })
  if (l.frame !== undefined) {
    const f = obj(l.frame, source, `${at}.frame`)
    str(f.file, source, `${at}.frame.file`)
    num(f.line, source, `${at}.frame.line`)
    num(f.column, source, `${at}.frame.column`)
  }
  if (l.stackTitle !== undefined) str(l.stackTitle, source, `${at}.stackTitle`)
  if (l.related !== undefined) {
    arr(l.related, source, `${at}.related`).forEach((v, i) => {
      const r = obj(v, source, `${at}.related[${i}]`)
      str(r.title, source, `${at}.related[${i}].title`)
      arr(r.stack, source, `${at}.related[${i}].stack`).forEach((f, j) => {
        str(f, source, `${at}.related[${i}].stack[${j}]`)
      })
    })
  }
}

const STAT_FIELDS = [
  'socketsOpened',
  'requests',
  'requestsPerConnection',
  'tlsHandshakes',
  'peakOpenConnections',
]

function checkResult(v: unknown, source: string, at: string): void {
  const r = obj(v, source, at)
  str(r.owner, source, `${at}.owner`)
  arr(r.leaks, source, `${at}.leaks`).forEach((l, i) => {
    checkLeak(l, source, `${at}.leaks[${i}]`)
  })
  arr(r.suppressed, source, `${at}.suppressed`).forEach((s, i) => {
    const o = obj(s, source, `${at}.suppressed[${i}]`)
    checkLeak(o.leak, source, `${at}.suppressed[${i}].leak`)
    if (!['allowLeaks', 'ignore', 'baseline'].includes(o.by as string))
      fail(source, `${at}.suppressed[${i}].by`, "'allowLeaks', 'ignore' or 'baseline'", o.by)
    str(o.reason, source, `${at}.suppressed[${i}].reason`)
  })
  const stats = obj(r.stats, source, `${at}.stats`)
  for (const k of STAT_FIELDS) num(stats[k], source, `${at}.stats.${k}`)
  obj(stats.connectionsByOrigin, source, `${at}.stats.connectionsByOrigin`)
}

/** Validates parsed JSON as a schema-1 report; `source` names it in errors (usually the path). */
export function parseReport(data: unknown, source: string): NetsanReport {
  checkHeader(data, source, 'netsan', REPORT_SCHEMA, 'netsan report')
  const d = data as Json
  str(d.runner, source, 'runner')
  if (d.run !== undefined) str(d.run, source, 'run')
  if (d.project !== undefined) str(d.project, source, 'project')
  if (d.shard !== undefined) {
    const shard = obj(d.shard, source, 'shard')
    num(shard.index, source, 'shard.index')
    num(shard.count, source, 'shard.count')
  }
  arr(d.files, source, 'files').forEach((f, i) => {
    const file = obj(f, source, `files[${i}]`)
    str(file.file, source, `files[${i}].file`)
    arr(file.tests, source, `files[${i}].tests`).forEach((t, j) => {
      const test = obj(t, source, `files[${i}].tests[${j}]`)
      str(test.name, source, `files[${i}].tests[${j}].name`)
      checkResult(test.result, source, `files[${i}].tests[${j}].result`)
      if (test.attempt !== undefined) num(test.attempt, source, `files[${i}].tests[${j}].attempt`)
      if (test.retried !== undefined && test.retried !== true)
        fail(source, `files[${i}].tests[${j}].retried`, 'true', test.retried)
    })
    if (file.fileResult !== null && file.fileResult !== undefined)
      checkResult(file.fileResult, source, `files[${i}].fileResult`)
  })
  if (d.workerEnd !== undefined) checkResult(d.workerEnd, source, 'workerEnd')
  return {
    schema: REPORT_SCHEMA,
    tool: 'netsan',
    version: typeof d.version === 'string' ? d.version : 'unknown',
    runner: d.runner as string,
    run: (d.run as string | undefined) ?? '',
    ...(d.shard !== undefined && { shard: d.shard as Shard }),
    project: (d.project as string | undefined) ?? '',
    pid: typeof d.pid === 'number' ? d.pid : 0,
    thread: typeof d.thread === 'number' ? d.thread : 0,
    createdAt: typeof d.createdAt === 'string' ? d.createdAt : '',
    root: typeof d.root === 'string' ? d.root : '',
    files: (d.files as Json[]).map((f) => ({
      file: f.file as string,
      tests: f.tests as ReportTest[],
      fileResult: (f.fileResult as ScopeResult | null | undefined) ?? null,
    })),
    ...(d.workerEnd !== undefined && { workerEnd: d.workerEnd as ScopeResult }),
  }
}

/** Reads and validates one report file; every problem is a `ReportFileError` with a readable message. */
export function readReport(file: string): NetsanReport {
  return parseReport(readJsonFile(file, 'report'), file)
}
