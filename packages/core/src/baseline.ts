/**
 * The baseline: leaks a team has accepted for now, so a large codebase can adopt netsan today and fail
 * only on new leaks. Written by `netsan baseline`, read by the `baseline` option and `netsan report --baseline`.
 *
 * An entry is keyed by what survives unrelated edits: the test file (relative to the root), the test name
 * (empty for a file-level leak), the kind, and the function and file of the creating frame — never a line
 * number, a port or a count. `description` and `at` are kept for people reading the file.
 *
 * Schema 1:
 * ```
 * { "schema": 1, "tool": "netsan-baseline", "version": "0.1.0", "createdAt": "…",
 *   "entries": [{ "testFile": "test/a.test.ts", "test": "downloads", "kind": "body",
 *                 "fn": "downloadArchive", "file": "src/download.ts",
 *                 "description": "GET http://127.0.0.1:38211/big → 200, …", "at": "src/download.ts:14:23" }] }
 * ```
 * An entry of a run with several runner projects also has `"project": "api"`, part of its key.
 */
import path from 'node:path'
import { checkHeader, netsanVersion, ReportFileError, readJsonFile } from './report-file.ts'
import { LEAK_KINDS, type Leak, type LeakKind, type Suppressed } from './types.ts'

export const BASELINE_SCHEMA = 1

export interface BaselineEntry {
  /** The runner project, when the run has several (absent otherwise, and in older baselines). */
  project?: string
  testFile: string
  /** The test that owns the leak; '' for a leak owned by the file (module top level, beforeAll). */
  test: string
  kind: LeakKind
  /** Function of the first user frame that created the resource; '' when anonymous or unknown. */
  fn: string
  /** File of that frame, relative to the root; '' when no user code was on the stack. */
  file: string
  /** Informational only: not part of the key. */
  description?: string
  at?: string
}

export interface Baseline {
  schema: typeof BASELINE_SCHEMA
  tool: 'netsan-baseline'
  version: string
  createdAt: string
  entries: BaselineEntry[]
}

const posix = (p: string) => p.replaceAll('\\', '/')

/** A test file as keys use it: relative to the root, forward slashes. */
export function normalizeTestFile(file: string, root: string | undefined): string {
  if (root && path.isAbsolute(file)) {
    const rel = path.relative(root, file)
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) return posix(rel)
  }
  return posix(file)
}

/**
 * The creating frame's function, or else the nearest named function below it on the stack: a server that
 * starts listening inside `new Promise((resolve) => server.listen(…))` is keyed by the function around it.
 */
export function creatingFunction(leak: Leak): string {
  if (leak.frame?.fn) return leak.frame.fn
  for (const frame of leak.stack) {
    const name = /^at (.+?) \(/.exec(frame)?.[1]
    if (name && !name.includes('<anonymous>')) return name
  }
  return ''
}

/**
 * The entry a leak would have. `testFile` is normalized; `rawFile` is the file name as the runner gave it,
 * which is what a file-level leak's `owner` holds.
 */
export function entryFor(testFile: string, rawFile: string, leak: Leak, project = ''): BaselineEntry {
  // A describe block's leak is the file's, named after the block (never taken for a test of that name).
  const owner =
    leak.ownerType === 'describe'
      ? `describe "${leak.owner}"`
      : leak.owner === rawFile || leak.owner === testFile
        ? ''
        : leak.owner
  return {
    ...(project && { project }),
    testFile,
    test: owner,
    kind: leak.kind,
    fn: creatingFunction(leak),
    file: leak.frame ? posix(leak.frame.file) : '',
    description: leak.description,
    ...(leak.frame && { at: `${posix(leak.frame.file)}:${leak.frame.line}:${leak.frame.column}` }),
  }
}

export function baselineKey(
  e: Pick<BaselineEntry, 'project' | 'testFile' | 'test' | 'kind' | 'fn' | 'file'>,
): string {
  const key = [e.testFile, e.test, e.kind, e.fn, e.file]
  // Without a project the key is what it was before projects were recorded: old baselines still match.
  return JSON.stringify(e.project ? [...key, e.project] : key)
}

/** Entries sorted and deduplicated by key, wrapped in the versioned header. */
export function buildBaseline(entries: BaselineEntry[], now = new Date()): Baseline {
  const byKey = new Map<string, BaselineEntry>()
  for (const e of entries) if (!byKey.has(baselineKey(e))) byKey.set(baselineKey(e), e)
  const sorted = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e)
  return {
    schema: BASELINE_SCHEMA,
    tool: 'netsan-baseline',
    version: netsanVersion(),
    createdAt: now.toISOString(),
    entries: sorted,
  }
}

