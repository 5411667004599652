import fs from 'node:fs'
import { BaselineIndex, readBaseline } from '../baseline.ts'
import { readReport } from '../report-file.ts'
import { oneOf, parse, UsageError } from './args.ts'
import { formatGithub } from './format-github.ts'
import { formatMarkdown } from './format-markdown.ts'
import { formatText } from './format-text.ts'
import { expandFiles } from './glob.ts'
import type { Io } from './run.ts'
import { describeRuns, selectRuns } from './runs.ts'
import { summarize } from './summary.ts'

export const REPORT_USAGE = `netsan report <report files, directories or globs…> [--baseline <file>] [--format text|github|markdown|json] [--run latest|<id>]

  Merges the JSON reports that the \`report\` option writes (one per test file or worker, of every shard),
  prints a summary and exits 1 when a leak is neither suppressed nor in the baseline. Leaks of a test
  attempt that the runner retried are warnings: the runner's verdict on the test is its last attempt's.
  --baseline <file>   accepted leaks (from \`netsan baseline\`): they warn; entries that no longer occur are listed as stale
  --format <format>   text (default), github (default when GITHUB_ACTIONS=true: annotations at the creating
                      lines, then the text summary; also appends markdown to $GITHUB_STEP_SUMMARY), markdown, json
  --run <run>         reports of two runs that ran the same test file are refused (an earlier run's reports
                      left in the folder?): \`latest\` keeps, for each test file, the newest run that ran it;
                      a run id keeps that run (repeatable)`

const FORMATS = ['text', 'github', 'markdown', 'json'] as const

export function reportCommand(argv: string[], io: Io): number {
  const { values, positionals } = parse('report', argv, {
    baseline: { type: 'string' },
    format: { type: 'string', values: FORMATS },
    run: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    io.out(REPORT_USAGE)
    return 0
  }
  const format =
    values.format !== undefined
      ? oneOf('report', 'format', values.format as string, FORMATS)
      : io.env.GITHUB_ACTIONS === 'true'
        ? 'github'
        : 'text'
  if (positionals.length === 0) {
    throw new UsageError(
      `netsan report: give at least one report file or glob, e.g. netsan report 'reports/*.json'`,
    )
  }
  const files = expandFiles(positionals, io.cwd)
  const reports = selectRuns(
    'report',
    files.map((source) => ({ source, report: readReport(source) })),
    (values.run as string[] | undefined) ?? [],
  )
  const baselineFile = values.baseline as string | undefined
  const baseline = baselineFile ? new BaselineIndex(readBaseline(baselineFile), baselineFile) : undefined
  const summary = summarize(reports, baseline, describeRuns(reports))

  if (format === 'json') {
    // `##[` starts a (legacy) workflow command anywhere in a line of a GitHub Actions log: `\u0023` is
    // the same JSON string.
    const json = JSON.stringify({ ok: summary.leaks.length === 0, ...summary }, null, 2)
    io.out(json.replaceAll('##[', '#\\u0023['))
  } else if (format === 'markdown') {
    io.out(formatMarkdown(summary))
  } else if (format === 'github') {
    const annotations = formatGithub(summary, io.env.GITHUB_WORKSPACE || io.cwd)
    if (annotations) io.out(annotations)
    io.out(formatText(summary))
    const stepSummary = io.env.GITHUB_STEP_SUMMARY
    if (stepSummary) {
      try {
        fs.appendFileSync(stepSummary, `${formatMarkdown(summary)}\n`)
      } catch {}
    }
  } else {
    io.out(formatText(summary))
  }
  return summary.leaks.length === 0 ? 0 : 1
}
