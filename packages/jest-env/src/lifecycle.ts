import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment'
import type { Circus } from '@jest/types'
import { createSession, type Outcome, resolveOptions, type Scope, type Session } from 'netsan'
import { jestColors } from './colors.ts'
import { exitDiagnosis } from './exit.ts'
import { forJest } from './jest-error.ts'
import { fileName, jestMainPid, projectName, rawOptions } from './options.ts'
import { attachSandbox } from './sandbox.ts'
import { sourceLineReader } from './source.ts'

type TestEntry = Circus.TestEntry
type DescribeBlock = Circus.DescribeBlock

/** `describe names › test name`, the way Jest's own reporters name a test (or a describe block). */
export function testName(test: TestEntry | DescribeBlock): string {
  const names: string[] = []
  for (let node: DescribeBlock | TestEntry | undefined = test; node; node = node.parent) {
    if (node.type === 'describeBlock' && node.name === 'ROOT_DESCRIBE_BLOCK' && !node.parent) break
    names.unshift(node.name)
  }
  return names.join(' › ')
}

/** A block with its own beforeAll/afterAll is a scope; other blocks are not (no change for them). */
function isScopeBlock(block: DescribeBlock): boolean {
  return (
    block.parent !== undefined && block.hooks.some((h) => h.type === 'beforeAll' || h.type === 'afterAll')
  )
}

/** `block` or a block around it is one Jest may run again as a whole (Jest 30's describe retries). */
function retriedAsWhole(block: DescribeBlock, state: Circus.State): boolean {
  // Jest 29 has no describe retries (and no such map).
  const options = state.describeRetryOptions as Circus.State['describeRetryOptions'] | undefined
  if (!options) return false
  for (let b: DescribeBlock | undefined = block; b; b = b.parent) if (options.has(b)) return true
  return false
}

/** `block` is `outer` or a block inside it. */
function within(block: DescribeBlock, outer: DescribeBlock): boolean {
  for (let b: DescribeBlock | undefined = block; b; b = b.parent) if (b === outer) return true
  return false
}

/**
 * Maps Jest's circus events onto netsan scopes: a file scope from setup to `run_finish` (after every
 * afterAll); a describe block with hooks of its own from `run_describe_start` to `run_describe_finish`
 * (after its afterAll); a test scope from `test_start` (before beforeEach) to `test_done` (after
 * afterEach). Test functions and hooks run in their scope's async context (AsyncLocalStorage), so work
 * they leave running stays theirs, whichever test runs when it continues.
 */
