/**
 * Vitest before 4.1 has no `aroundEach`, which netsan's per-test checks need. Such a run fails with one
 * message, before anything else netsan would print: which Vitest is installed, what netsan needs and what
 * to do. (It printed advice to add the setup file, which changes nothing there, then failed each file
 * with "needs aroundEach".) Thrown where Vitest collects each file, identical for every file, Vitest
 * prints it once for all of them; an error of the environment's setup it would print once per file.
 */
import { fileURLToPath } from 'node:url'
import type { Core } from './core.ts'
import type { HookApi } from './hooks.ts'

const { createRequire } = process.getBuiltinModule('node:module')
const path = process.getBuiltinModule('node:path')

/** The peerDependency of vitest-environment-netsan, as package.json says. */
export const VITEST_RANGE = '^4.1.0 || ^5.0.0'

/** The version of the `vitest` this package resolves (the project's), or undefined. */
export function installedVitest(): string | undefined {
  const from = [fileURLToPath(import.meta.url), path.join(process.cwd(), 'package.json')]
  for (const base of from) {
    try {
      const manifest = createRequire(base)('vitest/package.json') as { version?: unknown }
      if (typeof manifest.version === 'string') return manifest.version
    } catch {}
  }
  return undefined
}

/** The one message for a Vitest without `aroundEach`. */
export function tooOldMessage(version: string | undefined): string {
  const installed = version ? `Vitest ${version} is installed` : 'the installed Vitest has no aroundEach'
  return (
    `netsan: vitest-environment-netsan needs Vitest 4.1 or later (peerDependency vitest ${VITEST_RANGE}), ` +
    `but ${installed}: netsan checks each test through Vitest's aroundEach, which 4.1 added, and no setup file or option replaces it. ` +
    `Upgrade Vitest (npm install -D vitest@^4.1), or remove environment: 'netsan' from the config until you can.`
  )
}

/**
 * netsan's error for a Vitest without `aroundEach`, or undefined. Its stack is its message alone: the
 * frames would be netsan's and Vitest's, nothing a user can act on.
 */
export function unsupportedVitest(
  core: Pick<Core, 'NetsanError' | 'ErrorCodes'>,
  vitest: HookApi,
): Error | undefined {
  if (typeof vitest.aroundEach === 'function') return undefined
  const error = new core.NetsanError(core.ErrorCodes.UNSUPPORTED_RUNNER, tooOldMessage(installedVitest()))
  error.stack = `${error.name}: ${error.message}`
  return error
}
