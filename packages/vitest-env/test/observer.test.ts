import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { lineOf, packageDir, runVitest, type VitestRun } from './run-vitest.ts'

const CLI = path.resolve(packageDir, '../core/src/cli/main.ts')

// netsan is an invisible observer (DESIGN.md): the same suite gives the same outcome with netsan off
// (the plain 'node' environment), in warn and in fail, except for the verdict on a real leak.
const OFF = { NETSAN_FIXTURE_ENVIRONMENT: 'node' }
const WARN = { NETSAN: 'warn' }
const FAIL = {}

/** What the runner decided: exit code and every test's status, by name. */
function outcome(run: VitestRun): { code: number | null; tests: Record<string, string> } {
  const tests: Record<string, string> = {}
  for (const [name, t] of [...run.tests].sort(([a], [b]) => a.localeCompare(b))) tests[name] = t.status
  return { code: run.code, tests }
}

describe('vitest: netsan changes no outcome', () => {
  test('client patterns (fire-and-forget http.get, listener counts, EADDRINUSE with a listener, a server reused 15 times, an aborted fetch): green in every mode', async () => {
    const runs = []
    for (const env of [OFF, WARN, FAIL]) runs.push(await runVitest('observer', { env, args: ['patterns'] }))
    const [off, warn, fail] = runs.map((r) => r!)
    assert.equal(off!.code, 0, off!.output)
    assert.equal(off!.tests.size, 20)
    assert.deepEqual(outcome(warn!), outcome(off!), warn!.output)
    assert.deepEqual(outcome(fail!), outcome(off!), fail!.output)
    assert.ok(!fail!.output.includes('MaxListenersExceededWarning'), fail!.output)
  })

  test('listen() on a used port with no error listener: EADDRINUSE fails the run in every mode', async () => {
    for (const env of [OFF, WARN, FAIL]) {
      const run = await runVitest('observer', { env, args: ['eaddrinuse'] })
      assert.equal(run.code, 1, `${JSON.stringify(env)}\n${run.output}`)
      assert.match(run.output, /EADDRINUSE/, run.output)
    }
  })

  test('warn mode cleans nothing up: a server one test leaves open still serves the next, as without netsan', async () => {
    const off = await runVitest('observer', { env: OFF, args: ['left-open'] })
    assert.equal(off.code, 0, off.output)
    const warn = await runVitest('observer', { env: WARN, args: ['left-open'] })
    assert.deepEqual(outcome(warn), outcome(off), warn.output)
    // A server is judged at its file's end, naming the test that started it.
    assert.ok(
      warn.output.includes('netsan: file "left-open.test.ts" left 1 network resource open'),
      warn.output,
    )
    assert.ok(warn.output.includes('opened in: starts a server and forgets it'), warn.output)
    assert.ok(warn.output.includes(lineOf('observer', 'left-open.test.ts', '// LEFT OPEN')), warn.output)
    // fail: the file fails at its end; until then the server serves the next test, as without netsan
    const fail = await runVitest('observer', { env: FAIL, args: ['left-open'] })
    assert.equal(fail.code, 1)
    assert.deepEqual(fail.failed, [], fail.output)
    assert.equal(fail.files.get('left-open.test.ts')?.status, 'failed', fail.output)
  })

  test('a leaked fetch with retry logic: cleanup aborts it with an AbortError, the client does not send it again, no file-level leak follows', async () => {
    const fail = await runVitest('observer', { env: FAIL, args: ['retry'] })
    assert.deepEqual(fail.failed, ['leaves a retrying fetch in flight'], fail.output)
    assert.equal(fail.tests.get('the retrying client did not send it again')?.status, 'passed', fail.output)
    assert.ok(fail.output.includes(lineOf('observer', 'retry.test.ts', '// LEAKED FETCH')), fail.output)
    assert.ok(!fail.output.includes('netsan: file "retry.test.ts"'), fail.output)
    const off = await runVitest('observer', { env: OFF, args: ['retry'] })
    assert.equal(off.code, 0, off.output)
  })
})

