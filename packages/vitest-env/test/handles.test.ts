import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { KIND_WORDS, type LeakKind } from 'netsan'
import { framed, lineOf, runVitest, type VitestRun } from './run-vitest.ts'

// The handle kinds (kinds: ['network', 'handles']) on real Vitest: forks (the default) and threads.
const LEAKS: [test: string, kind: LeakKind, file: string, marker: string, description: RegExp][] = [
  [
    'timer interval leaks',
    'timer',
    'timer.test.ts',
    'interval',
    /setInterval\(heartbeat, 1000 ms\), never cleared/,
  ],
  [
    'timer timeout leaks',
    'timer',
    'timer.test.ts',
    'timeout',
    /setTimeout\(expireSession, 30000 ms\), still pending \(due in 29\.\d s\)/,
  ],
  [
    'timer poll loop leaks',
    'timer',
    'timer.test.ts',
    'poll',
    /setTimeout\(poll, 10 ms\), re-armed \d+ times from its own callback, still pending/,
  ],
  [
    'child leaks',
    'child',
    'child.test.ts',
    'child',
    /node -e setInterval\(\(\) => \{\}, 1000\) \(pid \d+\), still running/,
  ],
  ['watcher leaks', 'watcher', 'watcher.test.ts', 'watcher', /fs\.watch\(".+"\), never closed/],
  ['worker leaks', 'worker', 'worker.test.ts', 'worker', /worker thread \d+, still running/],
  ['file leaks', 'file', 'file.test.ts', 'file', /FileHandle of ".*file\.test\.ts" \(fd \d+\), never closed/],
  [
    'concurrent timer leaks',
    'timer',
    'concurrent.test.ts',
    'concurrent',
    /setInterval\(fn, 1000 ms\), never cleared/,
  ],
  [
    'fake timers: restored, a real interval leaks',
    'timer',
    'fake-timers.test.ts',
    'fake-restored',
    /setInterval/,
  ],
]

const PASS = [
  'timer interval fixed',
  'timer timeout due within settleMs is waited for',
  'timer unref interval is not a leak',
  'child fixed',
  'watcher fixed',
  'worker fixed',
  'file fixed',
  'concurrent timer clean',
  'fake timers: an interval under vi.useFakeTimers, still installed at the check, is no handle',
  'hooks: a handle from beforeAll is not the first test’s',
  'hooks: nor the second test’s',
  'library starts its poller in a test, closed in afterAll',
  'library poller started here, never closed: the file fails, not the test',
]

for (const pool of ['forks', 'threads']) {
  describe(`handle kinds on real Vitest (handles suite, pool ${pool})`, () => {
    let run: VitestRun
    before(async () => {
      run = await runVitest('handles', { args: [`--pool=${pool}`] })
    })

    test('exactly the leaking tests fail, each with its kind, its creating line and the fix', () => {
      assert.equal(run.code, 1, run.output)
      assert.deepEqual(run.failed, LEAKS.map(([name]) => name).sort())
      for (const [name, kind, file, marker, description] of LEAKS) {
        const message = run.tests.get(name)?.failureMessages.join('\n') ?? ''
        assert.match(
          message,
          new RegExp(`^LeakError: netsan: test "${name.replace(/[()]/g, '\\$&')}" left 1 resource open`),
        )
        assert.ok(message.includes(`✖ ${KIND_WORDS[kind]} — `), message)
        assert.match(message, description)
        assert.ok(framed(message, `at ${lineOf('handles', file, `// LEAK ${marker}`)}`), message)
        assert.ok(message.includes('fix: '), message)
      }
    })

    test('every fixed twin passes; fake timers, unref, beforeAll handles closed in afterAll are no leak', () => {
      for (const name of PASS) assert.equal(run.tests.get(name)?.status, 'passed', name)
      assert.equal(run.files.get('hooks.test.ts')?.status, 'passed', run.files.get('hooks.test.ts')?.message)
      assert.equal(
        run.files.get('library.test.ts')?.status,
        'passed',
        run.files.get('library.test.ts')?.message,
      )
    })

    test("a library's poller started in a test and never stopped fails the file, naming the test", () => {
      const file = run.files.get('library-leak.test.ts')
      assert.equal(file?.status, 'failed')
      assert.ok(
        file.message.includes('netsan: file "library-leak.test.ts" left 1 resource open'),
        file.message,
      )
      assert.ok(
        file.message.includes(`✖ ${KIND_WORDS.timer} — setInterval(fn, 1000 ms), never cleared`),
        file.message,
      )
      assert.ok(
        framed(file.message, `at ${lineOf('handles', 'library-leak.test.ts', '// LEAK library')}`),
        file.message,
      )
      assert.ok(
        file.message.includes(
          'opened in: library poller started here, never closed: the file fails, not the test',
        ),
        file.message,
      )
    })
  })
}
