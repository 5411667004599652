import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { failedTests, fileResult, framed, type JestRun, lineOf, runJest, testResult } from './run-jest.ts'

// One real Jest 30 run over the whole `kinds` suite; every assertion below reads its JSON result.
describe('jest-environment-netsan on Jest 30 (fixtures/kinds)', () => {
  let run: JestRun
  before(async () => {
    run = await runJest('kinds')
  })

  const LEAKS = [
    { file: 'body.test.js', test: 'body: leaks', words: 'unconsumed response body', marker: 'LEAK:body' },
    {
      file: 'body.test.js',
      test: 'with fake timers body: leaks under fake timers',
      words: 'unconsumed response body',
      marker: 'LEAK:body-fake-timers',
    },
    { file: 'request.test.js', test: 'request: leaks', words: 'in-flight request', marker: 'LEAK:request' },
    { file: 'socket.test.js', test: 'socket: leaks', words: 'open socket', marker: 'LEAK:socket' },
    {
      file: 'idle.test.js',
      test: 'idle: leaks',
      words: 'idle keep-alive connection',
      marker: 'expect(await get(agent)).toBe(200)',
    },
    { file: 'http2.test.js', test: 'http2: leaks', words: 'open HTTP/2 session', marker: 'LEAK:http2' },
    {
      file: 'websocket.test.js',
      test: 'websocket: leaks',
      words: 'open WebSocket',
      marker: 'LEAK:websocket',
    },
    {
      file: 'websocket.test.js',
      test: 'websocket: global leaks',
      words: 'open WebSocket',
      marker: 'LEAK:global-websocket',
    },
    {
      file: 'realms.test.js',
      test: 'realms: npm undici body leaks',
      words: 'unconsumed response body',
      marker: 'LEAK:undici',
    },
    {
      file: 'realms.test.js',
      test: 'realms: built-in fetch body leaks',
      words: 'unconsumed response body',
      marker: 'LEAK:fetch',
    },
    {
      file: 'concurrent.test.js',
      test: 'concurrent: leaks',
      words: 'open socket',
      marker: 'LEAK:concurrent',
    },
    {
      file: 'assertion.test.js',
      test: 'assertion: fails on its own and leaks',
      words: 'open socket',
      marker: 'LEAK:assertion',
    },
  ]

  test('exit code 1, and exactly the leaking tests (plus one plain assertion failure) fail', () => {
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(
      failedTests(run),
      [...LEAKS.map((l) => l.test), 'assertion: fails on its own, no leak'].sort(),
      run.output,
    )
    assert.equal(run.json?.numPassedTests, 17)
  })

  test('a server a test started and never closed fails its file at the end, naming the test and the line', () => {
    const file = fileResult(run, 'server.test.js')
    assert.equal(file.status, 'failed')
    assert.ok(file.assertionResults.every((a) => a.status === 'passed'))
    assert.match(file.message, /netsan: file "server\.test\.js" left 1 network resource open/)
    assert.match(file.message, /✖ listening server — HTTP server on 127\.0\.0\.1:\d+, never closed\n/)
    assert.ok(
      framed(file.message, `server.test.js:${lineOf('kinds', 'server.test.js', 'LEAK:server')}`),
      file.message,
    )
    assert.match(file.message, /opened in: server: leaks/)
  })

  for (const leak of LEAKS) {
    test(`${leak.test}: "${leak.words}" at ${leak.file}:${leak.marker}`, () => {
      const result = testResult(run, leak.file, leak.test)
      const message = result.failureMessages.join('\n')
      const name = leak.test.replace('with fake timers ', 'with fake timers › ')
      assert.match(message, new RegExp(`netsan: test "${name}" left 1 network resource open`))
      assert.ok(message.includes(`✖ ${leak.words} — `), message)
      const line = lineOf('kinds', leak.file, leak.marker)
      assert.ok(framed(message, `${leak.file}:${line}`), `expected ${leak.file}:${line} in\n${message}`)
      assert.match(message, /fix: /)
    })
  }

  test('a fetch left in flight without a signal is reported as such (the fixed twin aborts its own)', () => {
    const message = testResult(run, 'request.test.js', 'request: leaks').failureMessages.join('\n')
    assert.match(
      message,
      /in-flight request — GET http:\/\/127\.0\.0\.1:\d+\/hang, no response yet \(no AbortSignal\)/,
    )
  })

  test('every fixed twin passes in the same run', () => {
    const twins = (run.json?.testResults ?? []).flatMap((f) =>
      f.assertionResults.filter((a) => / fixed$|reuses$|connects$|clean test$/.test(a.fullName)),
    )
    assert.equal(twins.length, 14)
    for (const t of twins) assert.equal(t.status, 'passed', `${t.fullName}: ${t.failureMessages.join('\n')}`)
  })

  test('the helpers work inside the sandbox (jest-environment-netsan/api)', () => {
    assert.equal(
      testResult(run, 'body.test.js', 'body: expectNoLeakedConnections from the test').status,
      'passed',
    )
  })

  test('a test that fails its own assertion and leaks keeps its assertion error first', () => {
    const [own, leak] = testResult(
      run,
      'assertion.test.js',
      'assertion: fails on its own and leaks',
    ).failureMessages
    assert.match(own ?? '', /expect\(received\)\.toBe\(expected\)/)
    assert.match(leak ?? '', /open socket/)
    const plain = testResult(run, 'assertion.test.js', 'assertion: fails on its own, no leak').failureMessages
    assert.equal(plain.length, 1)
    assert.doesNotMatch(plain[0] ?? '', /netsan:/)
  })

  test('test.concurrent: only the leaking one of two overlapping tests fails', () => {
    assert.equal(testResult(run, 'concurrent.test.js', 'concurrent: leaks').status, 'failed')
    assert.equal(testResult(run, 'concurrent.test.js', 'concurrent: fixed').status, 'passed')
  })

  test('a file-level leak (agent from beforeAll) fails the file, not a test', () => {
    const file = fileResult(run, 'file-level.test.js')
    assert.equal(file.status, 'failed')
    assert.ok(file.assertionResults.every((a) => a.status === 'passed'))
    assert.match(file.message, /Test suite failed to run/)
    assert.match(file.message, /netsan: file "file-level\.test\.js" left 1 network resource open/)
    assert.match(file.message, /idle keep-alive connection/)
    assert.match(file.message, /opened in: file-level: uses the file agent/)
  })

  test('a lazily connecting library client closed in afterAll passes', () => {
    const file = fileResult(run, 'lazy-client.test.js')
    assert.equal(file.status, 'passed', file.message)
  })

  test('Jest exits promptly after leaking tests (netsan closed what leaked)', () => {
    assert.doesNotMatch(run.output, /did not exit/)
    assert.ok(run.ms < 30_000, `took ${run.ms} ms`)
  })
})

