import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { framed, lineOf, runVitest } from './run-vitest.ts'

// A test starts a child process that shares the worker's stdout (stdio: 'inherit') and walks away; it
// runs 12 s. Vitest cannot stop the worker before the child ends: the run takes the child's 12 s and ends
// with "[vitest-pool]: Timeout terminating forks worker" (teardownTimeout 1 s here). 12 s, so that a run
// that ends by itself stays clearly shorter on a loaded CI machine too.
const CHILD_MS = 12_000
const VITEST_WAITS = '[vitest-pool]: Timeout terminating forks worker'

function run(env: 'node' | 'netsan', kinds: string, file: string) {
  return runVitest('exit', { env: { EXIT_ENV: env, EXIT_KINDS: kinds }, args: [file] })
}

describe('why Vitest cannot stop its worker (exit suite)', () => {
  test('without netsan: Vitest waits for the child, with its bare warning', async () => {
    const r = await run('node', 'network', 'dev-server')
    assert.equal(r.code, 0, r.output)
    assert.ok(r.ms >= CHILD_MS - 200, `ended after ${r.ms} ms`)
    assert.ok(r.output.includes(VITEST_WAITS), r.output)
  })

  test('netsan, default kinds: it says a child process holds the worker, and which kind records where', async () => {
    const r = await run('netsan', 'network', 'dev-server')
    assert.equal(r.code, 0, r.output)
    assert.match(
      r.output,
      /netsan: Vitest is done with this worker \(pid \d+\), but a child process it started still runs/,
    )
    assert.ok(
      r.output.includes("1 child process (Node: ProcessWrap) — add 'child' to the option kinds"),
      r.output,
    )
    assert.ok(r.ms >= CHILD_MS - 200, `ended after ${r.ms} ms`)
  })

  test('netsan, child kind: the test fails at the spawn line, the child is killed, the run ends by itself', async () => {
    const r = await run('netsan', 'network,child', 'dev-server')
    assert.equal(r.code, 1, r.output)
    assert.deepEqual(r.failed, ['starts a dev server and walks away'])
    const message = r.tests.get('starts a dev server and walks away')!.failureMessages[0]!
    assert.ok(message.includes('✖ running child process — '), message)
    assert.ok(framed(message, `at ${lineOf('exit', 'dev-server.test.ts', '// LEAK dev-server')}`), message)
    assert.ok(!r.output.includes(VITEST_WAITS), r.output)
    assert.ok(r.ms < CHILD_MS, `ended after ${r.ms} ms`)
  })

  test('netsan, child allowed: the test passes; at the end netsan names the child, its line and test, and stops it', async () => {
    const r = await run('netsan', 'network,child', 'allowed')
    assert.equal(r.code, 0, r.output)
    const at = `at ${lineOf('exit', 'allowed.test.ts', '// LEAK allowed')}`
    const diagnosis = r.output.slice(r.output.indexOf('netsan: Vitest is done with this worker'))
    assert.ok(diagnosis.includes('✖ running child process — '), r.output)
    assert.ok(framed(diagnosis, at), r.output)
    assert.ok(
      diagnosis.includes(
        'opened in: test "starts a dev server for the whole file, on purpose" (allowed.test.ts)',
      ),
      r.output,
    )
    assert.ok(diagnosis.includes('netsan closed the handle it recorded (option cleanup)'), r.output)
    assert.ok(!r.output.includes(VITEST_WAITS), r.output)
    assert.ok(r.ms < CHILD_MS, `ended after ${r.ms} ms`)
  })
})
