/**
 * jest-environment-netsan: `testEnvironment: 'netsan'` fails the Jest test that leaves network
 * resources open. Options: `testEnvironmentOptions: { netsan: { … } }`.
 *
 * The module is the environment class itself (`module.exports = TestEnvironment`), which is what Jest
 * constructs, and what `import TestEnvironment from 'jest-environment-netsan'` gives in ESM. An
 * `__esModule` marker with a `default` export would break that default import in ESM and bundlers.
 */
import { defineNetsanOptions, type NetsanOptions as Options } from 'netsan'
import type {
  NetsanEnvironment as Environment,
  NetsanEnvironmentClass as EnvironmentClass,
} from './environment.ts'
import { TestEnvironment as NetsanTestEnvironment, withNetsan } from './test-environment.ts'

// biome-ignore lint/correctness/noUnusedVariables: the `export =` below exports it
const TestEnvironment = Object.assign(NetsanTestEnvironment, {
  /** The same class, for `require('jest-environment-netsan').TestEnvironment` (as jest-environment-node). */
  TestEnvironment: NetsanTestEnvironment,
  /** Adds netsan to another Jest environment class. */
  withNetsan,
  /** Returns its argument, typed: `testEnvironmentOptions: { netsan: defineNetsanOptions({ … }) }`. */
  defineNetsanOptions,
})

declare namespace TestEnvironment {
  export type NetsanEnvironment = Environment
  export type NetsanEnvironmentClass = EnvironmentClass
  export type NetsanOptions = Options
}

export = TestEnvironment

// For Node's `import { withNetsan } from 'jest-environment-netsan'`, which finds a CommonJS module's
// names by reading its source (cjs-module-lexer) and sees only literal `module.exports.name =`. tsc
// emits `module.exports = TestEnvironment` after these, and Object.assign above set the same values.
module.exports.TestEnvironment = NetsanTestEnvironment
module.exports.withNetsan = withNetsan
module.exports.defineNetsanOptions = defineNetsanOptions
