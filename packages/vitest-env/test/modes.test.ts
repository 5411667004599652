import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { KIND_WORDS } from 'netsan'
import { lineOf, runVitest } from './run-vitest.ts'

// The modes suite: two files, each with one leaking and one clean test, against a server in
// Vitest's main process. Each case is one Vitest run with different options.
const LEAKING = ['a leaks a socket', 'b leaks a body']
const options = (o: unknown) => ({ NETSAN_FIXTURE_OPTIONS: JSON.stringify(o) })

describe('vitest-environment-netsan modes and configurations', () => {
  test("mode 'warn' prints the report and passes", async () => {
    const run = await runVitest('modes', { env: options({ mode: 'warn' }) })
    assert.equal(run.code, 0, run.output)
    assert.deepEqual(run.failed, [])
    assert.ok(run.output.includes('netsan: test "a leaks a socket" left 1 network resource open'), run.output)
    assert.ok(run.output.includes(`✖ ${KIND_WORDS.socket} — `), run.output)
    assert.ok(run.output.includes(lineOf('modes', 'a.test.ts', '// LEAK a')), run.output)
    assert.ok(run.output.includes('netsan: test "b leaks a body" left 1 network resource open'), run.output)
  })

  test("mode 'off' prints nothing and passes", async () => {
    const run = await runVitest('modes', { env: options({ mode: 'off' }) })
    assert.equal(run.code, 0, run.output)
    assert.equal(run.tests.size, 4)
    assert.ok(!run.output.includes('netsan:'), run.output)
  })

  test('NETSAN=off wins over the config', async () => {
    const run = await runVitest('modes', { env: { ...options({ mode: 'fail' }), NETSAN: 'off' } })
    assert.equal(run.code, 0, run.output)
    assert.ok(!run.output.includes('netsan:'), run.output)
  })

  test("a bad option stops the run with netsan's error naming the key", async () => {
    const run = await runVitest('modes', { env: options({ setleMs: 5 }) })
    assert.notEqual(run.code, 0)
    assert.ok(
      run.output.includes(
        'netsan: unknown option "setleMs" (received 5; did you mean "settleMs"?); known options: mode, kinds, settleMs',
      ),
      run.output,
    )
    assert.ok(![...run.tests.values()].some((t) => t.status === 'passed'), 'no test may run')
  })

  test('the environment alone (one line of config): per-test failures, each reported once', async () => {
    const run = await runVitest('modes')
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(run.failed, LEAKING)
    assert.ok(!run.output.includes('setupFiles'), run.output)
    assert.equal(run.output.split('netsan: test "a leaks a socket" left').length, 2, run.output)
    for (const file of run.files.values()) assert.equal(file.message, '', file.message)
  })

  test('with the setup file too: the same per-test failures, hooks registered once', async () => {
    const run = await runVitest('modes', { env: { NETSAN_FIXTURE_SETUP: '1' } })
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(run.failed, LEAKING)
    assert.equal(run.output.split('netsan: test "a leaks a socket" left').length, 2, run.output)
    assert.equal(run.output.split('netsan: test "b leaks a body" left').length, 2, run.output)
  })

  test("a custom runner that bypasses Vitest's importFile: says once what line is missing, and still checks each file", async () => {
    const run = await runVitest('modes', { env: { NETSAN_FIXTURE_RUNNER: './own-runner.ts' } })
    assert.equal(run.code, 1, run.output)
    assert.equal(run.output.split("setupFiles: ['vitest-environment-netsan/setup'],").length, 2, run.output)
    assert.deepEqual(run.failed, [])
    assert.ok(run.output.includes('netsan: file "a.test.ts" left 1 network resource open'), run.output)
    assert.ok(run.output.includes(lineOf('modes', 'a.test.ts', '// LEAK a')), run.output)
  })

  test('a custom runner with the setup file: per-test failures', async () => {
    const run = await runVitest('modes', {
      env: { NETSAN_FIXTURE_RUNNER: './own-runner.ts', NETSAN_FIXTURE_SETUP: '1' },
    })
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(run.failed, LEAKING)
    assert.ok(!run.output.includes("setupFiles: ['vitest-environment-netsan/setup'],"), run.output)
  })

  test('the setup file without the environment says what is missing', async () => {
    const run = await runVitest('modes', {
      env: { NETSAN_FIXTURE_ENVIRONMENT: 'node', NETSAN_FIXTURE_SETUP: '1' },
    })
    assert.equal(run.code, 0, run.output)
    assert.equal(run.output.split("environment: 'netsan',").length, 2, run.output)
    assert.ok(run.output.includes('is in setupFiles, but the environment is not'), run.output)
  })

  test('pool threads with isolate: false and one worker: per-test failures, file scopes per file', async () => {
    const run = await runVitest('modes', {
      env: { NETSAN_FIXTURE_POOL: 'threads', NETSAN_FIXTURE_ISOLATE: '0' },
      args: ['--maxWorkers=1'],
    })
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(run.failed, LEAKING)
    assert.ok(
      run.tests
        .get('b leaks a body')
        ?.failureMessages[0]?.includes(lineOf('modes', 'b.test.ts', '// LEAK b')),
      run.output,
    )
    for (const file of run.files.values()) assert.equal(file.message, '', file.message)
  })

  for (const pool of ['vmThreads', 'vmForks']) {
    test(`pool ${pool}, the environment alone: per-test failures, no line missing`, async () => {
      const run = await runVitest('modes', { env: { NETSAN_FIXTURE_POOL: pool } })
      assert.equal(run.code, 1, run.output)
      assert.deepEqual(run.failed, LEAKING)
      assert.ok(!run.output.includes('setupFiles'), run.output)
      assert.ok(
        run.tests
          .get('a leaks a socket')
          ?.failureMessages[0]?.includes(lineOf('modes', 'a.test.ts', '// LEAK a')),
        run.output,
      )
      for (const file of run.files.values()) assert.equal(file.message, '', file.message)
    })
  }

  test('pool vmThreads with a custom runner that bypasses importFile: each file still checked, and the run fails loudly, naming the missing line', async () => {
    const run = await runVitest('modes', {
      env: { NETSAN_FIXTURE_POOL: 'vmThreads', NETSAN_FIXTURE_RUNNER: './own-runner.ts' },
    })
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(run.failed, [])
    assert.ok(run.output.includes('netsan: file "a.test.ts" left 1 network resource open'), run.output)
    assert.ok(run.output.includes('netsan: file "b.test.ts" left 1 network resource open'), run.output)
    assert.match(run.output, /could not reach the runner Vitest created in the tests' realm/)
    assert.match(run.output, /so no test of a\.test\.ts was checked, only the whole file/)
    assert.match(run.output, /so no test of b\.test\.ts was checked, only the whole file/)
    assert.ok(run.output.includes("setupFiles: ['vitest-environment-netsan/setup'],"), run.output)
  })

  test('pool vmThreads with a custom runner and the setup file: per-test failures, nothing missing', async () => {
    const run = await runVitest('modes', {
      env: {
        NETSAN_FIXTURE_POOL: 'vmThreads',
        NETSAN_FIXTURE_RUNNER: './own-runner.ts',
        NETSAN_FIXTURE_SETUP: '1',
      },
    })
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(run.failed, LEAKING)
    assert.ok(!run.output.includes('could not reach the runner'), run.output)
  })

  test('pool vmThreads with the setup file: per-test failures', async () => {
    const run = await runVitest('modes', {
      env: { NETSAN_FIXTURE_POOL: 'vmThreads', NETSAN_FIXTURE_SETUP: '1' },
    })
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(run.failed, LEAKING)
    assert.ok(
      run.tests
        .get('a leaks a socket')
        ?.failureMessages[0]?.includes(lineOf('modes', 'a.test.ts', '// LEAK a')),
      run.output,
    )
  })
})
