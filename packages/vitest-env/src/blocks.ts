/**
 * Describe blocks as netsan scopes. A block with its own `beforeAll`, `afterAll` or `aroundAll` owns
 * what those create, and is judged when it ends: after its last `afterAll`, before an outer `afterAll`
 * closes a shared server and with it the evidence. Blocks without such hooks are no scope of their own.
 *
 * Vitest runs a suite's `aroundAll` hooks around its `beforeAll` hooks, children and `afterAll` hooks,
 * but a hook registered with `aroundAll()` goes to the suite being collected, and a block's callback
 * runs after the file's import, where netsan registers its hooks. So netsan adds its hook to each
 * block's list itself, through the runner's public `TestRunner.getSuiteHooks` (Vitest 4.1 and 5),
 * once the file is collected: first in the list, so it wraps the user's own `aroundAll` hooks too.
 * @note docs/discoveries/scopes.md (Describe blocks)
 */
import type { Scope, Session } from 'netsan'
import { testName } from './names.ts'
import { reportOutcome } from './report.ts'

/** How Vitest reads an `aroundAll` hook's timeout (a global symbol in Vitest 4.1 and 5). */
export const AROUND_TIMEOUT = Symbol.for('VITEST_AROUND_TIMEOUT')

/**
 * Vitest's hook timeout (its default when the config has none), and the timeout of a hook of netsan's
 * that settles after the user's hooks: Vitest's plus netsan's settle wait (0: none).
 */
export function hookTimeouts(configured: number | undefined, settleMs: number) {
  const hookTimeout = configured ?? 10_000
  const timeout = hookTimeout > 0 && Number.isFinite(hookTimeout) ? hookTimeout + settleMs : 0
  return { hookTimeout, timeout }
}

export interface SuiteTask {
  type: string
  name: string
  mode?: string
  tasks?: SuiteTask[]
  suite?: SuiteTask
  /** What Vitest reports for the suite itself: the errors its hooks threw. */
  result?: { errors?: unknown[] }
}

interface SuiteHooks {
  beforeAll?: unknown[]
  afterAll?: unknown[]
  aroundAll?: unknown[]
}

// `any`: Vitest types the suite as its own `Suite`, of which netsan reads a few fields (SuiteTask).
export type GetSuiteHooks = (suite: any) => SuiteHooks | undefined

export type AroundAll = ((runSuite: () => Promise<void>) => Promise<void>) & { [AROUND_TIMEOUT]?: number }

/** The describe blocks of one collected file that are netsan scopes, and their scopes while they run. */
export class Blocks {
  private readonly scopes = new WeakMap<SuiteTask, Scope>()
  private readonly hooked = new WeakSet<SuiteTask>()
  private readonly session: Session
  private readonly file: Scope | undefined

  constructor(session: Session, file: Scope | undefined) {
    this.session = session
    this.file = file
  }

  /**
   * Adds netsan's `aroundAll` to every block of `file` (a collected file task) that has hooks of its
   * own. `hookTimeout`: Vitest's, which netsan's settle at the block's end stays within; `timeout`: the
   * hook's own (Vitest's plus netsan's settle), as for the file's hook.
   */
  attach(file: SuiteTask, getHooks: GetSuiteHooks, hookTimeout: number, timeout: number): void {
    const visit = (suite: SuiteTask) => {
      for (const task of suite.tasks ?? []) {
        if (task.type !== 'suite') continue
        const hooks = getHooks(task)
        const own =
          (hooks?.beforeAll?.length ?? 0) + (hooks?.afterAll?.length ?? 0) + (hooks?.aroundAll?.length ?? 0)
        if (hooks && own > 0 && !this.hooked.has(task)) {
          this.hooked.add(task)
          const hook: AroundAll = (runSuite) => this.run(task, runSuite, hookTimeout)
          hook[AROUND_TIMEOUT] = timeout
          ;(hooks.aroundAll ??= []).unshift(hook)
        }
        visit(task)
      }
    }
    visit(file)
  }

  /** The innermost block around `task` that is a scope now, else the file. */
  scopeAround(task: SuiteTask | undefined): Scope | undefined {
    for (let s = task; s; s = s.suite) {
      const scope = this.scopes.get(s)
      if (scope && !scope.ended) return scope
    }
    return this.file
  }

  private async run(suite: SuiteTask, runSuite: () => Promise<void>, hookTimeout: number): Promise<void> {
    const scope = this.session.startDescribe(this.scopeAround(suite.suite), testName(suite))
    if (scope) this.scopes.set(suite, scope)
    // Vitest collects what its hooks and children throw itself: `runSuite()` does not reject.
    await this.session.runIn(scope, runSuite)
    // netsan's check is the block's last hook: it settles within one hook timeout, as the user's would.
    scope?.deadlineIn(hookTimeout)
    // Thrown here, the report fails the block (Vitest shows it as the suite's error) and so the file.
    reportOutcome(await this.session.endDescribe(scope, { failures: suite.result?.errors ?? [] }))
  }
}
