import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { packageDir, runVitest, type VitestRun } from './run-vitest.ts'

// Nothing lost on the way to CI: `netsan report` on the reports of a run counts exactly the tests and
// leaks that Vitest printed, whatever the pool and however many files share a worker. The fixture
// (fixtures/reports): two files of a leaking and a clean test, a file of retried tests, and the
// project's own setup file.
const CLI = path.resolve(packageDir, '../core/src/cli/main.ts')
const FAILED = ['a leaks a socket', 'b leaks a socket', 'retry leaks on every attempt']
/** Leaks of attempts Vitest retried: warnings, as [test, attempt]. */
const RETRIED = [
  ['retry > leaks on every attempt', 1],
  ['retry > leaks on its first attempt only', 1],
]

let tmp: string
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-vitest-reports-'))
})
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

interface LeakItem {
  testFile: string
  test: string
  attempt?: number
}
interface Summary {
  ok: boolean
  files: number
  tests: number
  testsWithLeaks: number
  leaks: LeakItem[]
  retried: LeakItem[]
  runs: { id: string }[]
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

/** A run of the fixture with `report` set to a fresh folder; returns the run and the folder. */
async function runWithReports(name: string, env: Record<string, string>, args: string[] = []) {
  const dir = path.join(tmp, name)
  const report = path.join(dir, 'netsan.json')
  const run = await runVitest('reports', {
    env: { NETSAN_FIXTURE_OPTIONS: JSON.stringify({ report }), ...env },
    args,
  })
  return { run, dir }
}

/** Vitest's JSON reporter joins describe and test names with spaces; netsan with ' > '. */
const vitestName = (netsanName: string) => netsanName.replaceAll(' > ', ' ')

/** What the runner printed and what `netsan report` counts are the same. */
function assertSameCounts(run: VitestRun, s: Summary): void {
  assert.equal(run.code, 1, run.output)
  assert.deepEqual(run.failed, FAILED, run.output)
  assert.equal(s.files, run.files.size, JSON.stringify(s))
  assert.equal(s.tests, run.tests.size, JSON.stringify(s))
  assert.deepEqual(s.leaks.map((l) => vitestName(l.test)).sort(), run.failed)
  assert.equal(s.testsWithLeaks, run.failed.length)
  assert.deepEqual(s.retried.map((l) => [l.test, l.attempt]).sort(), RETRIED)
  assert.equal(s.runs.length, 1, JSON.stringify(s.runs))
  // Vitest hides the error of an attempt it retried; netsan prints it as a warning.
  for (const [name, attempt] of RETRIED) {
    assert.ok(
      run.output.includes(`netsan: test "${name}" left 1 network resource open on attempt ${attempt}`),
      run.output,
    )
  }
}

describe('netsan report counts what Vitest printed', () => {
  const modes: [string, Record<string, string>, string[]][] = [
    ['pool forks (the project has its own setup file)', {}, []],
    ['pool threads', { NETSAN_FIXTURE_POOL: 'threads' }, []],
    [
      'pool vmThreads with the setup file',
      { NETSAN_FIXTURE_POOL: 'vmThreads', NETSAN_FIXTURE_SETUP: '1' },
      [],
    ],
    [
      'isolate: false, every file in one worker',
      { NETSAN_FIXTURE_POOL: 'threads', NETSAN_FIXTURE_ISOLATE: '0' },
      ['--maxWorkers=1'],
    ],
  ]
  for (const [name, env, args] of modes) {
    test(name, async () => {
      const { run, dir } = await runWithReports(name.replace(/\W+/g, '-'), env, args)
      assertSameCounts(run, summary([dir]))
    })
  }
})

describe('reports of several runs in one folder', () => {
  let dir: string
  let shards: VitestRun[]
  before(async () => {
    const one = await runWithReports('shards', {}, ['--shard=1/2'])
    const two = await runWithReports('shards', {}, ['--shard=2/2'])
    shards = [one.run, two.run]
    dir = one.dir
  })

  test('--shard=1/2 and --shard=2/2 in one folder: merged, the counts of both shards', () => {
    const s = summary([dir])
    assert.equal(s.runs.length, 2)
    assert.equal(
      s.tests,
      shards.reduce((n, run) => n + run.tests.size, 0),
    )
    assert.deepEqual(
      s.leaks.map((l) => vitestName(l.test)).sort(),
      shards.flatMap((run) => run.failed).sort(),
    )
  })

  test('a shard run again into the same folder: refused with a clear message; --run latest keeps the newest', async () => {
    const again = await runWithReports('shards', {}, ['--shard=1/2'])
    const r = netsanReport([dir])
    assert.equal(r.status, 2, r.stdout + r.stderr)
    assert.match(
      r.stderr,
      /netsan report: the reports come from 3 runs, and 2 of them ran the same test files/,
    )
    assert.match(r.stderr, /--run latest/)
    const s = summary([dir, '--run', 'latest'])
    assert.equal(s.tests, again.run.tests.size + shards[1]!.tests.size)
    assert.equal(s.runs.length, 2)
  })
})
