import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { KIND_WORDS } from 'netsan'
import { lineOf, runVitest } from './run-vitest.ts'

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
    assert.ok(passed.includes(`at ${lineOf('hidden', 'fails.test.ts', '// LEAK fails-pass')}:`), passed)

    const failed = run.tests.get('fails: fails on its own and leaks')?.failureMessages.join('\n') ?? ''
    assert.ok(
      failed.includes('netsan: test "fails: fails on its own and leaks" left 1 network resource open'),
      failed,
    )
    assert.ok(
      failed.includes('(test.fails: the test failed as expected, but a leak is not the failure it expects)'),
      failed,
    )
    assert.ok(failed.includes(`at ${lineOf('hidden', 'fails.test.ts', '// LEAK fails-fail')}:`), failed)

    const twin = run.tests.get('fails: passes, no leak')?.failureMessages.join('\n') ?? ''
    assert.match(twin, /Expect test to fail/)
    assert.ok(!twin.includes('netsan'), twin)
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
