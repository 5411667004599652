import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { KIND_WORDS } from 'netsan'
import { framed, lineOf, runVitest, type VitestRun } from './run-vitest.ts'

// The misses of issue 14 on a real Vitest run (fixtures/recall): each leak fails its own test with the
// kind, what it was and the line that created it; its fixed twin passes.
let run: VitestRun
before(async () => {
  run = await runVitest('recall')
})

const LEAKS = [
  {
    test: 'empty body 204 leaks',
    kind: 'body',
    text: /GET http:\/\/127\.0\.0\.1:\d+\/nocontent → 204, empty body never consumed, holding its socket/,
    at: lineOf('recall', 'empty-body.test.ts', '// LEAK empty body'),
  },
  {
    test: 'empty body HEAD leaks',
    kind: 'body',
    text: /HEAD http:\/\/127\.0\.0\.1:\d+\/file → 200, empty body never consumed, holding its socket/,
    at: lineOf('recall', 'empty-body.test.ts', '// LEAK empty body'),
  },
  {
    test: 'undici fetch small body leaks',
    kind: 'body',
    text: /GET http:\/\/127\.0\.0\.1:\d+\/small → 200, 2048-byte body never read\n/,
    at: `fetchStatus (${lineOf('recall', 'app-client.ts', '// LEAK app fetch')}`,
  },
  {
    test: 'mocked fetch body leaks',
    kind: 'body',
    text: /GET http:\/\/api\.example\.test\/users → 200, body never read \(mocked by MockAgent\)/,
    at: `fetchStatus (${lineOf('recall', 'app-client.ts', '// LEAK app fetch')}`,
  },
  {
    test: 'mocked request body leaks',
    kind: 'body',
    text: /GET http:\/\/api\.example\.test\/users → 200, body never read \(mocked by MockAgent\)/,
    at: `requestStatus (${lineOf('recall', 'app-client.ts', '// LEAK app request')}`,
  },
  {
    test: 'node:http body never ended leaks',
    kind: 'request',
    text: /POST http:\/\/127\.0\.0\.1:\d+\/upload, request body never finished \(req\.end\(\) never called\), no response yet\n[\s\S]*fix: finish the request with req\.end\(\)/,
    at: lineOf('recall', 'unfinished.test.ts', '// LEAK no end'),
  },
  {
    test: 'undici body stream never ended leaks',
    kind: 'request',
    text: /POST http:\/\/127\.0\.0\.1:\d+\/upload, request body never finished \(its stream never ended\), no response yet\n[\s\S]*fix: end the request body stream/,
    at: lineOf('recall', 'unfinished.test.ts', '// LEAK undici no end'),
  },
  {
    test: 'response piped into a stream nobody reads leaks',
    kind: 'body',
    text: /GET http:\/\/127\.0\.0\.1:\d+\/big → 200, 1048576-byte body read only partly\n/,
    at: lineOf('recall', 'piped.test.ts', '// LEAK piped'),
  },
  {
    test: 'request with a mocked emit left in flight leaks',
    kind: 'request',
    text: /GET http:\/\/127\.0\.0\.1:\d+\/hang, no response yet\n/,
    at: `mockedRequest (${lineOf('recall', 'piped.test.ts', '// LEAK mocked')}`,
  },
] as const

describe('vitest-environment-netsan on real Vitest (recall suite)', () => {
  test('the run fails, and exactly the leaking tests fail', () => {
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(run.failed, LEAKS.map((l) => l.test).sort(), run.output)
  })

  for (const leak of LEAKS) {
    test(`${leak.test}: its report names the kind, what leaked and the creating line; the twin passes`, () => {
      const result = run.tests.get(leak.test)
      assert.ok(result, `no result for "${leak.test}"`)
      assert.equal(result.failureMessages.length, 1)
      const message = result.failureMessages[0]!
      assert.match(
        message,
        new RegExp(`^LeakError: netsan: test "${leak.test}" left 1 network resource open`),
      )
      assert.ok(message.includes(`✖ ${KIND_WORDS[leak.kind]} — `), message)
      assert.match(message, leak.text)
      assert.ok(framed(message, `at ${leak.at}`), `expected "at ${leak.at}" in\n${message}`)
      const twin = leak.test.replace(/ leaks$/, ' fixed')
      assert.equal(run.tests.get(twin)?.status, 'passed', twin)
    })
  }

  test('no unhandled error: the cleanup of each leak is a user abort, nothing is left to throw', () => {
    assert.doesNotMatch(run.output, /Unhandled (Rejection|Error)/)
  })
})

// The piped body and the mocked request, with netsan off and in warn: the code under test runs as it does
// without netsan (every test passes, expectNoLeakedConnections() too), and warn prints the same two leaks.
for (const mode of ['off', 'warn'] as const) {
  test(`piped.test.ts with NETSAN=${mode}: every test passes${mode === 'warn' ? ', the two leaks printed' : ''}`, async () => {
    const run = await runVitest('recall', { env: { NETSAN: mode }, args: ['piped.test.ts'] })
    assert.equal(run.code, 0, run.output)
    const passed = [...run.tests.values()].filter((t) => t.status === 'passed').length
    assert.equal(passed, 4, run.output)
    const printed = run.output.match(/left 1 network resource open/g)?.length ?? 0
    assert.equal(printed, mode === 'warn' ? 2 : 0, run.output)
  })
}
