import path from 'node:path'
import { type BaselineEntry, type BaselineIndex, entryFor, normalizeTestFile } from '../baseline.ts'
import type { NetsanReport, Shard } from '../report-file.ts'
import { Stats } from '../stats.ts'
import { type ConnectionStats, LEAK_KINDS, type Leak, type LeakKind, type ScopeResult } from '../types.ts'

/** One leak, placed: which project, test file and test it belongs to, and its baseline key. */
export interface LeakItem {
  /** The runner project; '' when the run has one. */
  project: string
  testFile: string
  /**
   * '' for a leak owned by the file itself (module top level, beforeAll); `describe "outer > inner"`
   * for a describe block's (a file-level leak too).
   */
  test: string
  /** Which run of the test, when the runner ran it more than once. */
  attempt?: number
  /**
   * Judged at the end of its file (or describe block), where the runner failed the file, not a test:
   * also a server or late work that `test` opened.
   */
  fileLevel?: true
  leak: Leak
  entry: BaselineEntry
  /** The root of the report it came from: leak frames are relative to it. */
  root: string
}

export interface SuppressedItem extends LeakItem {
  by: 'allowLeaks' | 'ignore' | 'baseline'
  reason: string
}

export interface ChurnItem {
  project: string
  testFile: string
  test: string
  message: string
}

/** One runner invocation, as its reports tell it (runs.ts). */
export interface RunInfo {
  /** '' for reports of netsan 0.1.0, which recorded no run. */
  id: string
  runners: string[]
  shard?: Shard
  reports: number
  files: number
  /** The newest `createdAt` of its reports. */
  lastWritten: string
}

export interface Summary {
  reports: string[]
  runners: string[]
  runs: RunInfo[]
  files: number
  /** Tests as the runners count them: an attempt the runner retried is not one more test. */
  tests: number
  /** Tests with at least one leak that is not suppressed and not in the baseline. */
  testsWithLeaks: number
  /** Leaks that fail the run. */
  leaks: LeakItem[]
  /**
   * Leaks of attempts that the runner retried: warnings, never failures, because the runner's verdict
   * on the test is its last attempt's (which is in `leaks` if it leaked too).
   */
  retried: LeakItem[]
  /**
   * What modules shared by a worker's files (Vitest `isolate: false`) left open when the worker ended:
   * warnings, as the runner printed them; no test file owns them (`testFile` and `test` are '').
   */
  workerEnd: LeakItem[]
  leaksByKind: Partial<Record<LeakKind, number>>
  /** Every suppression, including leaks the baseline accepted (here or already in the session). */
  suppressed: SuppressedItem[]
  suppressedByReason: { by: SuppressedItem['by']; reason: string; count: number }[]
  baseline: string | undefined
  /** Baseline entries that no leak matched any more; undefined without a baseline. */
  stale: BaselineEntry[] | undefined
  churn: ChurnItem[]
  connections: ConnectionStats
}

/** Who made a `workerEnd` leak, in the runner's words. */
export const SHARED_MODULES = "modules shared by a worker's files (isolate: false)"

const count = (items: { leak: Leak }[]) => items.reduce((n, i) => n + i.leak.count, 0)

export function leakTotal(items: { leak: Leak }[]): number {
  return count(items)
}