describe('vitest isolate: false — a module-level singleton shared by files', () => {
  const SHARED = ['a uses the shared server', 'b uses the shared server', 'c uses the shared server']

  for (const pool of ['forks', 'threads']) {
    test(`${pool}: files b and c still reach the server a's import created; it is reported once, at the worker's end, as a warning`, async () => {
      const env = { NETSAN_FIXTURE_POOL: pool }
      const off = await runVitest('singleton', { env: { ...env, ...OFF }, args: ['a', 'b', 'c'] })
      assert.equal(off.code, 0, off.output)
      for (const mode of [WARN, FAIL]) {
        const run = await runVitest('singleton', { env: { ...env, ...mode }, args: ['a', 'b', 'c'] })
        assert.deepEqual(outcome(run), outcome(off), run.output)
        assert.equal(
          run.output.split("netsan: modules shared by this worker's files left 1 network resource open")
            .length,
          2,
          run.output,
        )
        assert.ok(run.output.includes(lineOf('singleton', 'shared.ts', '// SINGLETON').replace(/:\d+$/, '')))
        assert.ok(!run.output.includes('netsan: file "'), run.output)
      }
      assert.deepEqual(off.failed, [])
      assert.equal(off.tests.size, SHARED.length)
    })
  }

  for (const pool of ['forks', 'threads']) {
    test(`${pool}: the worker-end warning reaches the JSON report, and netsan report lists it as a warning (exit 0, as the run)`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-vitest-singleton-'))
      try {
        const report = path.join(dir, 'netsan.json')
        const run = await runVitest('singleton', {
          env: { NETSAN_FIXTURE_POOL: pool, NETSAN_FIXTURE_OPTIONS: JSON.stringify({ report }) },
          args: ['a', 'b', 'c'],
        })
        assert.equal(run.code, 0, run.output)
        assert.ok(run.output.includes("netsan: modules shared by this worker's files left 1"), run.output)
        const json = spawnSync(process.execPath, [CLI, 'report', dir, '--format', 'json'], {
          encoding: 'utf8',
        })
        assert.equal(json.status, 0, json.stdout + json.stderr)
        const s = JSON.parse(json.stdout)
        assert.equal(s.ok, true)
        assert.equal(s.tests, SHARED.length)
        assert.deepEqual(s.leaks, [])
        assert.deepEqual(
          s.workerEnd.map((l: { leak: { kind: string } }) => l.leak.kind),
          ['server'],
        )
        const text = spawnSync(process.execPath, [CLI, 'report', dir], { encoding: 'utf8' })
        assert.equal(text.status, 0, text.stdout + text.stderr)
        assert.match(text.stdout, /^Left open when a worker ended \(1 leak, warnings: /m)
        assert.ok(text.stdout.includes(lineOf('singleton', 'shared.ts', '// SINGLETON').replace(/:\d+$/, '')))
        assert.match(
          text.stdout,
          /netsan: OK — no leaks \(1 warning: left open by modules shared by a worker's files\)$/m,
        )
        const gh = spawnSync(process.execPath, [CLI, 'report', dir], {
          encoding: 'utf8',
          env: {
            ...process.env,
            GITHUB_ACTIONS: 'true',
            GITHUB_WORKSPACE: path.join(packageDir, 'fixtures/singleton'),
          },
        })
        assert.equal(gh.status, 0, gh.stdout + gh.stderr)
        assert.match(
          gh.stdout,
          /^::warning file=shared\.ts,line=\d+,col=\d+,title=netsan \(worker end\)%3A listening server::/m,
        )
        assert.doesNotMatch(gh.stdout, /::error/)
      } finally {
        fs.rmSync(dir, { recursive: true, force: true })
      }
    })
  }

  test("the test file's own module-level server is still that file's leak under isolate: false", async () => {
    const run = await runVitest('singleton', { args: ['d'] })
    assert.equal(run.code, 1, run.output)
    assert.ok(run.output.includes('netsan: file "d.test.ts" left 1 network resource open'), run.output)
    assert.ok(run.output.includes(lineOf('singleton', 'd.test.ts', '// OWN')), run.output)
  })

  test('isolate: true: every file imports its own copy of the module, so each file leaks its own server', async () => {
    const run = await runVitest('singleton', { env: { NETSAN_FIXTURE_ISOLATE: '1' }, args: ['a', 'b', 'c'] })
    assert.equal(run.code, 1, run.output)
    for (const f of ['a', 'b', 'c'])
      assert.ok(run.output.includes(`netsan: file "${f}.test.ts" left 1 network resource open`), run.output)
    assert.ok(!run.output.includes('modules shared by this worker'), run.output)
  })
})
