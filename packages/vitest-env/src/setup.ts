/**
 * `setupFiles: ['vitest-environment-netsan/setup']`: optional since the environment registers its
 * hooks itself (collect.ts). It registers the same hooks where the environment could not, a custom
 * runner that does not extend Vitest's, and says what is missing when the environment is not on.
 */
import * as vitest from 'vitest'
import { registerHooks } from './hooks.ts'
import { warnOnce } from './report.ts'
import { readState } from './state.ts'

const state = readState()

if (state?.refused) {
  // A bad option, where the environment could not fail the file itself (a custom runner).
  state.hooksFor = state.refused
  throw state.refused
} else if (!state) {
  await warnOnce(
    'missing-environment',
    `netsan: vitest-environment-netsan/setup is in setupFiles, but the environment is not, so nothing is checked.\n` +
      `Add this line to the test config in vitest.config.ts:\n\n    environment: 'netsan',\n`,
  )
} else if (state.session.active) {
  await registerHooks(state, vitest)
}
