import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { failedTests, type JestRun, runJest } from './run-jest.ts'

// Nothing lost on the way to CI: `netsan report` on the reports of a run counts exactly the tests and
// leaks that Jest printed, in band, in process workers, in worker threads and with several projects.
// The fixture (fixtures/reports): two files of a leaking and a clean test, and a file of retried tests.
const CLI = path.resolve(import.meta.dirname, '../../core/src/cli/main.ts')
const FAILED = ['a leaks a socket', 'b leaks a socket', 'retry leaks on every attempt']
/** Leaks of attempts Jest retried: warnings, as [test, attempt]. */
const RETRIED = [
  ['retry › leaks on every attempt', 1],
  ['retry › leaks on its first attempt only', 1],
]

let tmp: string
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-jest-reports-'))
})
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

interface LeakItem {
  project: string
  testFile: string
  test: string
  attempt?: number
}
interface Summary {
  files: number
  tests: number
  testsWithLeaks: number
  leaks: LeakItem[]
  retried: LeakItem[]
  reports: string[]
  runs: { id: string; shard?: { index: number; count: number } }[]
}

function netsanReport(args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'report', ...args], { encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

function summary(args: string[]): Summary {
  const r = netsanReport([...args, '--format', 'json'])
  assert.equal(r.status, 1, r.stdout + r.stderr)
  return JSON.parse(r.stdout) as Summary
}

/**
 * A run with `report` set to a fresh folder. Each run gets its own cache folder: with the timings of an
 * earlier run, Jest would run this small suite in band whatever `--maxWorkers` says.
 */
async function runWithReports(suite: string, name: string, args: string[]) {
  const dir = path.join(tmp, name)
  const cache = fs.mkdtempSync(path.join(tmp, 'cache-'))
  const options = JSON.stringify({ report: path.join(dir, 'netsan.json') })
  const run = await runJest(
    suite,
    [`--cacheDirectory=${cache}`, ...args],
    { NETSAN_FIXTURE_OPTIONS: options },
    60_000,
    { projects: suite === 'projects' },
  )
  return { run, dir }
}

/** Jest's JSON result joins describe and test names with spaces; netsan with ' › ', as Jest prints them. */
const jestName = (netsanName: string) => netsanName.replaceAll(' › ', ' ')

function testCount(run: JestRun): number {
  return (run.json?.testResults ?? []).reduce((n, f) => n + f.assertionResults.length, 0)
}

function reportHeaders(s: Summary): { pid: number; thread: number; run: string }[] {
  return s.reports.map((file) => JSON.parse(fs.readFileSync(file, 'utf8')))
}

function assertSameCounts(run: JestRun, s: Summary): void {
  assert.equal(run.code, 1, run.output)
  assert.deepEqual(failedTests(run), FAILED, run.output)
  assert.equal(s.files, run.json?.testResults.length)
  assert.equal(s.tests, testCount(run))
  assert.deepEqual(s.leaks.map((l) => jestName(l.test)).sort(), FAILED)
  assert.equal(s.testsWithLeaks, FAILED.length)
  assert.deepEqual(s.retried.map((l) => [l.test, l.attempt]).sort(), RETRIED)
  assert.equal(s.runs.length, 1, JSON.stringify(s.runs))
  // Jest hides the error of an attempt it retried; netsan prints it as a warning.
  for (const [name, attempt] of RETRIED) {
    assert.ok(
      run.output.includes(`netsan: test "${name}" left 1 network resource open on attempt ${attempt}`),
      run.output,
    )
  }
}

describe('netsan report counts what Jest printed', () => {
  test('--runInBand: one process', async () => {
    const { run, dir } = await runWithReports('reports', 'in-band', ['--runInBand'])
    const s = summary([dir])
    assertSameCounts(run, s)
    assert.equal(new Set(reportHeaders(s).map((h) => h.pid)).size, 1)
  })

  test('process workers', async () => {
    const { run, dir } = await runWithReports('reports', 'workers', [])
    const s = summary([dir])
    assertSameCounts(run, s)
    assert.equal(new Set(reportHeaders(s).map((h) => h.pid)).size, 2, 'two worker processes')
  })

  test('--workerThreads: threads share the process', async () => {
    const { run, dir } = await runWithReports('reports', 'threads', ['--workerThreads'])
    const s = summary([dir])
    assertSameCounts(run, s)
    const headers = reportHeaders(s)
    assert.equal(new Set(headers.map((h) => h.pid)).size, 1, 'one process')
    assert.equal(new Set(headers.map((h) => h.thread)).size, 2, 'two worker threads')
  })

  test('two projects whose test files have the same relative path: kept apart', async () => {
    const { run, dir } = await runWithReports('projects', 'projects', [])
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(failedTests(run), ['leaks a socket', 'leaks a socket'])
    const s = summary([dir])
    assert.equal(s.files, 2)
    assert.equal(s.tests, 4)
    assert.deepEqual(s.leaks.map((l) => [l.project, l.testFile, l.test]).sort(), [
      ['one', 'test/leak.test.js', 'leaks a socket'],
      ['two', 'test/leak.test.js', 'leaks a socket'],
    ])
    assert.equal(s.testsWithLeaks, 2)
    const text = netsanReport([dir]).stdout
    assert.match(text, /✖ \[one\] test\/leak\.test\.js › leaks a socket/)
    assert.match(text, /✖ \[two\] test\/leak\.test\.js › leaks a socket/)
  })
})

describe('reports of several runs in one folder', () => {
  let dir: string
  let shards: JestRun[]
  before(async () => {
    const one = await runWithReports('reports', 'shards', ['--shard=1/2'])
    const two = await runWithReports('reports', 'shards', ['--shard=2/2'])
    shards = [one.run, two.run]
    dir = one.dir
  })

  test('--shard=1/2 and --shard=2/2 in one folder: merged, the counts of both shards, shards recorded', () => {
    const s = summary([dir])
    assert.deepEqual(
      s.runs.map((r) => r.shard),
      [
        { index: 1, count: 2 },
        { index: 2, count: 2 },
      ],
    )
    assert.equal(s.tests, testCount(shards[0]!) + testCount(shards[1]!))
    assert.deepEqual(s.leaks.map((l) => jestName(l.test)).sort(), shards.flatMap(failedTests).sort())
  })

  test('a shard run again into the same folder: refused with a clear message; --run latest keeps the newest', async () => {
    const again = await runWithReports('reports', 'shards', ['--shard=1/2'])
    const r = netsanReport([dir])
    assert.equal(r.status, 2, r.stdout + r.stderr)
    assert.match(
      r.stderr,
      /netsan report: the reports come from 3 runs, and 2 of them ran the same test files/,
    )
    assert.match(r.stderr, /shard 1\/2/)
    const s = summary([dir, '--run', 'latest'])
    assert.equal(s.tests, testCount(again.run) + testCount(shards[1]!))
    assert.equal(s.runs.length, 2)
  })
})
