import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { failedTests, fileResult, framed, type JestRun, lineOf, runJest } from './run-jest.ts'

// Scopes and ownership (issue 14, DESIGN.md): describe blocks with their own hooks are scopes, what a
// beforeEach creates is its test's, work a test leaves running stays that test's, file-level leaks
// name the test that opened them. One real Jest run over fixtures/scopes (workers), one in band, one
// with reports; each leaking file has its fixed twin.
const CLI = path.resolve(import.meta.dirname, '../../core/src/cli/main.ts')

function at(file: string, marker: string): string {
  return `${file}:${lineOf('scopes', file, marker)}`
}

let tmp: string
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-jest-scopes-'))
})
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

function check(name: string, run: () => JestRun): void {
  describe(name, () => {
    test('describe blocks: a block’s beforeAll leak fails the file at the block’s end, naming the block; its twins pass', () => {
      const file = fileResult(run(), 'describe.test.js')
      assert.equal(file.status, 'failed')
      assert.ok(
        file.assertionResults.every((a) => a.status !== 'failed'),
        'no test is blamed for its block',
      )
      for (const block of ['outer › leaks', 'nested › inner', 'block agent']) {
        assert.equal(
          file.message.split(`netsan: describe "${block}" left 1 network resource open`).length,
          2,
          `${block} reported once\n${file.message}`,
        )
      }
      assert.ok(framed(file.message, at('describe.test.js', '// LEAK describe')), file.message)
      assert.ok(framed(file.message, at('describe.test.js', '// LEAK block agent')), file.message)
      for (const clean of [
        'outer › fixed',
        'skipped',
        'nested"',
        'no hooks',
        'concurrent tests',
        'block agent fixed',
      ])
        assert.ok(!file.message.includes(`describe "${clean}`), `${clean} is clean\n${file.message}`)
      assert.ok(!file.message.includes('netsan: file "describe.test.js"'), file.message)
    })

    test('beforeEach: an HTTP/2 session it connects and the afterEach forgets fails each test; the twin passes', () => {
      const r = run()
      assert.deepEqual(
        failedTests(r).filter((t) => t.endsWith('request')),
        ['first request', 'second request'],
      )
      const file = fileResult(r, 'http2-each.test.js')
      assert.ok(
        framed(
          file.assertionResults[0]?.failureMessages[0] ?? '',
          at('http2-each.test.js', '// LEAK http2-each'),
        ),
        JSON.stringify(file),
      )
      assert.equal(fileResult(r, 'http2-each-fixed.test.js').status, 'passed')
    })

    test('a beforeEach that reconnects in the old session’s close callback: each reconnected session is reported, naming the test whose context it ran in', () => {
      const file = fileResult(run(), 'http2-reconnect.test.js')
      assert.deepEqual(
        file.assertionResults.filter((a) => a.status === 'failed').map((a) => a.fullName),
        ['one'],
      )
      assert.match(file.message, /netsan: file "http2-reconnect\.test\.js" left 2 network resources open/)
      assert.match(file.message, /opened in: one — started \d+ ms after the test ended, while "two" ran/)
      assert.match(file.message, /opened in: one — started \d+ ms after the test ended, while "three" ran/)
      assert.ok(framed(file.message, at('http2-reconnect.test.js', '// LEAK reconnect')), file.message)
      assert.equal(fileResult(run(), 'http2-reconnect-fixed.test.js').status, 'passed')
    })

    test('a retry loop’s attempt after its test ended is that test’s: it fails the file, never the test running then; the stopped loop passes', () => {
      const file = fileResult(run(), 'late.test.js')
      assert.equal(file.status, 'failed')
      assert.ok(
        file.assertionResults.every((a) => a.status === 'passed'),
        JSON.stringify(file),
      )
      assert.match(file.message, /in-flight request — GET http:\/\/127\.0\.0\.1:\d+\/hang, no response yet/)
      assert.match(
        file.message,
        /opened in: starts a retry loop and returns — started \d+ ms after the test ended, while "runs while it retries" ran/,
      )
      assert.ok(framed(file.message, at('late.test.js', '// LEAK late')), file.message)
      assert.equal(fileResult(run(), 'late-fixed.test.js').status, 'passed')
    })

    test('file-level leaks name the test that opened them: "opened in: pool › uses the file agent"', () => {
      const file = fileResult(run(), 'opened-in.test.js')
      assert.equal(file.status, 'failed')
      assert.match(file.message, /netsan: file "opened-in\.test\.js" left 1 network resource open/)
      assert.match(file.message, /opened in: pool › uses the file agent\n/)
      assert.ok(framed(file.message, at('opened-in.test.js', '// LEAK opened-in')), file.message)
    })
  })
}

let workers: JestRun
let inBand: JestRun
before(async () => {
  workers = await runJest('scopes')
  inBand = await runJest('scopes', ['--runInBand'])
})
check('jest: scopes and ownership (workers)', () => workers)
check('jest: scopes and ownership (in band)', () => inBand)

