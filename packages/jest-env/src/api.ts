/**
 * `jest-environment-netsan/api`: netsan's test helpers for Jest test files.
 *
 * Jest runs CommonJS tests in a vm sandbox whose `require` cannot load the ESM-only `netsan` package
 * unless Jest runs with --experimental-vm-modules. The environment publishes the helpers of its own
 * netsan copy on the sandbox global; this CommonJS module forwards to them. It imports nothing at
 * runtime, so it loads in any sandbox.
 */
import type * as Netsan from 'netsan'

/** Set by the environment on the sandbox global (see sandbox.ts). */
export const API_KEY = Symbol.for('jest-environment-netsan.api.v1')

export interface SandboxApi {
  expectNoLeakedConnections: typeof Netsan.expectNoLeakedConnections
  allowLeaks: typeof Netsan.allowLeaks
  isLeakError: typeof Netsan.isLeakError
}

function api(what: string): SandboxApi {
  const found = (globalThis as unknown as Record<symbol, SandboxApi | undefined>)[API_KEY]
  if (!found) {
    throw new Error(
      `netsan: ${what} needs the netsan environment: set testEnvironment: 'netsan' in the Jest config`,
    )
  }
  return found
}

/** Settles, then throws a `LeakError` if the current test has open network resources. */
export async function expectNoLeakedConnections(
  options?: Parameters<typeof Netsan.expectNoLeakedConnections>[0],
): Promise<void> {
  await api('expectNoLeakedConnections()').expectNoLeakedConnections(options)
}

/** Lets the current test keep resources of `kind` open; the reason is required and printed. */
export function allowLeaks(kind: Netsan.LeakKind, reason: string): void {
  api('allowLeaks()').allowLeaks(kind, reason)
}

export function isLeakError(value: unknown): value is Netsan.LeakError {
  return api('isLeakError()').isLeakError(value)
}
