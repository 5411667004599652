import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { KIND_WORDS } from 'netsan'
import { framed, lineOf, packageDir, runVitest } from './run-vitest.ts'

// Issue 13, "leaks are hidden" and its smaller items, on real Vitest runs of fixtures/hidden.
const options = (o: unknown) => ({ NETSAN_FIXTURE_OPTIONS: JSON.stringify(o) })

describe('test.fails: a leak is not the failure the test expects', () => {
  test('a passing or failing body that leaks fails with netsan’s report; the clean twins keep Vitest’s semantics', async () => {
    const run = await runVitest('hidden', { args: ['fails.test.ts'] })
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(run.failed, [
      'fails: fails on its own and leaks',
      'fails: passes, but leaks',
      'fails: passes, no leak',
    ])
    assert.equal(run.tests.get('fails: fails on its own, no leak')?.status, 'passed')

    const passed = run.tests.get('fails: passes, but leaks')?.failureMessages.join('\n') ?? ''
    assert.match(passed, /^LeakError: netsan: test "fails: passes, but leaks" left 1 network resource open/)
    assert.ok(
      passed.includes('(test.fails: the test passed, and a leak is not the failure it expects either)'),
      passed,
    )
    assert.ok(passed.includes(`✖ ${KIND_WORDS.socket} — `), passed)
    assert.ok(framed(passed, `at ${lineOf('hidden', 'fails.test.ts', '// LEAK fails-pass')}`), passed)

    const failed = run.tests.get('fails: fails on its own and leaks')?.failureMessages.join('\n') ?? ''
    assert.ok(
      failed.includes('netsan: test "fails: fails on its own and leaks" left 1 network resource open'),
      failed,
    )
    assert.ok(
      failed.includes('(test.fails: the test failed as expected, but a leak is not the failure it expects)'),
      failed,
    )
    assert.ok(framed(failed, `at ${lineOf('hidden', 'fails.test.ts', '// LEAK fails-fail')}`), failed)

    const twin = run.tests.get('fails: passes, no leak')?.failureMessages.join('\n') ?? ''
    assert.match(twin, /Expect test to fail/)
    // 'netsan:', not 'netsan': the checkout's path may hold the word (a clone named netsan).
    assert.ok(!twin.includes('netsan:'), twin)
    // The report is printed, not only recorded.
    assert.ok(
      run.output.includes('netsan: test "fails: passes, but leaks" left 1 network resource open'),
      run.output,
    )
  })

  test("mode 'warn': the leaks are printed and test.fails keeps its meaning", async () => {
    const run = await runVitest('hidden', { args: ['fails.test.ts'], env: options({ mode: 'warn' }) })
    assert.deepEqual(run.failed, ['fails: passes, but leaks', 'fails: passes, no leak'])
    assert.equal(run.tests.get('fails: fails on its own and leaks')?.status, 'passed')
    assert.ok(
      run.output.includes('netsan: test "fails: passes, but leaks" left 1 network resource open'),
      run.output,
    )
    assert.ok(
      run.output.includes('netsan: test "fails: fails on its own and leaks" left 1 network resource open'),
      run.output,
    )
  })
})

const NETSAN = path.resolve(packageDir, '../core/bin/netsan.js')
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
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-vitest-secrets-'))
    try {
      const run = await runVitest('hidden', {
        args: ['secrets.test.ts'],
        env: options({ report: path.join(dir, 'netsan.json') }),
      })
      assert.equal(run.code, 1, run.output)
      const leaking = [
        'secrets: WebSocket with credentials in its URL left open',
        'secrets: fetch left in flight',
        'secrets: http.get with userinfo left in flight',
      ]
      assert.deepEqual(run.failed, leaking)
      for (const name of leaking) {
        assertRedacted(run.tests.get(name)?.failureMessages.join('\n') ?? '', `the failure of "${name}"`)
      }
      const fetchLeak = run.tests.get('secrets: fetch left in flight')?.failureMessages.join('\n') ?? ''
      assert.match(
        fetchLeak,
        /GET http:\/\/127\.0\.0\.1:\d+\/v1\/items\?page=2&jwt=\*\*\*&.*#…, no response yet/,
      )
      const ws = run.tests.get('secrets: WebSocket with credentials in its URL left open')?.failureMessages
      assert.match(ws?.join('\n') ?? '', /ws:\/\/127\.0\.0\.1:\d+\/feed\?jwt=\*\*\*&/)
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
    const run = await runVitest('hidden', { args: ['timeout.test.ts'], env: options({ settleMs: 3000 }) })
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(run.failed, [
      'timeout: a test that times out keeps its timeout error and gets netsan’s report',
      'timeout: expectNoLeakedConnections() fails with the leak before the test times out',
      'timeout: leaks, and netsan waits no longer than its 400 ms timeout',
    ])
    const message = (name: string) => run.tests.get(`timeout: ${name}`)?.failureMessages.join('\n') ?? ''
    const next = run.tests.get('timeout: the next test starts without the whole settleMs having passed')
    assert.equal(next?.status, 'passed', next?.failureMessages.join('\n'))
    assert.ok(
      message('leaks, and netsan waits no longer than its 400 ms timeout').includes(
        `${KIND_WORDS.socket} — `,
      ),
    )

    const early = message('expectNoLeakedConnections() fails with the leak before the test times out')
    assert.match(early, /^LeakError: netsan: test "timeout: expectNoLeakedConnections\(\) fails/)
    assert.doesNotMatch(early, /timed out/)

    const timedOut = message('a test that times out keeps its timeout error and gets netsan’s report')
    assert.match(timedOut, /Test timed out in 300ms/)
    assert.ok(timedOut.includes(`${KIND_WORDS.request} — GET ${'http://127.0.0.1:'}`), timedOut)
    assert.ok(framed(timedOut, `${lineOf('hidden', 'timeout.test.ts', '// LEAK timeout-hang')}`), timedOut)

    const twin = run.tests.get('timeout: a socket destroyed 150 ms after the test ends is not a leak')
    assert.equal(twin?.status, 'passed', twin?.failureMessages.join('\n'))
  })
})
