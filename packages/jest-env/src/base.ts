import { createRequire } from 'node:module'
import path from 'node:path'
import type { EnvironmentContext, JestEnvironment, JestEnvironmentConfig } from '@jest/environment'
import { ErrorCodes, NetsanError } from 'netsan'

export type EnvironmentClass = new (
  config: JestEnvironmentConfig,
  context: EnvironmentContext,
) => JestEnvironment

const NAMED: Record<string, string> = { node: 'jest-environment-node', jsdom: 'jest-environment-jsdom' }

/** Option `base`: 'node', 'jsdom' or a module path, resolved from the project's root like Jest does. */
export function loadBase(base: string, rootDir: string): EnvironmentClass {
  const request = NAMED[base] ?? base
  const from = createRequire(path.join(rootDir, 'package.json'))
  let mod: any
  try {
    mod = from(from.resolve(request.startsWith('.') ? path.resolve(rootDir, request) : request))
  } catch (error) {
    throw new NetsanError(
      ErrorCodes.INVALID_OPTION,
      `netsan: invalid value for option "base": received ${JSON.stringify(base)}; could not load ${request} from ${rootDir} (${(error as Error).message.split('\n')[0]}). Allowed: 'node', 'jsdom' (install jest-environment-jsdom) or a module path`,
    )
  }
  const cls = mod?.TestEnvironment ?? mod?.default?.TestEnvironment ?? mod?.default ?? mod
  if (typeof cls !== 'function') {
    throw new NetsanError(
      ErrorCodes.INVALID_OPTION,
      `netsan: invalid value for option "base": ${request} exports no environment class (default or TestEnvironment)`,
    )
  }
  return cls as EnvironmentClass
}
