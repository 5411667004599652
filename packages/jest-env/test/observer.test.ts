import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { failedTests, fileResult, framed, type JestRun, lineOf, runJest, testResult } from './run-jest.ts'

// netsan is an invisible observer (DESIGN.md): the same suite gives the same outcome with netsan off
// (Jest's own 'node' environment), in warn and in fail, except for the verdict on a real leak.
const OFF = { NETSAN_FIXTURE_ENVIRONMENT: 'node' }
const WARN = { NETSAN: 'warn' }
const FAIL = {}

/** What Jest decided: exit code and every test's status, by file and name. */
function outcome(run: JestRun): { code: number | null; tests: Record<string, string> } {
  const tests: Record<string, string> = {}
  for (const file of run.json?.testResults ?? []) {
    const name = file.name.split('/').at(-1)
    for (const a of file.assertionResults) tests[`${name} › ${a.fullName}`] = a.status
  }
  return { code: run.code, tests: Object.fromEntries(Object.entries(tests).sort()) }
}

describe('jest: netsan changes no outcome', () => {
  // Jest runs a few fast files in band when its cache remembers their timings: a fresh cache dir keeps
  // the workers case in worker processes.
  const caches: string[] = []
  const freshCache = () => {
    caches.push(fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-jest-cache-')))
    return `--cacheDirectory=${caches.at(-1)}`
  }
  after(() => {
    for (const dir of caches) fs.rmSync(dir, { recursive: true, force: true })
  })
  for (const band of [undefined, ['--runInBand']]) {
    test(`client patterns and a globalSetup server used by two files${band ? ' (in band)' : ' (workers)'}: green in every mode`, async () => {
      const env = { EXPECT_IN_BAND: band ? '1' : '0' }
      const [off, warn, fail] = [
        await runJest('observer', [...(band ?? [freshCache()]), 'patterns', 'shared'], { ...env, ...OFF }),
        await runJest('observer', [...(band ?? [freshCache()]), 'patterns', 'shared'], { ...env, ...WARN }),
        await runJest('observer', [...(band ?? [freshCache()]), 'patterns', 'shared'], { ...env, ...FAIL }),
      ]
      assert.equal(off!.code, 0, off!.output)
      assert.equal(off!.json?.numPassedTests, 23)
      assert.deepEqual(outcome(warn!), outcome(off!), warn!.output)
      assert.deepEqual(outcome(fail!), outcome(off!), fail!.output)
      for (const run of [warn!, fail!]) {
        assert.ok(!run.output.includes('netsan:'), run.output)
        assert.ok(!run.output.includes('MaxListenersExceededWarning'), run.output)
      }
    })
  }

  test('listen() on a used port with no error listener: EADDRINUSE fails the test in every mode', async () => {
    for (const env of [OFF, WARN, FAIL]) {
      const run = await runJest('observer', ['eaddrinuse'], env)
      assert.equal(run.code, 1, run.output)
      assert.deepEqual(failedTests(run), ['listens on a port already in use'], run.output)
      const message = testResult(
        run,
        'eaddrinuse.test.js',
        'listens on a port already in use',
      ).failureMessages.join('\n')
      assert.match(message, /EADDRINUSE/)
      assert.doesNotMatch(message, /LeakError/)
    }
  })

  test('warn mode cleans nothing up: a server one test leaves open still serves the next, as without netsan', async () => {
    const off = await runJest('observer', ['left-open'], OFF)
    assert.equal(off.code, 0, off.output)
    const warn = await runJest('observer', ['left-open'], WARN)
    assert.deepEqual(outcome(warn), outcome(off), warn.output)
    // A server is judged at its file's end, naming the test that started it.
    assert.ok(
      warn.output.includes('netsan: file "left-open.test.js" left 1 network resource open'),
      warn.output,
    )
    assert.ok(warn.output.includes('opened in: starts a server and forgets it'), warn.output)
    assert.ok(
      framed(warn.output, `left-open.test.js:${lineOf('observer', 'left-open.test.js', '// LEFT OPEN')}`),
      warn.output,
    )
    // fail: the file fails at its end; until then the server serves the next test, as without netsan
    const fail = await runJest('observer', ['left-open'], FAIL)
    assert.equal(fail.code, 1, fail.output)
    assert.deepEqual(failedTests(fail), [], fail.output)
    assert.equal(fileResult(fail, 'left-open.test.js').status, 'failed', fail.output)
  })

  test('a leaked fetch with retry logic: cleanup aborts it with an AbortError, the client does not send it again, no file-level leak follows', async () => {
    const fail = await runJest('observer', ['retry'], FAIL)
    assert.deepEqual(failedTests(fail), ['leaves a retrying fetch in flight'], fail.output)
    assert.ok(
      framed(fail.output, `retry.test.js:${lineOf('observer', 'retry.test.js', '// LEAKED FETCH')}`),
      fail.output,
    )
    assert.ok(!fail.output.includes('netsan: file "'), fail.output)
    const off = await runJest('observer', ['retry'], OFF)
    assert.equal(off.code, 0, off.output)
  })
})
