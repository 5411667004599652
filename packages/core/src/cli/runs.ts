/**
 * Runs: which runner invocation each report comes from (its `run` id, run-id.ts). Reports of one run are
 * merged; so are reports of runs that ran different test files (the shards of a sharded run, from one
 * machine or many). Two runs that both ran a test file are refused: the usual cause is a folder that
 * still holds the reports of an earlier run, whose fixed leaks would fail the build, and netsan cannot
 * tell which verdict is current. `--run` chooses.
 */
import { normalizeTestFile } from '../baseline.ts'
import { type NetsanReport, ReportFileError } from '../report-file.ts'
import { UsageError } from './args.ts'
import type { RunInfo } from './summary.ts'

export interface SourcedReport {
  source: string
  report: NetsanReport
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

/** A test file as runs are compared: its project and its path relative to its project's root. */
function fileKey(report: NetsanReport, file: string): string {
  return JSON.stringify([report.project, normalizeTestFile(file, report.root)])
}

function displayKey(key: string): string {
  const [project, file] = JSON.parse(key) as [string, string]
  return project ? `[${project}] ${file}` : file
}

export function describeRuns(reports: SourcedReport[]): RunInfo[] {
  const runs = new Map<string, RunInfo & { runnerSet: Set<string>; fileSet: Set<string> }>()
  for (const { report } of reports) {
    let run = runs.get(report.run)
    if (!run) {
      run = {
        id: report.run,
        runners: [],
        reports: 0,
        files: 0,
        lastWritten: '',
        runnerSet: new Set(),
        fileSet: new Set(),
      }
      runs.set(report.run, run)
    }
    run.reports++
    run.runnerSet.add(report.runner)
    if (report.shard) run.shard ??= report.shard
    for (const f of report.files) run.fileSet.add(fileKey(report, f.file))
    if (report.createdAt > run.lastWritten) run.lastWritten = report.createdAt
  }
  return [...runs.values()]
    .map(({ runnerSet, fileSet, ...run }) => ({
      ...run,
      runners: [...runnerSet].sort(),
      files: fileSet.size,
    }))
    .sort((a, b) => a.lastWritten.localeCompare(b.lastWritten) || a.id.localeCompare(b.id))
}

function runLine(run: RunInfo): string {
  const id = run.id === '' ? '(no id: written by netsan 0.1.0)' : run.id
  const shard = run.shard ? `, shard ${run.shard.index}/${run.shard.count}` : ''
  return `  run ${id} (${run.runners.join(', ')}${shard}): ${plural(run.reports, 'report')}, ${plural(run.files, 'file')}, last written ${run.lastWritten || 'at an unknown time'}`
}

/** For each test file, the runs that ran it. */
function runsByFile(reports: SourcedReport[]): Map<string, Set<string>> {
  const byFile = new Map<string, Set<string>>()
  for (const { report } of reports) {
    for (const f of report.files) {
      const key = fileKey(report, f.file)
      const set = byFile.get(key) ?? new Set()
      set.add(report.run)
      byFile.set(key, set)
    }
  }
  return byFile
}

/**
 * The reports to merge. `choice` is the `--run` values: none (every run, refused if two ran the same
 * file), `latest` (for each test file, only the newest run that ran it), or run ids.
 */
export function selectRuns(command: string, reports: SourcedReport[], choice: string[]): SourcedReport[] {
  let selected = reports
  const ids = choice.filter((c) => c !== 'latest')
  if (ids.length > 0) {
    const known = new Set(reports.map((r) => r.report.run))
    for (const id of ids) {
      if (!known.has(id)) {
        throw new UsageError(
          `netsan ${command}: no report of run ${JSON.stringify(id)}; the runs are:\n${describeRuns(reports).map(runLine).join('\n')}`,
        )
      }
    }
    selected = reports.filter((r) => ids.includes(r.report.run))
  }
  const byFile = runsByFile(selected)
  const shared = [...byFile].filter(([, runs]) => runs.size > 1)
  if (shared.length === 0) return selected
  if (choice.includes('latest')) return newestPerFile(selected, byFile)

  const runs = describeRuns(selected)
  const involved = new Set(shared.flatMap(([, r]) => [...r]))
  const files = shared.map(([key]) => displayKey(key)).sort()
  const named = files.slice(0, 3).join(', ') + (files.length > 3 ? ` and ${files.length - 3} more` : '')
  throw new ReportFileError(
    [
      `netsan ${command}: the reports come from ${plural(runs.length, 'run')}, and ${involved.size} of them ran the same test files (${named}): are reports of an earlier run still in the folder?`,
      ...runs.map(runLine),
      'Empty the report folder before each run, or choose: --run latest (for each test file, the newest run that ran it) or --run <id> (repeatable).',
    ].join('\n'),
  )
}

/** Keeps, for each test file, only what the newest run that ran it reported. */
function newestPerFile(reports: SourcedReport[], byFile: Map<string, Set<string>>): SourcedReport[] {
  const written = new Map(describeRuns(reports).map((r, i) => [r.id, i]))
  const winner = new Map<string, string>()
  for (const [key, runs] of byFile) {
    const newest = [...runs].sort((a, b) => (written.get(b) ?? 0) - (written.get(a) ?? 0))[0]!
    winner.set(key, newest)
  }
  const out: SourcedReport[] = []
  for (const { source, report } of reports) {
    const files = report.files.filter((f) => winner.get(fileKey(report, f.file)) === report.run)
    if (files.length > 0) out.push({ source, report: { ...report, files } })
  }
  return out
}
