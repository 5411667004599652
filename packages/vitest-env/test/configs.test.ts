import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { KIND_WORDS } from 'netsan'
import { framed, lineOf, runVitest } from './run-vitest.ts'

// Configurations the adapter promises: one Vitest run per configuration, on small fixture suites.
describe('vitest-environment-netsan configurations', () => {
  test('--shard=1/2 and --shard=2/2: together, exactly the leaking tests fail, each once', async () => {
    const shards = [
      await runVitest('modes', { args: ['--shard=1/2'] }),
      await runVitest('modes', { args: ['--shard=2/2'] }),
    ]
    for (const run of shards) {
      assert.equal(run.code, 1, run.output)
      assert.equal(run.files.size, 1, run.output)
    }
    const [first, second] = shards.map((run) => [...run.files.keys()])
    assert.notDeepEqual(first, second)
    const failed = shards.flatMap((run) => run.failed).sort()
    assert.deepEqual(failed, ['a leaks a socket', 'b leaks a body'])
    const passed = shards.flatMap((run) =>
      [...run.tests.values()].filter((t) => t.status === 'passed').map((t) => t.fullName),
    )
    assert.deepEqual(passed.sort(), ['a is clean', 'b is clean'])
    const a = shards.find((run) => run.tests.has('a leaks a socket'))!
    const message = a.tests.get('a leaks a socket')!.failureMessages.join('\n')
    assert.match(message, /^LeakError: netsan: test "a leaks a socket" left 1 network resource open/)
    assert.ok(framed(message, `at ${lineOf('modes', 'a.test.ts', '// LEAK a')}`), message)
  })

  for (const base of ['jsdom', 'happy-dom']) {
    test(`base '${base}': the DOM is there, a leak fails with netsan's report, the fixed twin passes`, async () => {
      const run = await runVitest('dom', { env: { NETSAN_FIXTURE_BASE: base } })
      assert.equal(run.code, 1, run.output)
      assert.equal(run.tests.get('the base environment made the DOM')?.status, 'passed', run.output)
      const leak = run.tests.get('dom leaks a socket')
      assert.equal(leak?.failureMessages.length, 1, run.output)
      const message = leak.failureMessages[0]!
      assert.match(message, /^LeakError: netsan: test "dom leaks a socket" left 1 network resource open/)
      assert.ok(message.includes(`✖ ${KIND_WORDS.socket} — `), message)
      assert.ok(framed(message, `at ${lineOf('dom', 'dom.test.ts', '// LEAK dom-socket')}`), message)
      assert.equal(run.tests.get('dom socket fixed')?.status, 'passed')
      assert.equal(run.tests.get('dom fetch body read')?.status, 'passed')
      if (base === 'jsdom') {
        // jsdom has no fetch of its own: the test's fetch is Node's, and its unread body is a leak.
        assert.deepEqual(run.failed, ['dom fetch body left unread', 'dom leaks a socket'])
        const body = run.tests.get('dom fetch body left unread')!.failureMessages.join('\n')
        assert.ok(body.includes(`✖ ${KIND_WORDS.body} — `), body)
        assert.ok(body.includes(lineOf('dom', 'dom.test.ts', '// LEAK dom-body')), body)
      } else {
        // happy-dom's own fetch reads the response and closes its connection: nothing is left open.
        assert.deepEqual(run.failed, ['dom leaks a socket'])
      }
    })
  }
})