describe('modes and options (fixtures/modes)', () => {
  const config = (netsan: unknown) => [
    '--config',
    JSON.stringify({ testEnvironment: 'netsan', testEnvironmentOptions: { netsan } }),
  ]

  test("mode 'fail' (default) fails the leaking test only", async () => {
    const run = await runJest('modes')
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(failedTests(run), ['modes: leaks a socket'])
  })

  test("mode 'warn' passes and prints the report", async () => {
    const run = await runJest('modes', config({ mode: 'warn' }))
    assert.equal(run.code, 0, run.output)
    assert.match(run.output, /netsan: test "modes: leaks a socket" left 1 network resource open/)
    assert.match(
      run.output,
      new RegExp(`leak\\.test\\.js:${lineOf('modes', 'leak.test.js', 'LEAK:modes')}(?!\\d)`),
    )
  })

  test("mode 'off' passes silently", async () => {
    const run = await runJest('modes', config({ mode: 'off' }))
    assert.equal(run.code, 0, run.output)
    assert.doesNotMatch(run.output, /netsan:/)
  })

  test('NETSAN=off overrides the config', async () => {
    const run = await runJest('modes', [], { NETSAN: 'off' })
    assert.equal(run.code, 0, run.output)
    assert.doesNotMatch(run.output, /netsan:/)
  })

  test('a bad option fails the run with a message naming the key, value and allowed values', async () => {
    const run = await runJest('modes', config({ mode: 'loud' }))
    assert.equal(run.code, 1, run.output)
    assert.match(
      run.output,
      /netsan: invalid value for option "mode": received "loud"; allowed: 'fail', 'warn', 'off'/,
    )
    assert.equal(run.json?.numPassedTests, 0)
  })

  test("option base: a project's own environment (module path) is wrapped", async () => {
    const run = await runJest('base')
    assert.equal(run.code, 1, run.output)
    assert.equal(
      testResult(run, 'base.test.js', 'base: the wrapped environment set up the sandbox').status,
      'passed',
    )
    // The server is judged at the end of its file, naming the test that started it.
    assert.equal(testResult(run, 'base.test.js', 'base: leaks a server').status, 'passed')
    const file = fileResult(run, 'base.test.js')
    assert.equal(file.status, 'failed')
    const line = lineOf('base', 'base.test.js', 'LEAK:base')
    assert.ok(framed(file.message, `base.test.js:${line}`), file.message)
    assert.ok(file.message.includes('opened in: base: leaks a server'), file.message)
  })

  test('option base: a module that cannot be loaded is named', async () => {
    const run = await runJest('modes', config({ base: './missing-env.js' }))
    assert.equal(run.code, 1, run.output)
    assert.match(run.output, /netsan: invalid value for option "base": received "\.\/missing-env\.js"/)
  })
})
