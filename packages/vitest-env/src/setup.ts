/**
 * The per-test half of netsan for Vitest: `setupFiles: ['vitest-environment-netsan/setup']`.
 * An environment cannot register hooks, so this file does. `aroundAll` runs the file's hooks and
 * tests inside the file's scope and checks the file after its last `afterAll`; `aroundEach` runs
 * each test, its `beforeEach` and `afterEach` hooks included, inside the test's scope and fails
 * that test with netsan's report.
 */
import * as vitest from 'vitest'
import { testName } from './names.ts'
import { reportOutcome, warnOnce } from './report.ts'
import { beginFile, endFileScope, readState, syncWithWorker, vitestWorker } from './state.ts'

const state = readState()

if (!state) {
  warnOnce(
    'missing-environment',
    `netsan: vitest-environment-netsan/setup is in setupFiles, but the environment is not, so nothing is checked.\n` +
      `Add this line to the test config in vitest.config.ts:\n\n    environment: 'netsan',\n`,
  )
} else if (typeof vitest.aroundEach !== 'function') {
  throw new Error('netsan: vitest-environment-netsan/setup needs aroundEach, which Vitest has from 4.1 on')
} else if (state.session.active) {
  state.setupFileLoaded = true
  const { session } = state
  const worker = vitestWorker()
  syncWithWorker(state, worker)
  // With `isolate: false` the previous file may still be open if its aroundAll never ran.
  reportOutcome(await beginFile(state, worker?.filepath), session.options.root)
  const fileScope = state.file?.scope

  // The hooks' timeouts cover Vitest's own hook timeout plus netsan's settle wait (0: none).
  const hookTimeout = worker?.config?.hookTimeout ?? 10_000
  const timeout = hookTimeout > 0 && Number.isFinite(hookTimeout) ? hookTimeout + session.options.settleMs : 0
  const endFile = async () => {
    if (!fileScope || state.file?.scope !== fileScope) return
    reportOutcome(await endFileScope(state), session.options.root)
  }
  // aroundAll wraps every beforeAll/afterAll of the file, whatever `sequence.hooks` says.
  if (typeof vitest.aroundAll === 'function') {
    vitest.aroundAll(async (runSuite) => {
      await session.runIn(fileScope, runSuite)
      await endFile()
    }, timeout)
  } else {
    // Registered first, so it runs last under the default sequence.hooks 'stack'.
    vitest.afterAll(endFile, timeout)
  }

  vitest.aroundEach(async (runTest, context) => {
    const scope = session.startTest(fileScope, testName(context.task))
    try {
      await session.runIn(scope, runTest)
    } finally {
      reportOutcome(await session.endTest(scope), session.options.root)
    }
  }, timeout)
}
