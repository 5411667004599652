import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment'
import { type NetsanOptions, resolveOptions } from 'netsan'

/** `testEnvironmentOptions.netsan`, with the project's `rootDir` as `root` unless the user set one. */
export function rawOptions(config: JestEnvironmentConfig): unknown {
  const raw = (config.projectConfig.testEnvironmentOptions as Record<string, unknown> | undefined)?.netsan
  if (raw === undefined || raw === null) return { root: config.projectConfig.rootDir }
  if (typeof raw !== 'object' || Array.isArray(raw)) return raw
  const given = raw as NetsanOptions
  return given.root === undefined ? { ...given, root: config.projectConfig.rootDir } : given
}

/** Validates at construction, so a bad key or value fails the run before any test runs. */
export function validOptions(config: JestEnvironmentConfig) {
  return resolveOptions(rawOptions(config))
}

/** The test file's path as the report names it: relative to the project root. */
export function fileName(root: string, context: EnvironmentContext): string {
  const file = context.testPath
  return file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file
}
