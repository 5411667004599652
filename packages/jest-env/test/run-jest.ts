import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'

const here = path.dirname(new URL(import.meta.url).pathname)
export const FIXTURES = path.join(here, '..', 'fixtures')
const JEST = path.join(
  path.dirname(createRequire(import.meta.url).resolve('jest/package.json')),
  'bin',
  'jest.js',
)

export interface AssertionResult {
  fullName: string
  status: string
  failureMessages: string[]
}
export interface FileResult {
  name: string
  status: string
  message: string
  assertionResults: AssertionResult[]
}
export interface JestRun {
  code: number | null
  output: string
  ms: number
  json: { numFailedTests: number; numPassedTests: number; testResults: FileResult[] } | undefined
}

/**
 * Runs real Jest on one fixture suite (one process, `--json` into a temp file) and kills the process
 * group it started if it outlives `timeoutMs`. Output (stdout and stderr into one file, in the order they
 * were written) is returned as printed: without colours unless `env` lets them through (`NO_COLOR:
 * undefined` removes the variable). `--maxWorkers=2` unless `args` runs in band; `--rootDir` unless the
 * suite has `projects` (on the command line it would override each project's own root).
 */
export async function runJest(
  suite: string,
  args: string[] = [],
  env: Record<string, string | undefined> = {},
  timeoutMs = 60_000,
  { projects = false }: { projects?: boolean } = {},
): Promise<JestRun> {
  const rootDir = path.join(FIXTURES, suite)
  const outFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-jest-')), 'result.json')
  const logFile = path.join(path.dirname(outFile), 'output.txt')
  const log = fs.openSync(logFile, 'w')
  const started = Date.now()
  const childEnv: Record<string, string | undefined> = { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }
  delete childEnv.NETSAN
  Object.assign(childEnv, env)
  for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key]
  const child = spawn(
    process.execPath,
    [
      JEST,
      '--ci',
      ...(projects ? [] : ['--rootDir', rootDir]),
      ...(args.includes('--runInBand') ? [] : ['--maxWorkers=2']),
      '--json',
      `--outputFile=${outFile}`,
      ...args,
    ],
    { cwd: rootDir, env: childEnv, detached: true, stdio: ['ignore', log, log] },
  )
  const timer = setTimeout(() => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL')
    } catch {}
  }, timeoutMs)
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
  clearTimeout(timer)
  fs.closeSync(log)
  const output = fs.readFileSync(logFile, 'utf8')
  let json: JestRun['json']
  try {
    json = JSON.parse(fs.readFileSync(outFile, 'utf8'))
  } catch {}
  fs.rmSync(path.dirname(outFile), { recursive: true, force: true })
  return { code, output, ms: Date.now() - started, json }
}

/** The 1-based line of `marker` in a fixture file: where the report must say the resource was created. */
export function lineOf(suite: string, file: string, marker: string): number {
  const lines = fs.readFileSync(path.join(FIXTURES, suite, file), 'utf8').split('\n')
  const i = lines.findIndex((l) => l.includes(marker))
  if (i === -1) throw new Error(`marker ${marker} not in ${file}`)
  return i + 1
}

export function fileResult(run: JestRun, file: string): FileResult {
  const found = run.json?.testResults.find((f) => path.basename(f.name) === file)
  if (!found) throw new Error(`no result for ${file}; output:\n${run.output}`)
  return found
}

export function testResult(run: JestRun, file: string, name: string): AssertionResult {
  const found = fileResult(run, file).assertionResults.find((a) => a.fullName === name)
  if (!found) throw new Error(`no result for ${file} › ${name}`)
  return found
}

export function failedTests(run: JestRun): string[] {
  return (run.json?.testResults ?? [])
    .flatMap((f) => f.assertionResults.filter((a) => a.status === 'failed').map((a) => a.fullName))
    .sort()
}

/** The report prints a frame at `file:line` (and no more digits: line 7 is not line 70). */
export function framed(text: string, where: string): boolean {
  return new RegExp(`${where.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\d)`).test(text)
}