/** Merges worker and shard reports and applies the baseline: a pure function of its inputs. */
export function summarize(
  reports: { source: string; report: NetsanReport }[],
  baseline: BaselineIndex | undefined,
  runs: RunInfo[] = [],
): Summary {
  const leaks: LeakItem[] = []
  const retried: LeakItem[] = []
  const workerEnd: LeakItem[] = []
  const suppressed: SuppressedItem[] = []
  const churn: ChurnItem[] = []
  const stats: ConnectionStats[] = []
  const runners = new Set<string>()
  const files = new Set<string>()
  let tests = 0

  const take = (
    result: ScopeResult,
    place: { project: string; testFile: string; rawFile: string; root: string },
    attempt?: { attempt?: number; retried?: true },
    fileLevel?: true,
  ) => {
    const { project, testFile, rawFile, root } = place
    stats.push(result.stats)
    const at = {
      ...(attempt?.attempt !== undefined && { attempt: attempt.attempt }),
      ...(fileLevel && { fileLevel }),
    }
    for (const leak of result.leaks) {
      const entry = entryFor(testFile, rawFile, leak, project)
      const item = { project, testFile, test: entry.test, ...at, leak, entry, root }
      if (attempt?.retried) {
        // Still occurring, so not a stale baseline entry; but a warning, so never a new leak either.
        baseline?.markSeen(entry)
        retried.push(item)
      } else if (baseline?.has(entry)) {
        suppressed.push({ ...item, by: 'baseline', reason: `accepted in ${baseline.source}` })
      } else leaks.push(item)
    }
    for (const s of result.suppressed) {
      const entry = entryFor(testFile, rawFile, s.leak, project)
      if (s.by === 'baseline') baseline?.markSeen(entry)
      suppressed.push({ ...place, test: entry.test, ...at, leak: s.leak, entry, by: s.by, reason: s.reason })
    }
  }

  for (const { report } of reports) {
    runners.add(report.runner)
    const project = report.project
    for (const f of report.files) {
      const testFile = normalizeTestFile(f.file, report.root)
      const place = { project, testFile, rawFile: f.file, root: report.root }
      files.add(JSON.stringify([project, testFile]))
      for (const t of f.tests) {
        if (!t.retried) tests++
        take(t.result, place, t)
        if (t.churn) churn.push({ project, testFile, test: t.name, message: t.churn })
      }
      if (f.fileResult) take(f.fileResult, place, undefined, true)
    }
    if (report.workerEnd) {
      const place = { project, testFile: '', test: '', root: report.root }
      for (const leak of report.workerEnd.leaks)
        workerEnd.push({ ...place, leak, entry: { ...entryFor('', '', leak, project), test: '' } })
      for (const s of report.workerEnd.suppressed) {
        const entry = { ...entryFor('', '', s.leak, project), test: '' }
        suppressed.push({ ...place, leak: s.leak, entry, by: s.by, reason: s.reason })
      }
    }
  }

  const order = (a: LeakItem, b: LeakItem) =>
    a.project.localeCompare(b.project) ||
    a.testFile.localeCompare(b.testFile) ||
    a.test.localeCompare(b.test) ||
    (a.attempt ?? 0) - (b.attempt ?? 0) ||
    a.leak.kind.localeCompare(b.leak.kind)
  leaks.sort(order)
  retried.sort(order)
  suppressed.sort((a, b) => a.by.localeCompare(b.by) || a.reason.localeCompare(b.reason) || order(a, b))

  const leaksByKind: Partial<Record<LeakKind, number>> = {}
  for (const kind of LEAK_KINDS) {
    const n = count(leaks.filter((l) => l.leak.kind === kind))
    if (n > 0) leaksByKind[kind] = n
  }
  const reasons = new Map<string, { by: SuppressedItem['by']; reason: string; count: number }>()
  for (const s of suppressed) {
    const key = `${s.by}\0${s.reason}`
    const r = reasons.get(key) ?? { by: s.by, reason: s.reason, count: 0 }
    r.count += s.leak.count
    reasons.set(key, r)
  }

  return {
    reports: reports.map((r) => r.source),
    runners: [...runners].sort(),
    runs,
    files: files.size,
    tests,
    testsWithLeaks: new Set(
      leaks.filter((l) => !l.fileLevel).map((l) => JSON.stringify([l.project, l.testFile, l.test])),
    ).size,
    leaks,
    retried,
    workerEnd,
    leaksByKind,
    suppressed,
    suppressedByReason: [...reasons.values()],
    baseline: baseline?.source,
    stale: baseline?.stale(),
    churn,
    connections: Stats.combine(stats),
  }
}

/** A frame's file as the CI checkout names it: relative to `base` (the workspace), resolved from the report root. */
export function checkoutPath(file: string, root: string, base: string): string {
  const abs = path.resolve(root || base, file)
  const rel = path.relative(base, abs)
  return rel.startsWith('..') || path.isAbsolute(rel) ? file.replaceAll('\\', '/') : rel.replaceAll('\\', '/')
}

/**
 * `test/a.test.ts › downloads the archive`, `test/a.test.ts (file level)`, with the project first when
 * the run has several (`[api] test/a.test.ts › …`) and the attempt of a retried test last; no test file
 * for what modules shared by a worker's files made (`workerEnd`).
 */
export function where(item: { project?: string; testFile: string; test: string; attempt?: number }): string {
  if (item.testFile === '') return `${item.project ? `[${item.project}] ` : ''}${SHARED_MODULES}`
  const file = item.project ? `[${item.project}] ${item.testFile}` : item.testFile
  const at = item.attempt ? ` (attempt ${item.attempt})` : ''
  return item.test === '' ? `${file} (file level)` : `${file} › ${item.test}${at}`
}
