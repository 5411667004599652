import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { failedTests, framed, lineOf, runJest } from './run-jest.ts'

// fixtures/hangs: application code starts a 1 s setInterval that a test never stops. Without netsan,
// Jest prints "did not exit one second after the test run has completed" and never exits: each run
// here is killed after HANG_MS; a run that ends by itself does so with an exit code (not killed).
// Long enough for a loaded CI machine to start Jest, run and print Jest's warning (1 s after the run).
const HANG_MS = 8000
// A run that must end by itself gets more: if it hangs, it fails as killed (code null), only later.
const ENDS_MS = 60_000
const JEST_HANGS = 'Jest did not exit one second after the test run has completed'

function run(env: 'node' | 'netsan', kinds: string, args: string[], timeoutMs = HANG_MS) {
  return runJest('hangs', args, { HANG_ENV: env, HANG_KINDS: kinds }, timeoutMs)
}

describe('why Jest does not exit (fixtures/hangs)', () => {
  test('without netsan: Jest hangs after the run, with its bare warning', async () => {
    const r = await run('node', 'network', ['poller'])
    assert.equal(r.code, null, 'killed: it never exited by itself')
    assert.ok(r.output.includes(JEST_HANGS), r.output)
  })

  test('netsan, default kinds: it says a timer keeps the process alive and which kind records where', async () => {
    const r = await run('netsan', 'network', ['poller'])
    assert.equal(r.code, null, 'killed: netsan does not record timers unless asked')
    assert.match(
      r.output,
      /netsan: Jest is done with this process \(pid \d+\), but 1 handle still keeps it alive/,
    )
    assert.ok(r.output.includes("1 timer (Node: Timeout) — add 'timer' to the option kinds"), r.output)
    assert.ok(r.output.indexOf('netsan: Jest is done') < r.output.indexOf(JEST_HANGS), 'before Jest')
  })

  test('netsan, timer kind: the test fails at the creating line, cleanup clears it, Jest exits by itself', async () => {
    const r = await run('netsan', 'network,timer', ['poller'], ENDS_MS)
    assert.equal(r.code, 1, r.output)
    assert.deepEqual(failedTests(r), ['polls prices'])
    assert.ok(r.output.includes('✖ active timer — setInterval(fn, 1000 ms), never cleared'), r.output)
    assert.ok(
      r.output.includes(`at startPolling (poller.js:${lineOf('hangs', 'poller.js', 'LEAK:poller')}:`),
      r.output,
    )
    assert.ok(!r.output.includes(JEST_HANGS), r.output)
  })

  test('netsan, timer allowed: the test passes; after the run netsan names the handle, its line and test, and clears it', async () => {
    const r = await run('netsan', 'network,timer', ['allowed'], ENDS_MS)
    assert.equal(r.code, 0, r.output)
    const diagnosis = r.output.slice(r.output.indexOf('netsan: Jest is done with this process'))
    assert.ok(diagnosis.includes('✖ active timer — setInterval(fn, 1000 ms), never cleared'), r.output)
    assert.ok(
      framed(diagnosis, `at startPolling (poller.js:${lineOf('hangs', 'poller.js', 'LEAK:poller')})`),
      r.output,
    )
    assert.ok(
      diagnosis.includes('opened in: test "polls prices for the whole run, on purpose" (allowed.test.js)'),
      r.output,
    )
    assert.ok(diagnosis.includes('netsan closed the handle it recorded (option cleanup)'), r.output)
    assert.ok(!r.output.includes(JEST_HANGS), r.output)
  })

  test('in workers: the worker that holds the timer says so before Jest would force it out', async () => {
    // No timings cache, two files, two workers: Jest runs them in jest-worker child processes (slower
    // to start: no transform cache either). Jest forces a worker out 500 ms after asking it to end.
    const r = await run('netsan', 'network,timer', ['--no-cache', 'allowed', 'slow'], ENDS_MS)
    assert.equal(r.code, 0, r.output)
    assert.ok(r.output.includes('netsan: Jest is done with this process'), r.output)
    assert.ok(r.output.includes('opened in: test "polls prices for the whole run, on purpose"'), r.output)
    assert.ok(!r.output.includes('A worker process has failed to exit gracefully'), r.output)
    const plain = await run('netsan', 'network', ['--no-cache', 'allowed', 'slow'], ENDS_MS)
    assert.ok(
      plain.output.includes("1 timer (Node: Timeout) — add 'timer' to the option kinds"),
      plain.output,
    )
    assert.ok(plain.output.includes('A worker process has failed to exit gracefully'), plain.output)
  })
})
