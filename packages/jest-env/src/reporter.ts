/**
 * `jest-environment-netsan/reporter`: netsan's closing summary, after Jest's own totals.
 *
 *     reporters: ['default', 'jest-environment-netsan/reporter'],
 *
 * Jest loads a test environment in its workers (in its main process only when it runs in band), so a
 * reporter is the one place where netsan's code runs once per run, after every worker. It opens a folder
 * for the run that every worker it starts writes its results to, and sums them up when the run ends
 * (netsan's run-summary.ts).
 * @note docs/discoveries/runner-output.md
 */
import { closeRunDir, formatRunSummary, openRunDir, readRunDir, runIdFor } from 'netsan'
import { jestColors } from './colors.ts'

class NetsanReporter {
  private dir: string | undefined

  /** Before Jest starts its workers, which inherit the folder's name from the environment. */
  onRunStart(): void {
    this.dir = openRunDir(runIdFor(process.pid))
  }

  onRunComplete(): void {
    const dir = this.dir
    if (!dir) return
    this.dir = undefined
    const run = readRunDir(dir)
    closeRunDir(dir)
    // Nothing recorded: netsan was off, or no test file of this run used the environment.
    if (run) process.stderr.write(`${formatRunSummary(run, 'jest', jestColors())}\n`)
  }

  getLastError(): undefined {
    return undefined
  }
}

export = NetsanReporter
