import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { failedTests, lineOf, runJest, testResult } from './run-jest.ts'

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
      leak?.includes(`failing.test.js:${lineOf('hidden', 'failing.test.js', 'LEAK:failing-pass')}:`),
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
      failed[0]?.includes(`failing.test.js:${lineOf('hidden', 'failing.test.js', 'LEAK:failing-fail')}:`),
    )

    const twin = testResult(run, 'failing.test.js', 'failing: passes, no leak').failureMessages.join('\n')
    assert.match(twin, /Failing test passed even though it was supposed to fail/)
    assert.doesNotMatch(twin, /netsan/)
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
