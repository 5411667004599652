/**
 * `vitest-environment-netsan/reporter`: netsan's closing summary, after Vitest's own totals.
 *
 *     reporters: ['default', 'vitest-environment-netsan/reporter'],
 *
 * Vitest never loads an environment in its main process (it only resolves the package name there), and
 * an environment cannot add a reporter or a plugin: a reporter is the one place where netsan's code runs
 * once per run, after every worker. It opens a folder for the run that every worker it starts writes its
 * results to, and sums them up when the run ends (netsan's run-summary.ts).
 * @note docs/discoveries/runner-output.md
 */
import { vitestColors } from './colors.ts'
import { type Core, loadCore } from './core.ts'

interface VitestLike {
  logger: { log(...args: unknown[]): void }
}

export default class NetsanReporter {
  private vitest: VitestLike | undefined
  private core: Core | undefined
  private dir: string | undefined

  onInit(vitest: VitestLike): void {
    this.vitest = vitest
  }

  /** Before Vitest starts the run's workers, which inherit the folder's name from the environment. */
  async onTestRunStart(): Promise<void> {
    const core = await loadCore()
    this.core = core
    this.dir = core.openRunDir(core.runIdFor(process.pid))
  }

  onTestRunEnd(): void {
    const { core, dir } = this
    if (!core || !dir) return
    this.dir = undefined
    const run = core.readRunDir(dir)
    core.closeRunDir(dir)
    // Nothing recorded: netsan was off, or no file of this run used the environment.
    if (!run) return
    const text = core.formatRunSummary(run, 'vitest', vitestColors(core))
    if (this.vitest) this.vitest.logger.log(`${text}\n`)
    else process.stdout.write(`${text}\n\n`)
  }
}
