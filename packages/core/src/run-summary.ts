/**
 * The closing summary of a run: what netsan found in every worker, summed up once, where the runner
 * prints its own totals. The workers share nothing with the runner's main process but the environment
 * and the file system, so:
 * - the adapters' reporter (in the main process) opens a folder for the run and names it in the
 *   environment (`NETSAN_RUN_DIR`), which every worker it starts inherits;
 * - each session writes its JSON report there (report-file.ts, the format `netsan report` merges), after
 *   every test file, whether or not the `report` option is set;
 * - at the end of the run the reporter reads the folder, prints the summary and removes the folder.
 * A worker writes there only when the folder is named after its own run: a runner started by a test
 * (nested run) inherits the variable but is another run.
 */
import { leakTotal, type Summary, summarize } from './cli/summary.ts'
import { type Colors, plainColors } from './format.ts'
import { KIND_WORDS } from './kinds.ts'
import { parseReport, readJsonFile } from './report-file.ts'
import type { LeakKind, Mode } from './types.ts'

// Not `import … from 'node:…'`: an ES module import of a builtin reads every lazy export.
const fs = process.getBuiltinModule('node:fs')
const os = process.getBuiltinModule('node:os')
const path = process.getBuiltinModule('node:path')

export const RUN_DIR_ENV = 'NETSAN_RUN_DIR'
const PREFIX = 'netsan-run-'

/** What a session adds to its report in the run's folder, for the summary. */
export interface RunRecordExtra {
  mode: Mode
  /** The `report` option's files of this run (`reports/netsan.<run>.*.json`), when it is set. */
  reportFiles?: string
}

/** Main process: a fresh, empty folder for run `run`, named in the environment the workers inherit. */
export function openRunDir(run: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = path.join(os.tmpdir(), `${PREFIX}${run}`)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(dir, { recursive: true })
  env[RUN_DIR_ENV] = dir
  return dir
}

/** Worker: the run's folder, if a reporter opened one for this run. */
export function runDirFor(run: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env[RUN_DIR_ENV]
  return dir && path.basename(dir) === `${PREFIX}${run}` ? dir : undefined
}

/** Main process, at the run's end: the folder goes, and so does its name (a next run opens its own). */
export function closeRunDir(dir: string, env: NodeJS.ProcessEnv = process.env): void {
  fs.rmSync(dir, { recursive: true, force: true })
  if (env[RUN_DIR_ENV] === dir) delete env[RUN_DIR_ENV]
}

export interface RunSummary {
  summary: Summary
  modes: Mode[]
  reportFiles: string[]
}

/** Reads what the sessions of the run wrote; undefined when none did (netsan was off or not in use). */
export function readRunDir(dir: string): RunSummary | undefined {
  let names: string[]
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.json'))
  } catch {
    return undefined
  }
  const reports = []
  const modes = new Set<Mode>()
  const reportFiles = new Set<string>()
  for (const name of names.sort()) {
    const source = path.join(dir, name)
    try {
      const raw = readJsonFile(source, 'report') as Partial<RunRecordExtra>
      reports.push({ source, report: parseReport(raw, source) })
      if (raw.mode) modes.add(raw.mode)
      if (raw.reportFiles) reportFiles.add(raw.reportFiles)
    } catch {
      // A worker killed while writing leaves no half file (writes are atomic); anything else is not ours.
    }
  }
  if (reports.length === 0) return undefined
  return { summary: summarize(reports, undefined), modes: [...modes], reportFiles: [...reportFiles] }
}

/**
 * How the runner prints its totals: Vitest right-aligns dim titles in 11 columns (`  Test Files  …`),
 * Jest left-aligns bold titles with a colon in 13 (`Test Suites: …`). Either way values start at column 13.
 */
export type SummaryStyle = 'vitest' | 'jest'

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** Report values come from the tested code: one line each, no escape sequences of theirs. */
function inert(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ')
}

function byKind(counts: Partial<Record<LeakKind, number>>): string {
  return Object.entries(counts)
    .map(([kind, n]) => {
      const word = KIND_WORDS[kind as LeakKind]
      return `${n} ${n === 1 ? word : word.endsWith('body') ? `${word.slice(0, -1)}ies` : `${word}s`}`
    })
    .join(', ')
}

const REASONS_SHOWN = 5

/** The summary lines, a pure function of what the sessions recorded. */
export function formatRunSummary(run: RunSummary, style: SummaryStyle, colors: Colors = plainColors): string {
  const c = colors
  const s = run.summary
  const title =
    style === 'vitest'
      ? (t: string) => c.dim(`${t.padStart(11)} `)
      : (t: string) => c.bold(`${t}:`.padEnd(12))
  const indent = ' '.repeat(12)
  const total = leakTotal(s.leaks)
  const atFileEnd = s.leaks.filter((l) => l.fileLevel)
  const fileLevel = leakTotal(atFileEnd)
  const files = new Set(atFileEnd.map((l) => JSON.stringify([l.project, l.testFile]))).size
  const warn = run.modes.length > 0 && run.modes.every((m) => m === 'warn')
  let headline: string
  if (total === 0) headline = c.green('no leaks')
  else {
    const ends = files === 1 ? 'the end of a file' : `the ends of ${files} files`
    const where =
      s.testsWithLeaks === 0
        ? `at ${ends}`
        : `in ${plural(s.testsWithLeaks, 'test')}${fileLevel > 0 ? `, ${fileLevel} at ${ends}` : ''}`
    const count = plural(total, 'leak')
    headline = `${c.bold(warn ? c.yellow(count) : c.red(count))} ${where} (${byKind(s.leaksByKind)})`
    if (warn) headline += c.yellow(" — mode 'warn'")
  }
  const lines = [`${title('netsan')} ${headline}`]
  const retried = leakTotal(s.retried)
  if (retried > 0) {
    lines.push(
      `${indent} ${c.yellow(`${plural(retried, 'leak')} in retried attempts`)} (warnings: the last attempt decides)`,
    )
  }
  const workerEnd = leakTotal(s.workerEnd)
  if (workerEnd > 0) {
    lines.push(
      `${indent} ${c.yellow(`${plural(workerEnd, 'leak')} left open when a worker ended`)} (warnings: modules shared by its files, isolate: false)`,
    )
  }
  const reasons = s.suppressedByReason
  if (reasons.length > 0) {
    const n = reasons.reduce((sum, r) => sum + r.count, 0)
    lines.push(`${indent} ${c.yellow(`${plural(n, 'leak')} allowed`)}`)
    for (const r of reasons.slice(0, REASONS_SHOWN)) {
      lines.push(`${indent}   ${r.count} — ${r.by}: ${inert(r.reason)}`)
    }
    if (reasons.length > REASONS_SHOWN)
      lines.push(`${indent}   … and ${reasons.length - REASONS_SHOWN} more reasons`)
  }
  for (const files of run.reportFiles) lines.push(`${indent} report: ${c.cyan(inert(files))}`)
  return lines.join('\n')
}
