import type { EnvironmentContext, JestEnvironment, JestEnvironmentConfig } from '@jest/environment'
import type { Circus } from '@jest/types'
import type { EnvironmentClass } from './base.ts'
import { JestLifecycle } from './lifecycle.ts'
import { refusal, validOptions } from './options.ts'

type Handler = (event: Circus.Event, state: Circus.State) => void | Promise<void>

export interface NetsanEnvironment extends JestEnvironment {
  readonly netsan: JestLifecycle
  handleTestEvent: Handler
}

export type NetsanEnvironmentClass = new (
  config: JestEnvironmentConfig,
  context: EnvironmentContext,
) => NetsanEnvironment

async function afterBase(lifecycle: JestLifecycle, event: Circus.Event, state: Circus.State, base: unknown) {
  await base
  switch (event.name) {
    case 'test_start':
      lifecycle.testStart(event.test)
      break
    case 'test_fn_start':
      lifecycle.timeoutStarts(event.test.timeout || state.testTimeout, event.test)
      break
    case 'hook_start':
      lifecycle.hookStarts(event.hook, state)
      break
    case 'hook_failure':
      lifecycle.hookFailed(event.hook, event.error)
      break
    case 'run_describe_start':
      lifecycle.describeStart(event.describeBlock, state)
      break
    case 'run_describe_finish':
      await lifecycle.describeFinish(event.describeBlock, state)
      break
    // Jest 30 runs a block again as a whole (`retryTimes(n, { entireDescribe: true })`).
    case 'describe_retry':
      lifecycle.describeRetry(event.describeBlock)
      break
    case 'test_done':
      await lifecycle.testDone(event.test)
      break
    case 'test_skip':
    case 'test_todo':
      await lifecycle.testSkipped(event.test)
      break
    case 'run_finish':
      await lifecycle.runFinish(state)
      break
  }
}

/** Adds netsan to any Jest environment class; every lifecycle method calls the base's first. */
export function withNetsan(Base: EnvironmentClass): NetsanEnvironmentClass {
  return class extends Base {
    readonly netsan: JestLifecycle
    declare handleTestEvent: Handler

    constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
      validOptions(config)
      super(config, context)
      const lifecycle = new JestLifecycle(config, context)
      this.netsan = lifecycle
      const inherited = (this as { handleTestEvent?: Handler }).handleTestEvent
      // Definition events (add_test, add_hook, …) are dispatched synchronously and not awaited.
      this.handleTestEvent = function (this: unknown, event, state) {
        const base = inherited?.call(this, event, state)
        if (event.name === 'add_test') {
          lifecycle.addTest(state)
          return base
        }
        if (event.name === 'add_hook') {
          lifecycle.addHook(state)
          return base
        }
        return afterBase(lifecycle, event, state, base)
      }
    }

    override async setup(): Promise<void> {
      await super.setup()
      try {
        this.netsan.setup(this.global as unknown as typeof globalThis)
      } catch (error) {
        // A baseline that cannot be read is a bad option too.
        throw refusal(error)
      }
    }

    override async teardown(): Promise<void> {
      try {
        await this.netsan.teardown()
      } finally {
        await super.teardown()
      }
    }
  }
}
