import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { failedTests, fileResult, framed, type JestRun, lineOf, runJest, testResult } from './run-jest.ts'

// The handle kinds (kinds: ['network', 'handles']) on real Jest 30: one run over fixtures/handles.
const LEAKS: [file: string, test: string, words: string, marker: string, description: RegExp][] = [
  [
    'timer.test.js',
    'timer: interval leaks',
    'active timer',
    'interval',
    /setInterval\(heartbeat, 1000 ms\), never cleared/,
  ],
  [
    'timer.test.js',
    'timer: timeout leaks',
    'active timer',
    'timeout',
    /setTimeout\(expireSession, 30000 ms\), still pending \(due in 29\.\d s\)/,
  ],
  [
    'timer.test.js',
    'timer: poll loop leaks',
    'active timer',
    'poll',
    /setTimeout\(poll, 10 ms\), re-armed \d+ times from its own callback/,
  ],
  [
    'child.test.js',
    'child: leaks',
    'running child process',
    'child',
    /node -e setInterval\(\(\) => \{\}, 1000\) \(pid \d+\), still running/,
  ],
  ['watcher.test.js', 'watcher: leaks', 'active file watcher', 'watcher', /fs\.watch\(".+"\), never closed/],
  ['worker.test.js', 'worker: leaks', 'running worker thread', 'worker', /worker thread \d+, still running/],
  [
    'file.test.js',
    'file: leaks',
    'open file',
    'file',
    /FileHandle of ".*file\.test\.js" \(fd \d+\), never closed/,
  ],
  [
    'concurrent.test.js',
    'concurrent: timer leaks',
    'active timer',
    'concurrent',
    /setInterval\(fn, 1000 ms\)/,
  ],
  [
    'fake-timers.test.js',
    'fake timers: restored, a real interval leaks',
    'active timer',
    'fake-restored',
    /setInterval/,
  ],
]

const PASS: [file: string, test: string][] = [
  ['timer.test.js', 'timer: interval fixed'],
  ['timer.test.js', 'timer: timeout due within settleMs is waited for'],
  ['timer.test.js', 'timer: unref interval is not a leak'],
  ['child.test.js', 'child: fixed'],
  ['watcher.test.js', 'watcher: fixed'],
  ['worker.test.js', 'worker: fixed'],
  ['file.test.js', 'file: fixed'],
  ['concurrent.test.js', 'concurrent: timer clean'],
  [
    'fake-timers.test.js',
    'fake timers: an interval under jest.useFakeTimers, still installed at the check, is no handle',
  ],
  ['hooks.test.js', 'hooks: a handle from beforeAll is not the first test’s'],
  ['hooks.test.js', 'hooks: nor the second test’s'],
  ['library.test.js', 'library: starts its poller in a test, closed in afterAll'],
  ['library-leak.test.js', 'library: poller started here, never closed: the file fails, not the test'],
]

describe('handle kinds on Jest 30 (fixtures/handles)', () => {
  let run: JestRun
  before(async () => {
    run = await runJest('handles')
  })

  test('exactly the leaking tests fail, each with its kind, its creating line and the fix', () => {
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(failedTests(run), LEAKS.map(([, name]) => name).sort())
    for (const [file, name, words, marker, description] of LEAKS) {
      const message = testResult(run, file, name).failureMessages.join('\n')
      assert.match(
        message,
        new RegExp(`LeakError: netsan: test "${name.replace(/[()]/g, '\\$&')}" left 1 resource open`),
      )
      assert.ok(message.includes(`✖ ${words} — `), message)
      assert.match(message, description)
      assert.ok(framed(message, `at ${file}:${lineOf('handles', file, `LEAK:${marker}`)}`), message)
      assert.ok(message.includes('fix: '), message)
    }
  })

  test('every fixed twin passes; fake timers, unref, beforeAll handles closed in afterAll are no leak', () => {
    for (const [file, name] of PASS) assert.equal(testResult(run, file, name).status, 'passed', name)
    assert.equal(fileResult(run, 'hooks.test.js').message, '')
    assert.equal(fileResult(run, 'library.test.js').message, '')
  })

  test("a library's poller started in a test and never stopped fails the file, naming the test", () => {
    const message = fileResult(run, 'library-leak.test.js').message
    assert.ok(message.includes('netsan: file "library-leak.test.js" left 1 resource open'), message)
    assert.ok(message.includes('✖ active timer — setInterval(fn, 1000 ms), never cleared'), message)
    assert.ok(
      framed(message, `at library-leak.test.js:${lineOf('handles', 'library-leak.test.js', 'LEAK:library')}`),
      message,
    )
    assert.ok(
      message.includes('opened in: library: poller started here, never closed: the file fails, not the test'),
      message,
    )
  })
})
