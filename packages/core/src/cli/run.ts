import { NetsanError } from '../errors.ts'
import { netsanVersion, ReportFileError } from '../report-file.ts'
import { UsageError } from './args.ts'
import { BASELINE_USAGE, baselineCommand } from './baseline.ts'
import { REPORT_USAGE, reportCommand } from './report.ts'

export interface Io {
  out(text: string): void
  err(text: string): void
  env: NodeJS.ProcessEnv
  cwd: string
}

/** The CI guide, absolute: `netsan --help` runs in a user's project, far from this repository. */
export const DOCS_URL = 'https://github.com/netsan-dev/netsan/blob/main/docs/ci.md'

export const USAGE = `netsan ${netsanVersion()} — network-leak sanitizer, CI commands

${REPORT_USAGE}

${BASELINE_USAGE}

Exit codes: 0 no new leaks (or the file was written), 1 new leaks, 2 bad input (missing or malformed
file, report from a newer netsan, unknown flag). Docs: ${DOCS_URL}`

/** The CLI as a function: returns the exit code; expected failures print one message, never a stack trace. */
export function run(argv: string[], io: Io): number {
  const [command, ...rest] = argv
  try {
    switch (command) {
      case 'report':
        return reportCommand(rest, io)
      case 'baseline':
        return baselineCommand(rest, io)
      case '--version':
      case '-v':
        io.out(netsanVersion())
        return 0
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE)
        return command === undefined ? 2 : 0
      default:
        throw new UsageError(
          `netsan: unknown command ${JSON.stringify(command)}; commands: report, baseline (see netsan --help)`,
        )
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ReportFileError || error instanceof NetsanError) {
      io.err(error.message)
      return 2
    }
    const e = error as Error
    io.err(`netsan: unexpected error: ${e?.message ?? String(error)}`)
    if (io.env.NETSAN_DEBUG) io.err(String(e?.stack))
    return 2
  }
}