export function parseBaseline(data: unknown, source: string): Baseline {
  checkHeader(data, source, 'netsan-baseline', BASELINE_SCHEMA, 'netsan baseline')
  const d = data as Record<string, unknown>
  if (!Array.isArray(d.entries)) {
    throw new ReportFileError(
      `netsan: ${source} is not a valid netsan baseline: "entries" should be an array`,
    )
  }
  const entries = d.entries.map((e, i): BaselineEntry => {
    const o = e as Record<string, unknown>
    const bad = (field: string) =>
      new ReportFileError(
        `netsan: ${source} is not a valid netsan baseline: entries[${i}].${field} is ${JSON.stringify(o?.[field])}`,
      )
    if (typeof o !== 'object' || o === null) throw bad('(entry)')
    for (const field of ['testFile', 'test', 'fn', 'file'] as const) {
      if (typeof o[field] !== 'string') throw bad(field)
    }
    if (o.project !== undefined && typeof o.project !== 'string') throw bad('project')
    if (!(LEAK_KINDS as readonly unknown[]).includes(o.kind)) throw bad('kind')
    return o as unknown as BaselineEntry
  })
  return {
    schema: BASELINE_SCHEMA,
    tool: 'netsan-baseline',
    version: typeof d.version === 'string' ? d.version : 'unknown',
    createdAt: typeof d.createdAt === 'string' ? d.createdAt : '',
    entries,
  }
}

export function readBaseline(file: string): Baseline {
  return parseBaseline(readJsonFile(file, 'baseline'), file)
}

/** A loaded baseline that remembers which entries it matched, so the rest can be listed as stale. */
export class BaselineIndex {
  readonly source: string
  private readonly entries = new Map<string, BaselineEntry>()
  private readonly seen = new Set<string>()

  constructor(baseline: Baseline, source: string) {
    this.source = source
    for (const e of baseline.entries) this.entries.set(baselineKey(e), e)
  }

  get size(): number {
    return this.entries.size
  }

  /** True when the entry is accepted; records it as seen either way it was found. */
  has(entry: BaselineEntry): boolean {
    const key = baselineKey(entry)
    if (!this.entries.has(key)) return false
    this.seen.add(key)
    return true
  }

  /** Marks an entry as still occurring without asking (a leak the session already matched). */
  markSeen(entry: BaselineEntry): void {
    const key = baselineKey(entry)
    if (this.entries.has(key)) this.seen.add(key)
  }

  /** Entries no leak matched: the leak was fixed (or the test renamed); the entry can go. */
  stale(): BaselineEntry[] {
    return [...this.entries].filter(([k]) => !this.seen.has(k)).map(([, e]) => e)
  }

  /** Moves accepted leaks out of `leaks` into suppressions with `by: 'baseline'`. */
  partition(
    leaks: Leak[],
    testFile: string,
    rawFile: string,
    project = '',
  ): { leaks: Leak[]; suppressed: Suppressed[] } {
    const kept: Leak[] = []
    const suppressed: Suppressed[] = []
    for (const leak of leaks) {
      if (this.has(entryFor(testFile, rawFile, leak, project))) {
        suppressed.push({ leak, by: 'baseline', reason: `accepted in ${this.source}` })
      } else kept.push(leak)
    }
    return { leaks: kept, suppressed }
  }
}
