import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { FIXTURES, failedTests, framed, lineOf, runJest, testResult } from './run-jest.ts'

// Issue 13, "leaks are hidden" and its smaller items, on real Jest runs of fixtures/hidden.
const options = (o: unknown) => ({ NETSAN_FIXTURE_OPTIONS: JSON.stringify(o) })

describe('test.failing: a leak is not the failure the test expects', () => {
  test('a passing or failing body that leaks fails with netsan’s report; the clean twins keep Jest’s semantics', async () => {
    const run = await runJest('hidden', ['failing.test.js'])
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(failedTests(run), [
      'failing: fails on its own and leaks',
      'failing: passes, but leaks',
      'failing: passes, no leak',
    ])
    assert.equal(testResult(run, 'failing.test.js', 'failing: fails on its own, no leak').status, 'passed')

    const [jestOwn, leak] = testResult(run, 'failing.test.js', 'failing: passes, but leaks').failureMessages
    assert.match(jestOwn ?? '', /Failing test passed even though it was supposed to fail/)
    assert.match(leak ?? '', /netsan: test "failing: passes, but leaks" left 1 network resource open/)
    assert.ok(leak?.includes('(test.failing: a leak is not the failure it expects)'), leak)
    assert.ok(
      framed(leak ?? '', `failing.test.js:${lineOf('hidden', 'failing.test.js', 'LEAK:failing-pass')}`),
      leak,
    )

    const failed = testResult(run, 'failing.test.js', 'failing: fails on its own and leaks').failureMessages
    assert.equal(failed.length, 1, failed.join('\n'))
    assert.match(
      failed[0] ?? '',
      /netsan: test "failing: fails on its own and leaks" left 1 network resource open/,
    )
    assert.ok(failed[0]?.includes('(test.failing: a leak is not the failure it expects)'), failed[0])
    assert.ok(
      framed(failed[0] ?? '', `failing.test.js:${lineOf('hidden', 'failing.test.js', 'LEAK:failing-fail')}`),
    )

    const twin = testResult(run, 'failing.test.js', 'failing: passes, no leak').failureMessages.join('\n')
    assert.match(twin, /Failing test passed even though it was supposed to fail/)
    // 'netsan:', not 'netsan': the checkout's path may hold the word (a clone named netsan).
    assert.doesNotMatch(twin, /netsan:/)
  })

  test("mode 'warn': the leaks are printed and test.failing keeps its meaning", async () => {
    const run = await runJest('hidden', ['failing.test.js'], options({ mode: 'warn' }))
    assert.deepEqual(failedTests(run), ['failing: passes, but leaks', 'failing: passes, no leak'])
    assert.match(run.output, /netsan: test "failing: passes, but leaks" left 1 network resource open/)
    assert.match(
      run.output,
      /netsan: test "failing: fails on its own and leaks" left 1 network resource open/,
    )
  })
})

const NETSAN = path.resolve(FIXTURES, '../../core/bin/netsan.js')
const SECRET_NAMES = [
  'jwt',
  'x-api-key',
  'api_token',
  'auth_token',
  'access-token',
  'accessToken',
  'sessionToken',
]
SECRET_NAMES.push('client-secret', 'id-token', 'X-Goog-Signature', 'X-Goog-Credential', 'AWSAccessKeyId')
SECRET_NAMES.push('sas', 'otp', 'token_hash')

/** No secret value anywhere; each name shown with `***`. */
function assertRedacted(text: string, what: string): void {
  assert.doesNotMatch(text, /LEAKED\d+x|hunter2/, `${what} prints a secret:\n${text}`)
  for (const name of SECRET_NAMES)
    assert.ok(text.includes(`${name}=***`), `${what} lacks ${name}=***:\n${text}`)
}

describe('secrets in URLs never reach an output', () => {
  test('the failure messages, the JSON report, and netsan report in text, github, markdown and json', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-jest-secrets-'))
    try {
      const run = await runJest(
        'hidden',
        ['secrets.test.js'],
        options({ report: path.join(dir, 'netsan.json') }),
      )
      assert.equal(run.code, 1, run.output)
      const leaking = [
        'secrets: WebSocket with credentials in its URL left open',
        'secrets: fetch left in flight',
        'secrets: http.get with userinfo left in flight',
      ]
      assert.deepEqual(failedTests(run), leaking)
      for (const name of leaking) {
        const message = testResult(run, 'secrets.test.js', name).failureMessages.join('\n')
        assertRedacted(message, `the failure of "${name}"`)
      }
      const fetchLeak = testResult(
        run,
        'secrets.test.js',
        'secrets: fetch left in flight',
      ).failureMessages.join('\n')
      assert.match(
        fetchLeak,
        /GET http:\/\/127\.0\.0\.1:\d+\/v1\/items\?page=2&jwt=\*\*\*&.*#…, no response yet/,
      )
      assert.doesNotMatch(run.output, /LEAKED\d+x|hunter2/, run.output)

      const reports = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
      assert.ok(reports.length > 0, 'a JSON report was written')
      for (const f of reports) assertRedacted(fs.readFileSync(path.join(dir, f), 'utf8'), `report ${f}`)
      for (const format of ['text', 'github', 'markdown', 'json']) {
        const r = spawnSync(process.execPath, [NETSAN, 'report', dir, '--format', format], {
          encoding: 'utf8',
        })
        assert.equal(r.status, 1, r.stderr)
        assertRedacted(r.stdout + r.stderr, `netsan report --format ${format}`)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('settle within the runner’s timeouts (settleMs: 3000, tests of 300–1000 ms)', () => {
  test('no leak becomes a timeout, no leak waits past its timeout, a timeout loses nothing', async () => {
    const run = await runJest('hidden', ['timeout.test.js'], options({ settleMs: 3000 }))
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(failedTests(run), [
      'timeout: a test that times out keeps its timeout error and gets netsan’s report',
      'timeout: expectNoLeakedConnections() fails with the leak before the test times out',
      'timeout: leaks, and netsan waits no longer than its 400 ms timeout',
    ])
    const result = (name: string) => testResult(run, 'timeout.test.js', `timeout: ${name}`)
    const message = (name: string) => result(name).failureMessages.join('\n')
    const next = result('the next test starts without the whole settleMs having passed')
    assert.equal(next.status, 'passed', next.failureMessages.join('\n'))
    assert.match(message('leaks, and netsan waits no longer than its 400 ms timeout'), /open socket — /)

    const early = message('expectNoLeakedConnections() fails with the leak before the test times out')
    assert.match(early, /netsan: test "timeout: expectNoLeakedConnections\(\) fails/)
    assert.doesNotMatch(early, /Exceeded timeout/)

    const timedOut = message('a test that times out keeps its timeout error and gets netsan’s report')
    assert.match(timedOut, /Exceeded timeout of 300 ms for a test/)
    assert.match(timedOut, /in-flight request — GET http:\/\/127\.0\.0\.1:/)
    assert.ok(framed(timedOut, `timeout.test.js:${lineOf('hidden', 'timeout.test.js', 'LEAK:timeout-hang')}`))

    const twin = result('a socket destroyed 150 ms after the test ends is not a leak')
    assert.equal(twin.status, 'passed', twin.failureMessages.join('\n'))
  })
})
