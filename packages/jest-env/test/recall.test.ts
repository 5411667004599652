import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { failedTests, framed, type JestRun, lineOf, runJest, testResult } from './run-jest.ts'

// The misses of issue 14 on a real Jest 30 run (fixtures/recall): each leak fails its own test with the
// kind, what it was and the line that created it; its fixed twin passes.
const LEAKS = [
  {
    file: 'empty-body.test.js',
    test: 'empty body 204 leaks',
    words: 'unconsumed response body',
    text: /GET http:\/\/127\.0\.0\.1:\d+\/nocontent → 204, empty body never consumed, holding its socket/,
    at: `empty-body.test.js:${lineOf('recall', 'empty-body.test.js', 'LEAK:empty-body')}`,
  },
  {
    file: 'empty-body.test.js',
    test: 'empty body HEAD leaks',
    words: 'unconsumed response body',
    text: /HEAD http:\/\/127\.0\.0\.1:\d+\/file → 200, empty body never consumed, holding its socket/,
    at: `empty-body.test.js:${lineOf('recall', 'empty-body.test.js', 'LEAK:empty-body')}`,
  },
  {
    file: 'undici-fetch.test.js',
    test: 'undici fetch small body leaks',
    words: 'unconsumed response body',
    text: /GET http:\/\/127\.0\.0\.1:\d+\/small → 200, 2048-byte body never read\n/,
    at: `fetchStatus (src/client.js:${lineOf('recall', 'src/client.js', 'LEAK:app-fetch')}`,
  },
  {
    file: 'mock-agent.test.js',
    test: 'mocked fetch body leaks',
    words: 'unconsumed response body',
    text: /GET http:\/\/api\.example\.test\/users → 200, body never read \(mocked by MockAgent\)/,
    at: `fetchStatus (src/client.js:${lineOf('recall', 'src/client.js', 'LEAK:app-fetch')}`,
  },
  {
    file: 'mock-agent.test.js',
    test: 'mocked request body leaks',
    words: 'unconsumed response body',
    text: /GET http:\/\/api\.example\.test\/users → 200, body never read \(mocked by MockAgent\)/,
    at: `requestStatus (src/client.js:${lineOf('recall', 'src/client.js', 'LEAK:app-request')}`,
  },
  {
    file: 'unfinished.test.js',
    test: 'node:http body never ended leaks',
    words: 'in-flight request',
    text: /POST http:\/\/127\.0\.0\.1:\d+\/upload, request body never finished \(req\.end\(\) never called\), no response yet\n[\s\S]*fix: finish the request with req\.end\(\)/,
    at: `unfinished.test.js:${lineOf('recall', 'unfinished.test.js', 'LEAK:no-end')}`,
  },
  {
    file: 'unfinished.test.js',
    test: 'undici body stream never ended leaks',
    words: 'in-flight request',
    text: /POST http:\/\/127\.0\.0\.1:\d+\/upload, request body never finished \(its stream never ended\), no response yet\n[\s\S]*fix: end the request body stream/,
    at: `unfinished.test.js:${lineOf('recall', 'unfinished.test.js', 'LEAK:undici-no-end')}`,
  },
  {
    file: 'piped.test.js',
    test: 'response piped into a stream nobody reads leaks',
    words: 'unconsumed response body',
    text: /GET http:\/\/127\.0\.0\.1:\d+\/big → 200, 1048576-byte body read only partly\n/,
    at: `piped.test.js:${lineOf('recall', 'piped.test.js', 'LEAK:piped')}`,
  },
  {
    file: 'piped.test.js',
    test: 'request with a mocked emit left in flight leaks',
    words: 'in-flight request',
    text: /GET http:\/\/127\.0\.0\.1:\d+\/hang, no response yet\n/,
    at: `mockedRequest (piped.test.js:${lineOf('recall', 'piped.test.js', 'LEAK:mocked')}`,
  },
]

describe('jest-environment-netsan on Jest 30 (fixtures/recall)', () => {
  let run: JestRun
  before(async () => {
    run = await runJest('recall')
  })

  test('exit code 1, and exactly the leaking tests fail', () => {
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(failedTests(run), LEAKS.map((l) => l.test).sort(), run.output)
    assert.equal(run.json?.numPassedTests, LEAKS.length)
  })

  for (const leak of LEAKS) {
    test(`${leak.test}: its report names the kind, what leaked and the creating line; the twin passes`, () => {
      const message = testResult(run, leak.file, leak.test).failureMessages.join('\n')
      assert.match(message, new RegExp(`netsan: test "${leak.test}" left 1 network resource open`))
      assert.ok(message.includes(`✖ ${leak.words} — `), message)
      assert.match(message, leak.text)
      assert.ok(framed(message, `at ${leak.at}`), `expected "at ${leak.at}" in\n${message}`)
      const twin = leak.test.replace(/ leaks$/, ' fixed')
      assert.equal(testResult(run, leak.file, twin).status, 'passed', twin)
    })
  }
})

// The piped body and the mocked request, with netsan off and in warn: the code under test runs as it does
// without netsan (every test passes), and warn prints the same two leaks without failing anything.
for (const mode of ['off', 'warn'] as const) {
  test(`piped.test.js with NETSAN=${mode}: every test passes${mode === 'warn' ? ', the two leaks printed' : ''}`, async () => {
    const run = await runJest('recall', ['piped.test.js'], { NETSAN: mode })
    assert.equal(run.code, 0, run.output)
    assert.equal(run.json?.numPassedTests, 4, run.output)
    const printed = run.output.match(/left 1 network resource open/g)?.length ?? 0
    assert.equal(printed, mode === 'warn' ? 2 : 0, run.output)
  })
}
