import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { KIND_WORDS, type LeakKind } from 'netsan'
import { framed, lineOf, runVitest, type VitestRun } from './run-vitest.ts'

// One Vitest run over the whole suite; every assertion below reads its results.
let run: VitestRun
before(async () => {
  run = await runVitest('kinds')
})

// Judged at the end of their test. A server is judged at the end of its file (below).
const KINDS: LeakKind[] = ['body', 'request', 'socket', 'idle', 'http2', 'websocket']

describe('vitest-environment-netsan on real Vitest (kinds suite)', () => {
  test('the run fails, and exactly the leaking tests fail', () => {
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(
      run.failed,
      [
        ...KINDS.map((k) => `${k} leaks`),
        'assertion fails and leaks',
        'assertion fails, nothing leaks',
        'concurrent leaks',
        'fake timers, leaks',
        'global websocket leaks',
        'hooks beforeEach leak belongs to the test',
        'undici small body leaks',
        'undici websocket leaks',
      ].sort(),
    )
  })

  for (const kind of KINDS) {
    test(`${kind}: the leak fails its test with netsan's report at the creating line; the fixed twin passes`, () => {
      const leak = run.tests.get(`${kind} leaks`)
      assert.ok(leak, `no result for "${kind} leaks"`)
      assert.equal(leak.failureMessages.length, 1)
      const message = leak.failureMessages[0]!
      assert.match(
        message,
        new RegExp(`^LeakError: netsan: test "${kind} leaks" left 1 network resource open`),
      )
      assert.ok(message.includes(`✖ ${KIND_WORDS[kind]} — `), message)
      assert.ok(framed(message, `at ${lineOf('kinds', `${kind}.test.ts`, `// LEAK ${kind}`)}`), message)
      assert.ok(message.includes('fix: '), message)
      assert.equal(run.tests.get(`${kind} fixed`)?.status, 'passed')
    })
  }

  test('a fetch left in flight without a signal is reported as such (the fixed twin aborts its own)', () => {
    const message = run.tests.get('request leaks')?.failureMessages[0] ?? ''
    assert.match(
      message,
      new RegExp(
        `${KIND_WORDS.request} — GET http://127\\.0\\.0\\.1:\\d+/hang, no response yet \\(no AbortSignal\\)`,
      ),
    )
  })

  test("npm undici: a small body that app code never read (bodies: 'app'), and a WebSocket never closed", () => {
    const body = run.tests.get('undici small body leaks')?.failureMessages[0] ?? ''
    assert.ok(body.includes(`✖ ${KIND_WORDS.body} — GET http://127.0.0.1:`), body)
    assert.ok(body.includes('→ 200, body never read (buffered whole)'), body)
    assert.ok(framed(body, `at statusOf (${lineOf('kinds', 'app-client.ts', '// LEAK app body')}`), body)
    assert.equal(run.tests.get('undici small body fixed')?.status, 'passed')
    const ws = run.tests.get('undici websocket leaks')?.failureMessages[0] ?? ''
    assert.ok(ws.includes(`✖ ${KIND_WORDS.websocket} — ws://127.0.0.1:`), ws)
    assert.ok(ws.includes('(open)'), ws)
    assert.ok(framed(ws, `${lineOf('kinds', 'undici.test.ts', '// LEAK undici websocket')}`), ws)
    assert.equal(run.tests.get('undici websocket fixed')?.status, 'passed')
  })

  test("Node's global WebSocket never closed fails its test at the creating line; closed, it passes", () => {
    const ws = run.tests.get('global websocket leaks')?.failureMessages[0] ?? ''
    assert.match(ws, /^LeakError: netsan: test "global websocket leaks" left 1 network resource open/)
    assert.ok(ws.includes(`✖ ${KIND_WORDS.websocket} — ws://127.0.0.1:`), ws)
    assert.ok(ws.includes('(open)'), ws)
    assert.ok(framed(ws, `at ${lineOf('kinds', 'websocket.test.ts', '// LEAK global websocket')}`), ws)
    assert.equal(run.tests.get('global websocket fixed')?.status, 'passed')
  })

  test('a server a test started and never closed fails its file at the end, naming the test and the line', () => {
    const file = run.files.get('server.test.ts')
    assert.equal(file?.status, 'failed')
    assert.equal(run.tests.get('server leaks')?.status, 'passed')
    assert.equal(run.tests.get('server fixed')?.status, 'passed')
    assert.ok(
      file.message.startsWith('netsan: file "server.test.ts" left 1 network resource open'),
      file.message,
    )
    assert.match(file.message, /✖ listening server — HTTP server on 127\.0\.0\.1:\d+, never closed\n/)
    assert.ok(framed(file.message, `at ${lineOf('kinds', 'server.test.ts', '// LEAK server')}`), file.message)
    assert.ok(file.message.includes('opened in: server leaks'), file.message)
  })

  test('a pool created in beforeAll and never closed fails the file, not the test', () => {
    const file = run.files.get('filelevel.test.ts')
    assert.equal(file?.status, 'failed')
    assert.equal(run.tests.get('uses the file agent')?.status, 'passed')
    assert.ok(
      file.message.includes('netsan: file "filelevel.test.ts" left 1 network resource open'),
      file.message,
    )
    assert.ok(file.message.includes(`✖ ${KIND_WORDS.idle} — `), file.message)
    assert.ok(
      framed(file.message, `${lineOf('kinds', 'filelevel.test.ts', '// LEAK filelevel')}`),
      file.message,
    )
    assert.ok(file.message.includes('opened in: uses the file agent'), file.message)
  })

  test('a lazily connecting library client closed in afterAll passes', () => {
    const file = run.files.get('library.test.ts')
    assert.equal(file?.status, 'passed', file?.message)
    assert.ok(file.assertionResults.every((t) => t.status === 'passed'))
  })

  test('test.concurrent: only the leaking one of two overlapping tests fails', () => {
    assert.equal(run.tests.get('concurrent clean')?.status, 'passed')
    const message = run.tests.get('concurrent leaks')?.failureMessages.join('\n') ?? ''
    assert.ok(message.includes(`✖ ${KIND_WORDS.socket} — `), message)
    assert.ok(message.includes(lineOf('kinds', 'concurrent.test.ts', '// LEAK concurrent')), message)
  })

  test("a test's own assertion failure is still reported; netsan adds its report after it", () => {
    const plain = run.tests.get('assertion fails, nothing leaks')!
    assert.equal(plain.failureMessages.length, 1)
    assert.match(plain.failureMessages[0]!, /^AssertionError: expected 2 to be 3/)
    const both = run.tests.get('assertion fails and leaks')!
    assert.equal(both.failureMessages.length, 2)
    assert.match(both.failureMessages[0]!, /^AssertionError: expected 'left' to be 'right'/)
    assert.match(both.failureMessages[1]!, /^LeakError: netsan: test "assertion fails and leaks"/)
    assert.ok(both.failureMessages[1]!.includes(lineOf('kinds', 'assertion.test.ts', '// LEAK assertion')))
  })

  test('beforeEach belongs to the test: its leak fails the test; cleanup in afterEach counts', () => {
    const message = run.tests.get('hooks beforeEach leak belongs to the test')?.failureMessages[0] ?? ''
    assert.ok(message.includes(lineOf('kinds', 'hooks.test.ts', '// LEAK hooks')), message)
    assert.equal(run.tests.get('hooks cleaned in afterEach afterEach cleanup counts')?.status, 'passed')
  })

  test('fake timers left on at the end of a test do not stop the check', () => {
    const message = run.tests.get('fake timers, leaks')?.failureMessages[0] ?? ''
    assert.ok(message.includes(lineOf('kinds', 'assertion.test.ts', '// LEAK faketimers')), message)
    assert.equal(run.tests.get('fake timers, clean')?.status, 'passed')
  })

  test("netsan's API in a test acts on that test's scope", () => {
    assert.equal(run.tests.get('allowLeaks lets this test keep a socket')?.status, 'passed')
    assert.equal(
      run.tests.get('expectNoLeakedConnections sees the open socket of this test')?.status,
      'passed',
    )
    assert.ok(run.output.includes('netsan: 1 leak allowed'), run.output)
    assert.ok(run.output.includes('the fixture keeps it on purpose'), run.output)
  })

  test('after leaking tests the run ends promptly (netsan closed what leaked)', () => {
    assert.ok(run.ms < 60_000, `took ${Math.round(run.ms)} ms`)
  })
})
