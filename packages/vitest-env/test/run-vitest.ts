import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const here = import.meta.dirname
export const packageDir = path.resolve(here, '..')
const repo = path.resolve(packageDir, '../..')
const vitestBin = path.join(repo, 'node_modules/vitest/vitest.mjs')

export interface AssertionResult {
  fullName: string
  title: string
  status: 'passed' | 'failed' | 'skipped' | 'pending' | 'todo'
  failureMessages: string[]
}
export interface FileResult {
  name: string
  status: 'passed' | 'failed'
  message: string
  assertionResults: AssertionResult[]
}
export interface VitestRun {
  code: number | null
  output: string
  ms: number
  files: Map<string, FileResult>
  tests: Map<string, AssertionResult & { file: string }>
  failed: string[]
}

/**
 * Runs real Vitest on a fixture suite: one process, JSON results written to a temp file, the
 * default reporter's output captured (stdout and stderr into one file, in the order they were written).
 * Killed by its PID (and only it) if it outlives `timeoutMs`. An `env` value `undefined` removes the variable
 * (`NO_COLOR: undefined` to let colours through).
 */
export async function runVitest(
  suite: string,
  options: { env?: Record<string, string | undefined>; args?: string[]; timeoutMs?: number } = {},
): Promise<VitestRun> {
  const root = path.join(packageDir, 'fixtures', suite)
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-vitest-e2e-'))
  const outputFile = path.join(tmp, 'results.json')
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }
  for (const key of Object.keys(env))
    if (key.startsWith('NETSAN') || key.startsWith('VITEST')) delete env[key]
  Object.assign(env, options.env)
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key]
  const log = fs.openSync(path.join(tmp, 'output.txt'), 'w')
  const started = performance.now()
  const child = spawn(
    process.execPath,
    [
      vitestBin,
      'run',
      '--root',
      root,
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${outputFile}`,
      ...(options.args ?? []),
    ],
    { cwd: repo, env, stdio: ['ignore', log, log] },
  )
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
  }, options.timeoutMs ?? 120_000)
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)))
  clearTimeout(timer)
  fs.closeSync(log)
  const output = fs.readFileSync(path.join(tmp, 'output.txt'), 'utf8')
  const ms = performance.now() - started
  const files = new Map<string, FileResult>()
  const tests = new Map<string, AssertionResult & { file: string }>()
  if (fs.existsSync(outputFile)) {
    const json = JSON.parse(fs.readFileSync(outputFile, 'utf8')) as { testResults: FileResult[] }
    for (const file of json.testResults) {
      const name = path.relative(root, file.name)
      files.set(name, file)
      for (const t of file.assertionResults) tests.set(t.fullName, { ...t, file: name })
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true })
  const failed = [...tests.values()].filter((t) => t.status === 'failed').map((t) => t.fullName)
  return { code, output, ms, files, tests, failed: failed.sort() }
}

/** `file:line` of the line holding `marker` in a fixture file. */
export function lineOf(suite: string, file: string, marker: string): string {
  const lines = fs.readFileSync(path.join(packageDir, 'fixtures', suite, file), 'utf8').split('\n')
  const i = lines.findIndex((l) => l.includes(marker))
  if (i === -1) throw new Error(`marker ${marker} not found in ${file}`)
  return `${file}:${i + 1}`
}

/** The report prints a frame at `file:line` (and no more digits: line 7 is not line 70). */
export function framed(text: string, where: string): boolean {
  return new RegExp(`${where.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\d)`).test(text)
}
