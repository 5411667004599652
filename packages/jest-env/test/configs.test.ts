import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { failedTests, framed, type JestRun, lineOf, runJest, testResult } from './run-jest.ts'

// Configurations the adapter promises: one real Jest 30 run per configuration, on small fixture
// suites (or the kinds suite, which takes a few seconds).

/** The tests of fixtures/kinds that fail: its leaks, and one test that fails its own assertion. */
const KINDS_FAILED = [
  'assertion: fails on its own and leaks',
  'assertion: fails on its own, no leak',
  'body: leaks',
  'concurrent: leaks',
  'http2: leaks',
  'idle: leaks',
  'realms: built-in fetch body leaks',
  'realms: npm undici body leaks',
  'request: leaks',
  'socket: leaks',
  'websocket: global leaks',
  'websocket: leaks',
  'with fake timers body: leaks under fake timers',
].sort()

function passedTests(run: JestRun): string[] {
  return (run.json?.testResults ?? [])
    .flatMap((f) => f.assertionResults.filter((a) => a.status === 'passed').map((a) => a.fullName))
    .sort()
}

/** The leak failed its test with netsan's report, naming `file:line` of the creating line. */
function assertLeak(run: JestRun, suite: string, file: string, name: string, marker: string): void {
  const message = testResult(run, file, name).failureMessages.join('\n')
  assert.match(message, new RegExp(`LeakError: netsan: test "${name}" left 1 network resource open`))
  assert.ok(message.includes('✖ open socket — '), message)
  const line = lineOf(suite, file, marker)
  assert.ok(framed(message, `${file}:${line}`), `expected ${file}:${line} in\n${message}`)
}

function assertExitedPromptly(run: JestRun): void {
  assert.doesNotMatch(run.output, /did not exit one second after the test run has completed/)
  assert.ok(run.ms < 30_000, `took ${run.ms} ms`)
}

describe('jest-environment-netsan configurations', () => {
  test('--shard=1/2 and --shard=2/2 (kinds suite): together, exactly the leaking tests fail, each once', async () => {
    const shards = [await runJest('kinds', ['--shard=1/2']), await runJest('kinds', ['--shard=2/2'])]
    for (const run of shards) {
      assert.equal(run.code, 1, run.output)
      assertExitedPromptly(run)
    }
    const files = shards.map((run) => (run.json?.testResults ?? []).map((f) => f.name))
    assert.ok(files[0]!.length > 0 && files[1]!.length > 0, 'each shard runs some files')
    assert.deepEqual(
      files[0]!.filter((f) => files[1]!.includes(f)),
      [],
      'no file runs in both shards',
    )
    assert.equal(files[0]!.length + files[1]!.length, 12)
    assert.deepEqual(shards.flatMap(failedTests).sort(), KINDS_FAILED)
    const passed = shards.flatMap(passedTests)
    assert.equal(passed.length, 17)
    assert.equal(new Set(passed).size, 17)
  })

  test('--detectOpenHandles alongside netsan (kinds suite): the leaks fail, Jest exits promptly', async () => {
    const run = await runJest('kinds', ['--detectOpenHandles'])
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(failedTests(run), KINDS_FAILED)
    assert.equal(run.json?.numPassedTests, 17)
    const socket = testResult(run, 'socket.test.js', 'socket: leaks').failureMessages.join('\n')
    assert.match(socket, /netsan: test "socket: leaks" left 1 network resource open/)
    assert.doesNotMatch(run.output, /Jest has detected the following \d+ open handles?/)
    assertExitedPromptly(run)
  })

  test("native ESM (--experimental-vm-modules), helpers imported from 'netsan'", async () => {
    const options = `${process.env.NODE_OPTIONS ?? ''} --experimental-vm-modules`.trim()
    const run = await runJest('esm', [], { NODE_OPTIONS: options })
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(failedTests(run), ['esm: fails its own check', 'esm: leaks a socket'])
    assertLeak(run, 'esm', 'leak.test.js', 'esm: leaks a socket', 'LEAK:esm')
    // A LeakError of the sandbox's own copy of netsan, uncaught: the report whole (Jest split it at its
    // first `at` line), once, and Jest's code frame at the creating line.
    assertLeak(run, 'esm', 'leak.test.js', 'esm: fails its own check', 'LEAK:esm-check')
    const own = testResult(run, 'leak.test.js', 'esm: fails its own check').failureMessages.join('\n')
    assert.equal(own.split('netsan: test "esm: fails its own check" left').length, 2, own)
    assert.ok(
      run.output.includes(`at leak.test.js:${lineOf('esm', 'leak.test.js', 'LEAK:esm-check')}\n`),
      run.output,
    )
    assert.equal(testResult(run, 'leak.test.js', 'esm: fixed').status, 'passed')
    assert.equal(
      testResult(run, 'leak.test.js', 'esm: expectNoLeakedConnections from netsan').status,
      'passed',
    )
    assert.equal(testResult(run, 'leak.test.js', 'esm: LeakError and track from netsan').status, 'passed')
    assertExitedPromptly(run)
  })

  test("CommonJS: require('netsan') has the whole API in Jest's sandbox (LeakError, track, allowLeaks)", async () => {
    const run = await runJest('require')
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(failedTests(run), ['require: a leak still fails the test'])
    assertLeak(run, 'require', 'api.test.js', 'require: a leak still fails the test', 'LEAK:require')
    for (const name of [
      'require: every export the types declare is there',
      'require: expectNoLeakedConnections throws a LeakError of this realm',
      'require: track() is a scope inside the test, on the environment’s engine',
      'require: allowLeaks lets this test keep a socket',
    ]) {
      assert.equal(testResult(run, 'api.test.js', name).status, 'passed', `${name}:\n${run.output}`)
    }
  })

  for (const transformer of ['ts-jest', '@swc/jest']) {
    test(`TypeScript under ${transformer}: the report names the line of the TypeScript source`, async () => {
      const config = { testEnvironment: 'netsan', transform: { '^.+\\.ts$': transformer } }
      const run = await runJest('ts', ['--config', JSON.stringify(config)])
      assert.equal(run.code, 1, run.output)
      assert.deepEqual(failedTests(run), ['ts: leaks a socket'])
      // The types above the leak are erased, so the compiled line differs from the source's.
      assertLeak(run, 'ts', 'leak.test.ts', 'ts: leaks a socket', 'LEAK:ts')
      assert.equal(testResult(run, 'leak.test.ts', 'ts: fixed').status, 'passed')
    })
  }

  test("base 'jsdom': the DOM is there, a leak fails with netsan's report, the fixed twin passes", async () => {
    const run = await runJest('dom')
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(failedTests(run), ['dom: leaks a socket'])
    assert.equal(testResult(run, 'dom.test.js', 'dom: the base environment made the DOM').status, 'passed')
    assertLeak(run, 'dom', 'dom.test.js', 'dom: leaks a socket', 'LEAK:dom')
    assert.equal(testResult(run, 'dom.test.js', 'dom: fixed').status, 'passed')
  })
})