export class JestLifecycle {
  session: Session | undefined
  private readonly config: JestEnvironmentConfig
  private readonly context: EnvironmentContext
  private fileScope: Scope | undefined
  private readonly tests = new Map<TestEntry, Scope>()
  private readonly blocks = new Map<DescribeBlock, Scope>()
  /** Circus's state, the same object in every event: which test runs when a hook is called. */
  private state: Circus.State | undefined
  private readonly wrappedHooks = new WeakSet<Circus.Hook>()
  /** The last ended attempt of each test, for when Jest retries it (`jest.retryTimes`, describe retries). */
  private readonly attempts = new WeakMap<TestEntry, Scope>()
  /**
   * What the file's and blocks' beforeAll/afterAll hooks threw: Jest reports each (a beforeAll's on every
   * test under it, an afterAll's as the file's), so a check among them is not reported again at the end.
   */
  private readonly hookErrors: unknown[] = []
  /** How many times each block started: Jest runs a block again as a whole on a describe retry. */
  private readonly blockAttempts = new WeakMap<DescribeBlock, number>()
  /**
   * Outcomes of blocks that ended inside a block Jest may run again (`retryTimes(n, { entireDescribe:
   * true })`): held back until Jest retries it (a warning then) or the file ends (reported then). A
   * netsan error among Jest's unhandled errors during the attempt would stop Jest from retrying it.
   */
  private readonly heldBlocks: {
    block: DescribeBlock
    scope: Scope
    outcome: Outcome | undefined
    attempt: number
  }[] = []
  private detach: (() => void) | undefined
  private exit: ReturnType<typeof exitDiagnosis> | undefined

  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    this.config = config
    this.context = context
  }

  setup(sandbox: typeof globalThis): void {
    const raw = rawOptions(this.config)
    const { root } = resolveOptions(raw)
    const { globalConfig, projectConfig } = this.config
    const session = createSession(raw, {
      runner: 'jest',
      sourceLine: sourceLineReader(root),
      colors: jestColors(),
      shapeError: (error) => forJest(error, root),
      mainPid: jestMainPid(),
      shard: globalConfig.shard && {
        index: globalConfig.shard.shardIndex,
        count: globalConfig.shard.shardCount,
      },
      project: projectName(globalConfig, projectConfig),
    })
    this.session = session
    // Off, it only tells the sandbox so: the helpers a test calls there then do nothing.
    this.detach = attachSandbox(session, sandbox)
    if (!session.engine) return
    this.exit = exitDiagnosis(this.config, session)
    this.exit.fileStarted()
    this.fileScope = session.startFile(fileName(session.options.root, this.context))
  }

  /** The scope of a test, created on first need: at `test_start`, or when Jest calls its fn early. */
  private scopeFor(test: TestEntry): Scope | undefined {
    const session = this.session
    if (!session?.active || !this.fileScope || this.fileScope.ended) return undefined
    let scope = this.tests.get(test)
    if (!scope || scope.ended) {
      scope = session.startTest(this.scopeAround(test.parent), testName(test))
      if (scope) this.tests.set(test, scope)
    }
    return scope
  }

  /** The innermost block around `block` (itself included) that is a scope now, else the file. */
  private scopeAround(block: DescribeBlock | undefined): Scope | undefined {
    for (let b = block; b; b = b.parent) {
      const scope = this.blocks.get(b)
      if (scope && !scope.ended) return scope
    }
    return this.fileScope
  }

  /** Where a hook's code runs: a test's scope for beforeEach/afterEach, its block's (or file's) for *All. */
  private scopeOfHook(hook: Circus.Hook): Scope | undefined {
    if (hook.type === 'beforeAll' || hook.type === 'afterAll') return this.scopeAround(hook.parent)
    const test = this.state?.currentlyRunningTest
    return test ? this.tests.get(test) : undefined
  }

  /** A block with hooks of its own starts (before its beforeAll). */
  describeStart(block: DescribeBlock, state: Circus.State): void {
    this.state = state
    const session = this.session
    if (!session?.active || block.mode === 'skip' || !isScopeBlock(block)) return
    const scope = session.startDescribe(this.scopeAround(block.parent), testName(block))
    if (scope) this.blocks.set(block, scope)
    this.blockAttempts.set(block, (this.blockAttempts.get(block) ?? 0) + 1)
  }

  /**
   * After the block's last afterAll: its leaks fail the file (a suite error, as Jest treats a failing
   * afterAll), naming the block, before an outer afterAll closes what would show them.
   */
  async describeFinish(block: DescribeBlock, state: Circus.State): Promise<void> {
    const scope = this.blocks.get(block)
    if (!scope) return
    this.blocks.delete(block)
    // netsan's check is the block's last hook: it settles within one hook timeout, as the user's would.
    scope.deadlineIn(state.testTimeout)
    const outcome = await this.session?.endDescribe(scope, { failures: this.hookErrors })
    if (retriedAsWhole(block, state)) {
      this.heldBlocks.push({ block, scope, outcome, attempt: this.blockAttempts.get(block) ?? 1 })
      return
    }
    if (outcome?.error) state.unhandledErrors.push(outcome.error)
    this.warn(outcome)
  }

  /** Jest runs `block` again as a whole: the held outcomes of it and of the blocks in it become warnings. */
  describeRetry(block: DescribeBlock): void {
    const retried = this.heldBlocks.filter((h) => within(h.block, block))
    this.heldBlocks.splice(0, this.heldBlocks.length, ...this.heldBlocks.filter((h) => !retried.includes(h)))
    for (const { scope, outcome, attempt } of retried) {
      const warning = this.session?.retryDescribe(scope, attempt)
      this.warn(warning ? { ...outcome!, error: undefined, warning } : outcome)
    }
  }

  /** The held outcomes Jest did not retry: reported as any block's, before the file's own. */
  private releaseHeldBlocks(state: Circus.State): void {
    for (const { outcome } of this.heldBlocks.splice(0)) {
      if (outcome?.error) state.unhandledErrors.push(outcome.error)
      this.warn(outcome)
    }
  }

  /**
   * Synchronous definition event: runs the hook inside its scope's async context (see `scopeOfHook`),
   * so that what its leftover work creates later is never taken for the test running then.
   */
  addHook(state: Circus.State): void {
    this.state = state
    if (!this.session?.active) return
    const hook = state.currentDescribeBlock.hooks.at(-1)
    // Circus adds no hook defined inside a test (it fails the test): the last one is then wrapped already.
    if (!hook || typeof hook.fn !== 'function' || this.wrappedHooks.has(hook)) return
    this.wrappedHooks.add(hook)
    hook.fn = this.inScope(hook.fn, () => this.scopeOfHook(hook))
  }

  /**
   * Synchronous definition event: runs the test fn inside its own scope's async context, so that
   * with `test.concurrent` each test owns what its own code creates, whatever the clock says.
   */
  addTest(state: Circus.State): void {
    this.state = state
    if (!this.session?.active) return
    const children = state.currentDescribeBlock.children
    const test = children[children.length - 1]
    if (!test || test.type !== 'test' || typeof test.fn !== 'function') return
    test.fn = this.inScope(test.fn, () => this.scopeFor(test))
  }

  /** `fn`, called inside the scope `scope()` names at call time (as is, for generator functions). */
  private inScope<F extends Circus.TestFn | Circus.HookFn>(fn: F, scope: () => Scope | undefined): F {
    const original = fn as unknown as (...args: unknown[]) => unknown
    if (isGenerator(original)) return fn
    const lifecycle = this
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const owner = scope()
      const call = () => original.apply(this, args)
      return owner && lifecycle.session ? lifecycle.session.runIn(owner, call) : call()
    }
    // Jest tells a done-callback test or hook by the fn's arity.
    Object.defineProperty(wrapped, 'length', { value: original.length })
    Object.defineProperty(wrapped, 'name', { value: original.name })
    return wrapped as unknown as F
  }

  testStart(test: TestEntry): void {
    // Jest counts a test's runs before this handler: a second run means it retries the last one.
    const previous = test.invocations > 1 ? this.attempts.get(test) : undefined
    if (previous) {
      this.attempts.delete(test)
      // Jest hides the errors of an attempt it retried: netsan's leaks there are a warning.
      const warning = this.session?.retryTest(previous)
      if (warning) process.stderr.write(`\n${warning}\n\n`)
    }
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

  /** A hook starts: its timeout bounds netsan's settle for its scope (a test, a block or the file). */
  hookStarts(hook: Circus.Hook, state: Circus.State): void {
    this.state = state
    const ms = hook.timeout || state.testTimeout
    const scope = this.scopeOfHook(hook)
    if (scope && !scope.ended) scope.deadlineIn(ms)
  }

  hookFailed(hook: Circus.Hook, error: unknown): void {
    if (hook.type === 'beforeAll' || hook.type === 'afterAll') this.hookErrors.push(error)
  }

  async testDone(test: TestEntry): Promise<void> {
    const scope = this.tests.get(test)
    if (!scope) return
    this.tests.delete(test)
    this.attempts.set(test, scope)
    // Jest inverts only the test fn's outcome for test.failing: netsan's error, pushed here, stays a failure.
    const note = test.failing ? 'test.failing: a leak is not the failure it expects' : undefined
    // What Jest reports for this test: a LeakError the test threw is among them (not for test.failing,
    // whose failure Jest turns into a pass).
    const failures = test.failing ? undefined : test.errors
    const outcome = await this.session?.endTest(scope, { attempt: test.invocations, note, failures })
    if (outcome?.error) test.errors.push(outcome.error)
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
    this.releaseHeldBlocks(state)
    for (const [test, scope] of this.tests) {
      this.tests.delete(test)
      await this.session?.endTest(scope)
    }
    for (const [block, scope] of [...this.blocks].reverse()) {
      this.blocks.delete(block)
      await this.session?.endDescribe(scope)
    }
    // After the last afterAll: netsan's file check gets one hook timeout, as a hook of the file would.
    this.fileScope?.deadlineIn(state.testTimeout)
    const outcome = await this.session?.endFile(this.fileScope, { failures: this.hookErrors })
    if (outcome?.error) state.unhandledErrors.push(outcome.error)
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
      for (const scope of [...this.blocks.values()].reverse()) if (!scope.ended) await scope.finish()
      this.blocks.clear()
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
