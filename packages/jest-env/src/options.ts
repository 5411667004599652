import path from 'node:path'
import { isMainThread } from 'node:worker_threads'
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment'
import {
  ErrorCodes,
  firstInRun,
  keyOf,
  NetsanError,
  type NetsanOptions,
  resolveOptions,
  runIdFor,
} from 'netsan'

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
  try {
    return resolveOptions(rawOptions(config))
  } catch (error) {
    throw refusal(error)
  }
}

/**
 * A bad option fails every test file, in every worker; Jest would print netsan's error (with netsan's
 * frames and a code frame of netsan's bundle) once per file. The first worker of the run prints the
 * error itself, once, before Jest prints any file's result; each file then fails with a line saying so.
 */
export function refusal(error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code
  if (code !== ErrorCodes.INVALID_OPTION && code !== ErrorCodes.UNKNOWN_OPTION) return error
  const { message } = error as Error
  if (firstInRun(runIdFor(jestMainPid()), `jest-refused-${keyOf(message)}`)) {
    process.stderr.write(`\n${message}\n\n`)
  }
  const short = new NetsanError(
    code,
    'netsan: the options in testEnvironmentOptions.netsan are invalid (the error is printed once, above); no test in this file ran',
  )
  short.stack = `${short.name}: ${short.message}`
  return short
}

/** The test file's path as the report names it: relative to the project root. */
export function fileName(root: string, context: EnvironmentContext): string {
  const file = context.testPath
  return file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file
}

/**
 * The Jest process that runs this invocation, whose every worker writes the same run id: the parent of
 * a process worker (jest-worker forks `processChild.js`), the process of a worker thread, or this one
 * when Jest runs in band.
 */
export function jestMainPid(): number {
  if (!isMainThread) return process.pid
  const forked =
    typeof process.send === 'function' &&
    /[\\/]jest-worker[\\/].*processChild\.js$/.test(process.argv[1] ?? '')
  return forked ? process.ppid : process.pid
}

/**
 * The project, when the run has several (`projects`): its `displayName`, else its root relative to the
 * run's. Two projects may hold test files with the same relative path, or run the same files.
 */
export function projectName(
  globalConfig: JestEnvironmentConfig['globalConfig'],
  projectConfig: JestEnvironmentConfig['projectConfig'],
): string {
  if (globalConfig.projects.length < 2) return ''
  const display = projectConfig.displayName
  const name = typeof display === 'string' ? display : display?.name
  if (name) return name
  return path.relative(globalConfig.rootDir, projectConfig.rootDir).replaceAll('\\', '/')
}