describe('jest: reports', () => {
  test('the JSON report and `netsan report` list the block leaks as file-level leaks naming each block', async () => {
    const dir = path.join(tmp, 'describe')
    const run = await runJest('scopes', ['describe'], {
      NETSAN_FIXTURE_OPTIONS: JSON.stringify({ report: path.join(dir, 'netsan.json') }),
    })
    assert.equal(run.code, 1, run.output)
    const r = spawnSync(process.execPath, [CLI, 'report', dir, '--format', 'json'], { encoding: 'utf8' })
    assert.equal(r.status, 1, r.stdout + r.stderr)
    const s = JSON.parse(r.stdout) as {
      leaks: { testFile: string; test: string; leak: { kind: string } }[]
      testsWithLeaks: number
    }
    assert.deepEqual(s.leaks.map((l) => [l.testFile, l.test, l.leak.kind]).sort(), [
      ['describe.test.js', 'describe "block agent"', 'idle'],
      ['describe.test.js', 'describe "nested › inner"', 'socket'],
      ['describe.test.js', 'describe "outer › leaks"', 'socket'],
    ])
    assert.equal(s.testsWithLeaks, 0)
  })

  test("warn: the block's report is printed, nothing fails", async () => {
    const run = await runJest('scopes', ['describe'], {
      NETSAN_FIXTURE_OPTIONS: JSON.stringify({ mode: 'warn' }),
    })
    assert.equal(run.code, 0, run.output)
    assert.ok(
      run.output.includes('netsan: describe "outer › leaks" left 1 network resource open'),
      run.output,
    )
  })
})

describe('an expectNoLeakedConnections() a beforeAll or afterAll does not catch is reported once', () => {
  const reports = (run: JestRun, file: string) =>
    fileResult(run, file).message.split('left 1 network resource open').length - 1

  for (const [mode, args] of [
    ['in band', ['--runInBand']],
    ['workers', []],
  ] as const) {
    test(`${mode}: by the hook's error only (file and describe block); a check the hook catches is reported at the end; a clean twin passes`, async () => {
      const run = await runJest('hook-check', [...args])
      assert.equal(run.code, 1, run.output)
      for (const file of ['before-all.test.js', 'after-all.test.js', 'block.test.js', 'caught.test.js']) {
        assert.equal(fileResult(run, file).status, 'failed', `${file}\n${run.output}`)
        assert.equal(reports(run, file), 1, `${file} reported once\n${fileResult(run, file).message}`)
      }
      // A block's beforeAll: Jest shows its error on each test under it, and netsan adds no suite error.
      const blockBefore = fileResult(run, 'block-before.test.js').message
      assert.equal(reports(run, 'block-before.test.js'), 2, blockBefore)
      assert.doesNotMatch(blockBefore, /Test suite failed to run/)
      assert.match(fileResult(run, 'after-all.test.js').message, /netsan: file "after-all\.test\.js" left/)
      assert.match(fileResult(run, 'block.test.js').message, /netsan: describe "block" left/)
      assert.match(fileResult(run, 'caught.test.js').message, /netsan: file "caught\.test\.js" left/)
      assert.equal(fileResult(run, 'closed.test.js').status, 'passed', run.output)
    })
  }
})

describe('a describe block Jest runs again as a whole (retryTimes with entireDescribe)', () => {
  const WARNING =
    'netsan: describe "block" left 1 network resource open on attempt 1 — a warning, not a failure: the block was retried, and its last attempt decides'
  const leaks = (run: JestRun, file: string) =>
    fileResult(run, file).message.split('left 1 network resource open').length - 1

  test('without netsan every file passes (the fixture is green)', async () => {
    const run = await runJest('describe-retry', ['--runInBand', '--testEnvironment=node'])
    assert.equal(run.code, 0, run.output)
  })

  for (const [mode, args] of [
    ['in band', ['--runInBand']],
    ['workers', []],
  ] as const) {
    test(`${mode}: Jest still retries the block; the retried attempt's leaks are a warning, the last attempt's fail the file once`, async () => {
      const report = path.join(tmp, `describe-retry-${mode.replace(' ', '-')}`, 'netsan.json')
      const run = await runJest('describe-retry', [...args], {
        NETSAN_FIXTURE_OPTIONS: JSON.stringify({ report }),
      })
      assert.equal(run.code, 1, run.output)
      // The block leaked only on the attempt Jest retried: green, as without netsan, and a warning.
      assert.equal(fileResult(run, 'first-only.test.js').status, 'passed', run.output)
      // Every attempt leaked: the test passed on its retry, the file fails once, for the last attempt.
      assert.equal(fileResult(run, 'every.test.js').status, 'failed', run.output)
      assert.deepEqual(failedTests(run), [], run.output)
      assert.equal(leaks(run, 'every.test.js'), 1, fileResult(run, 'every.test.js').message)
      assert.equal(run.output.split(WARNING).length - 1, 2, run.output)
      assert.equal(fileResult(run, 'clean.test.js').status, 'passed', run.output)
      // netsan report agrees: one leak (every.test.js, file level), two warnings of retried attempts.
      const r = spawnSync(process.execPath, [CLI, 'report', path.dirname(report), '--format', 'json'], {
        encoding: 'utf8',
      })
      assert.equal(r.status, 1, r.stdout + r.stderr)
      const s = JSON.parse(r.stdout)
      assert.equal(s.tests, 3)
      assert.deepEqual(
        s.leaks.map((l: { testFile: string; test: string }) => `${l.testFile} ${l.test}`),
        ['every.test.js describe "block"'],
      )
      assert.deepEqual(
        s.retried.map(
          (l: { testFile: string; test: string; attempt: number }) => `${l.testFile} ${l.test} ${l.attempt}`,
        ),
        ['every.test.js describe "block" 1', 'first-only.test.js describe "block" 1'],
      )
    })
  }

  test("NETSAN=warn: every file passes; each retried attempt's leaks are printed once, as a retried attempt's", async () => {
    const run = await runJest('describe-retry', ['--runInBand'], { NETSAN: 'warn' })
    assert.equal(run.code, 0, run.output)
    assert.equal(run.output.split(WARNING).length - 1, 2, run.output)
    assert.equal(
      run.output.split('netsan: describe "block" left 1 network resource open').length - 1,
      3,
      run.output,
    )
  })
})
