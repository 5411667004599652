import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment'
import type { Circus } from '@jest/types'
import { createSession, type Outcome, resolveOptions, type Scope, type Session } from 'netsan'
import { exitDiagnosis } from './exit.ts'
import { forJest } from './jest-error.ts'
import { fileName, rawOptions } from './options.ts'
import { attachSandbox } from './sandbox.ts'
import { sourceLineReader } from './source.ts'

type TestEntry = Circus.TestEntry

/** `describe names › test name`, the way Jest's own reporters name a test. */
export function testName(test: TestEntry): string {
  const names: string[] = []
  for (let node: Circus.DescribeBlock | TestEntry | undefined = test; node; node = node.parent) {
    if (node.type === 'describeBlock' && node.name === 'ROOT_DESCRIBE_BLOCK' && !node.parent) break
    names.unshift(node.name)
  }
  return names.join(' › ')
}

/**
 * Maps Jest's circus events onto netsan scopes: a file scope from setup to `run_finish` (after every
 * afterAll), a test scope from `test_start` (before beforeEach) to `test_done` (after afterEach).
 */
export class JestLifecycle {
  session: Session | undefined
  private readonly config: JestEnvironmentConfig
  private readonly context: EnvironmentContext
  private fileScope: Scope | undefined
  private readonly tests = new Map<TestEntry, Scope>()
  private detach: (() => void) | undefined
  private exit: ReturnType<typeof exitDiagnosis> | undefined
  private root = ''

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    this.config = config
    this.context = context
  }

  setup(sandbox: typeof globalThis): void {
    const raw = rawOptions(this.config)
    const { root } = resolveOptions(raw)
    const session = createSession(raw, { runner: 'jest', sourceLine: sourceLineReader(root) })
    this.session = session
    this.root = root
    if (!session.engine) return
    this.exit = exitDiagnosis(this.config, session)
    this.exit.fileStarted()
    this.detach = attachSandbox(session, sandbox)
    this.fileScope = session.startFile(fileName(session.options.root, this.context))
  }

  /** The scope of a test, created on first need: at `test_start`, or when Jest calls its fn early. */
  private scopeFor(test: TestEntry): Scope | undefined {
    const session = this.session
    if (!session?.active || !this.fileScope || this.fileScope.ended) return undefined
    let scope = this.tests.get(test)
    if (!scope || scope.ended) {
      scope = session.startTest(this.fileScope, testName(test))
      if (scope) this.tests.set(test, scope)
    }
    return scope
  }

  /**
   * Synchronous definition event: runs the test fn inside its own scope's async context, so that
   * with `test.concurrent` each test owns what its own code creates, whatever the clock says.
   */
  addTest(state: Circus.State): void {
    if (!this.session?.active) return
    const children = state.currentDescribeBlock.children
    const test = children[children.length - 1]
    if (!test || test.type !== 'test' || typeof test.fn !== 'function') return
    const original = test.fn as (...args: unknown[]) => unknown
    if (isGenerator(original)) return
    const lifecycle = this
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const scope = lifecycle.scopeFor(test)
      const call = () => original.apply(this, args)
      return scope && lifecycle.session ? lifecycle.session.runIn(scope, call) : call()
    }
    // Jest tells a done-callback test by the fn's arity.
    Object.defineProperty(wrapped, 'length', { value: original.length })
    Object.defineProperty(wrapped, 'name', { value: original.name })
    test.fn = wrapped as Circus.TestFn
  }

  testStart(test: TestEntry): void {
    this.scopeFor(test)
  }

  /**
   * Jest starts a timeout: the test's function, or a hook of the test (`test`) or of the file. netsan's
   * settle for that scope stays within it (a check inside the test, and the test's own end).
   */
  timeoutStarts(ms: number, test: TestEntry | null | undefined): void {
    const scope = test ? this.tests.get(test) : this.fileScope
    if (scope && !scope.ended) scope.deadlineIn(ms)
  }

  async testDone(test: TestEntry): Promise<void> {
    const scope = this.tests.get(test)
    if (!scope) return
    this.tests.delete(test)
    // Jest inverts only the test fn's outcome for test.failing: netsan's error, pushed here, stays a failure.
    const note = test.failing ? 'test.failing: a leak is not the failure it expects' : undefined
    const outcome = await this.session?.endTest(scope, { note })
    if (outcome?.error) test.errors.push(forJest(outcome.error, this.root))
    this.warn(outcome)
  }

  /** Skipped and todo tests never run: their scope ends quietly. */
  async testSkipped(test: TestEntry): Promise<void> {
    const scope = this.tests.get(test)
    if (!scope) return
    this.tests.delete(test)
    await this.session?.endTest(scope)
  }

  /** After every afterAll: a file-level leak fails the file (as a suite error), never a test. */
  async runFinish(state: Circus.State): Promise<void> {
    for (const [test, scope] of this.tests) {
      this.tests.delete(test)
      await this.session?.endTest(scope)
    }
    // After the last afterAll: netsan's file check gets one hook timeout, as a hook of the file would.
    this.fileScope?.deadlineIn(state.testTimeout)
    const outcome = await this.session?.endFile(this.fileScope)
    if (outcome?.error) state.unhandledErrors.push(forJest(outcome.error, this.root))
    this.warn(outcome)
  }

  /** Straight to stderr (Jest forwards workers' stderr): the test console would add a frame of netsan's. */
  private warn(outcome: Outcome | undefined): void {
    if (outcome?.warning) process.stderr.write(`\n${outcome.warning}\n\n`)
  }

  async teardown(): Promise<void> {
    const session = this.session
    this.session = undefined
    if (!session) return
    try {
      // A file that failed to load never reaches run_finish: end its scopes without a report.
      for (const scope of this.tests.values()) if (!scope.ended) await scope.finish()
      this.tests.clear()
      if (this.fileScope && !this.fileScope.ended) await this.fileScope.finish()
    } finally {
      this.detach?.()
      session.dispose()
      this.exit?.fileEnded()
    }
  }
}

function isGenerator(fn: Function): boolean {
  return Object.prototype.toString.call(fn) === '[object GeneratorFunction]'
}
