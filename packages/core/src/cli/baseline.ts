import { type BaselineEntry, buildBaseline, entryFor, normalizeTestFile } from '../baseline.ts'
import { readReport, writeJsonAtomic } from '../report-file.ts'
import type { ScopeResult } from '../types.ts'
import { parse, UsageError } from './args.ts'
import { expandFiles } from './glob.ts'
import type { Io } from './run.ts'

export const BASELINE_USAGE = `netsan baseline <report files, directories or globs…> [--out netsan-baseline.json]

  Writes the accepted-leaks file: every leak in the reports (and every leak a previous baseline already
  accepted) becomes an entry keyed by test file, test name, kind and the creating function and file, so
  entries survive unrelated edits. Commit it and pass it as the \`baseline\` option or to \`netsan report --baseline\`.`

export function baselineCommand(argv: string[], io: Io): number {
  const { values, positionals } = parse('baseline', argv, {
    out: { type: 'string', short: 'o' },
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
  for (const source of files) {
    const report = readReport(source)
    for (const f of report.files) {
      const testFile = normalizeTestFile(f.file, report.root)
      const take = (r: ScopeResult) => {
        for (const leak of r.leaks) entries.push(entryFor(testFile, f.file, leak))
        for (const s of r.suppressed)
          if (s.by === 'baseline') entries.push(entryFor(testFile, f.file, s.leak))
      }
      for (const t of f.tests) take(t.result)
      if (f.fileResult) take(f.fileResult)
    }
  }
  const baseline = buildBaseline(entries)
  writeJsonAtomic(out, baseline)
  io.out(
    `netsan: wrote ${baseline.entries.length} accepted leak${baseline.entries.length === 1 ? '' : 's'} from ${files.length} report${files.length === 1 ? '' : 's'} to ${out}`,
  )
  return 0
}
