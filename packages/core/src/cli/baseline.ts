import path from 'node:path'
import { type BaselineEntry, buildBaseline, entryFor, normalizeTestFile } from '../baseline.ts'
import { ReportFileError, readReport, writeJsonAtomic } from '../report-file.ts'
import type { ScopeResult } from '../types.ts'
import { parse, UsageError } from './args.ts'
import { expandFiles } from './glob.ts'
import type { Io } from './run.ts'
import { selectRuns } from './runs.ts'

export const BASELINE_USAGE = `netsan baseline <report files, directories or globs…> [--out netsan-baseline.json] [--run latest|<id>]

  Writes the accepted-leaks file: every leak in the reports (and every leak a previous baseline already
  accepted) becomes an entry keyed by test file, test name, kind and the creating function and file, so
  entries survive unrelated edits. Leaks of retried attempts are warnings and get no entry. Commit it and
  pass it as the \`baseline\` option or to \`netsan report --baseline\`. --run: as for netsan report.`

export function baselineCommand(argv: string[], io: Io): number {
  const { values, positionals } = parse('baseline', argv, {
    out: { type: 'string', short: 'o' },
    run: { type: 'string', multiple: true },
    help: { type: 'boolean', short: 'h' },
  })
  if (values.help) {
    io.out(BASELINE_USAGE)
    return 0
  }
  if (positionals.length === 0) {
    throw new UsageError(
      `netsan baseline: give at least one report file or glob, e.g. netsan baseline 'reports/*.json'`,
    )
  }
  const out = (values.out as string | undefined) ?? 'netsan-baseline.json'
  const entries: BaselineEntry[] = []
  const files = expandFiles(positionals, io.cwd)
  const reports = selectRuns(
    'baseline',
    files.map((source) => ({ source, report: readReport(source) })),
    (values.run as string[] | undefined) ?? [],
  )
  for (const { report } of reports) {
    for (const f of report.files) {
      const testFile = normalizeTestFile(f.file, report.root)
      const take = (r: ScopeResult) => {
        for (const leak of r.leaks) entries.push(entryFor(testFile, f.file, leak, report.project))
        for (const s of r.suppressed)
          if (s.by === 'baseline') entries.push(entryFor(testFile, f.file, s.leak, report.project))
      }
      for (const t of f.tests) if (!t.retried) take(t.result)
      if (f.fileResult) take(f.fileResult)
    }
  }
  const baseline = buildBaseline(entries)
  try {
    writeJsonAtomic(out, baseline)
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    const why =
      e.code === 'EEXIST' || e.code === 'ENOTDIR'
        ? `a part of ${path.dirname(out)} is a file, not a directory`
        : e.code === 'EISDIR'
          ? `${out} is a directory`
          : e.message
    throw new ReportFileError(`netsan baseline: cannot write ${out}: ${why}`)
  }
  io.out(
    `netsan: wrote ${baseline.entries.length} accepted leak${baseline.entries.length === 1 ? '' : 's'} from ${files.length} report${files.length === 1 ? '' : 's'} to ${out}`,
  )
  return 0
}
