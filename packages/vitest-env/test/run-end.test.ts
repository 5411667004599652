import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { KIND_WORDS, type LeakKind } from 'netsan'
import { lineOf, runVitest, type VitestRun } from './run-vitest.ts'

// What a user sees of netsan around a Vitest run: a bad option once and first, the closing summary
// (its counts are those of the run), colours as Vitest decides, reports copied as seen, an uncaught
// expectNoLeakedConnections() reported once. Real Vitest 5 runs of fixtures/summary (two files) and
// fixtures/modes.

const REPORTER = '--reporter=vitest-environment-netsan/reporter'
const options = (o: unknown) => ({ NETSAN_FIXTURE_OPTIONS: JSON.stringify(o) })
const ESC = '\u001b'
// Zero-width and other invisible characters that survive copy-paste from a terminal.
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/

function count(text: string, part: string): number {
  return text.split(part).length - 1
}

/** What netsan's failure messages in the run's results say: leaks per kind, tests and files that leaked. */
function tallies(run: VitestRun) {
  const byKind: Partial<Record<LeakKind, number>> = {}
  let tests = 0
  let fileLevel = 0
  const take = (message: string) => {
    for (const line of message.split('\n')) {
      const m = /^\s*✖ (.+?)(?: \(×(\d+)\))? — /.exec(line)
      if (!m) continue
      const kind = (Object.keys(KIND_WORDS) as LeakKind[]).find((k) => KIND_WORDS[k] === m[1])!
      byKind[kind] = (byKind[kind] ?? 0) + Number(m[2] ?? 1)
    }
  }
  for (const t of run.tests.values()) {
    const message = t.failureMessages.join('\n')
    if (message.includes(`netsan: test "${t.title}" left`)) {
      tests++
      take(message)
    }
  }
  for (const file of run.files.values()) {
    if (!file.message.includes('netsan: file ')) continue
    const before = Object.values(byKind).reduce((a, b) => a + b, 0)
    take(file.message)
    fileLevel += Object.values(byKind).reduce((a, b) => a + b, 0) - before
  }
  const leaks = Object.values(byKind).reduce((a, b) => a + b, 0)
  return { tests, fileLevel, leaks, byKind }
}

/** The summary's lines: from netsan's title to the next blank line. */
function summary(output: string): string[] {
  const lines = output.split('\n')
  const start = lines.findIndex((l) => l.startsWith('     netsan  '))
  if (start === -1) return []
  const end = lines.findIndex((l, i) => i > start && l.trim() === '')
  return lines.slice(start, end === -1 ? undefined : end)
}

/** The summary says what the results say. */
function assertSummaryMatches(run: VitestRun): void {
  const t = tallies(run)
  const words = Object.entries(t.byKind).map(([kind, n]) => {
    const word = KIND_WORDS[kind as LeakKind]
    return `${n} ${n === 1 ? word : word.endsWith('body') ? `${word.slice(0, -1)}ies` : `${word}s`}`
  })
  const lines = summary(run.output)
  assert.equal(
    lines[0]?.startsWith(
      `     netsan  ${t.leaks} leaks in ${t.tests} tests, ${t.fileLevel} at the end of a file (${words.join(', ')})`,
    ),
    true,
    `${lines.join('\n')}\n---\n${JSON.stringify(t)}\n${run.output}`,
  )
}

describe('the end of a Vitest run', () => {
  test('the closing summary after Vitest’s totals: its counts are the run’s (forks, a worker per file)', async () => {
    const run = await runVitest('summary', { args: [REPORTER] })
    assert.equal(run.code, 1, run.output)
    // 'leaks a server' passes: its server is judged at the file's end, which fails the file.
    assert.deepEqual(run.failed, ['fails its own check', 'leaks a body', 'leaks a socket'])
    assert.deepEqual(tallies(run), {
      tests: 3,
      fileLevel: 2,
      leaks: 5,
      byKind: { body: 1, socket: 3, server: 1 },
    })
    assertSummaryMatches(run)
    assert.deepEqual(summary(run.output).slice(1), [
      '             1 leak allowed',
      '               1 — allowLeaks: the fixture keeps it on purpose',
    ])
    // After the totals, as Vitest prints what follows them (its coverage report, its isolation hint).
    assert.ok(run.output.indexOf('      Tests  ') < run.output.indexOf('     netsan  '), run.output)
  })

  test('the same counts with threads, isolate: false, one worker for both files', async () => {
    const run = await runVitest('summary', {
      env: { NETSAN_FIXTURE_POOL: 'threads', NETSAN_FIXTURE_ISOLATE: '0' },
      args: [REPORTER, '--maxWorkers=1'],
    })
    assert.equal(run.code, 1, run.output)
    assert.equal(tallies(run).leaks, 5)
    assertSummaryMatches(run)
  })

  test("mode 'warn': the summary sums up the warnings that scrolled past, with the report files", async () => {
    const reports = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-e2e-reports-'))
    const run = await runVitest('summary', {
      env: options({ mode: 'warn', report: path.join(reports, 'netsan.json') }),
      args: [REPORTER],
    })
    fs.rmSync(reports, { recursive: true, force: true })
    // Only the test whose own expectNoLeakedConnections() threw fails: an assertion the test makes.
    assert.deepEqual(run.failed, ['fails its own check'])
    const lines = summary(run.output)
    assert.match(
      lines[0] ?? '',
      /^ {5}netsan {2}5 leaks in 3 tests, 2 at the end of a file \(1 unconsumed response body, 3 open sockets, 1 listening server\) — mode 'warn'$/,
    )
    // The report files of this run: the option's path with the run id (Vitest's main process).
    const line = lines.at(-1) ?? ''
    assert.ok(line.startsWith(`             report: ${reports}/netsan.`), line)
    assert.match(line, /netsan\.\d+(-\d+)?\.\*\.json$/)
  })

  test('without the reporter, no summary', async () => {
    const run = await runVitest('summary')
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(summary(run.output), [])
  })

  test('an uncaught expectNoLeakedConnections() is reported once, with Vitest’s code frame at the creating line', async () => {
    const run = await runVitest('summary', { args: [REPORTER] })
    assert.equal(count(run.output, 'netsan: test "fails its own check" left'), 1, run.output)
    const message = run.tests.get('fails its own check')?.failureMessages.join('\n') ?? ''
    assert.equal(count(message, 'netsan: test "fails its own check" left'), 1, message)
    const at = lineOf('summary', 'leaks.test.ts', '// LEAK connect')
    assert.ok(run.output.includes(`❯ connect leaks.test.ts:${at.split(':')[1]}:`), run.output)
    // Vitest read no frame out of the report (it printed relative frames as ../../../../leaks.test.ts).
    assert.ok(!run.output.includes('../leaks.test.ts'), run.output)
  })

  test('an allowed leak names its test', async () => {
    const run = await runVitest('summary', { args: [REPORTER] })
    assert.ok(
      run.output.includes('netsan: 1 leak allowed in test "keeps a socket it is allowed to"'),
      run.output,
    )
  })

  test('a report copied from the terminal: no invisible character, frames grep as `^\\s*at `', async () => {
    const run = await runVitest('summary', { args: [REPORTER] })
    assert.doesNotMatch(run.output, INVISIBLE)
    const at = lineOf('summary', 'leaks.test.ts', '// LEAK connect')
    const frames = run.output.split('\n').filter((l) => /^\s*at /.test(l))
    assert.ok(frames.includes(`      at connect (${at})`), frames.join('\n'))
  })

  test('NO_COLOR: plain; FORCE_COLOR=1: netsan’s report and summary in colour, as Vitest’s own', async () => {
    const plain = await runVitest('summary', { args: [REPORTER] })
    assert.ok(!plain.output.includes(ESC), plain.output)
    const coloured = await runVitest('summary', {
      env: { NO_COLOR: undefined, FORCE_COLOR: '1' },
      args: [REPORTER],
    })
    assert.ok(coloured.output.includes(`${ESC}[1mnetsan: test "leaks a body" left 1 network resource open`))
    assert.ok(coloured.output.includes(`${ESC}[31m✖`), coloured.output)
    assert.ok(coloured.output.includes(`${ESC}[2m     netsan ${ESC}[22m`), coloured.output)
    assert.ok(coloured.output.includes(`${ESC}[1m${ESC}[31m5 leaks`), coloured.output)
  })
})

describe('a bad option under Vitest: printed once, first, with its key, value and what is allowed', () => {
  const unknown =
    'NetsanError: netsan: unknown option "setleMs" (received 5; did you mean "settleMs"?); known options: mode, kinds, settleMs,'

  /** The message once, before any other netsan output; no test ran; none of Vitest's worker errors. */
  function assertOnceFirst(run: VitestRun, message: string): void {
    assert.equal(run.code, 1, run.output)
    assert.equal(count(run.output, message), 1, run.output)
    const first = run.output.indexOf(message)
    // 'netsan:': the paths Vitest prints may hold the word (a clone named netsan).
    assert.equal(run.output.indexOf('netsan:'), run.output.indexOf(message.slice(message.indexOf('netsan:'))))
    assert.ok(first < run.output.indexOf(' Test Files '), run.output)
    assert.ok(!run.output.includes('Unhandled'), run.output)
    assert.ok(!run.output.includes('Failed to start'), run.output)
    assert.equal(run.tests.size, 0, 'no test may run')
    for (const file of run.files.values()) assert.equal(file.status, 'failed')
  }

  test('an unknown key, two files in two forks', async () => {
    const run = await runVitest('summary', { env: options({ setleMs: 5 }), args: [REPORTER] })
    assertOnceFirst(run, unknown)
    assert.equal(run.files.size, 2)
  })

  test('a bad value, threads with isolate: false; and the environment variable NETSAN', async () => {
    const run = await runVitest('modes', {
      env: { ...options({ bodies: 'some' }), NETSAN_FIXTURE_POOL: 'threads', NETSAN_FIXTURE_ISOLATE: '0' },
    })
    assertOnceFirst(
      run,
      `NetsanError: netsan: invalid value for option "bodies": received "some"; allowed: 'app', 'all', 'held'`,
    )
    const env = await runVitest('modes', { env: { NETSAN: 'loud' } })
    assertOnceFirst(
      env,
      `NetsanError: netsan: invalid value for option "NETSAN (environment variable)": received "loud"; allowed: 'fail', 'warn', 'off'`,
    )
  })

  test('a base environment that cannot be loaded is a bad option too', async () => {
    const run = await runVitest('modes', { env: options({ base: 'no-such-environment' }) })
    assertOnceFirst(
      run,
      'NetsanError: netsan: invalid value for option "base": received "no-such-environment"',
    )
  })

  test('a custom runner that bypasses importFile: printed once, first; the run fails', async () => {
    const run = await runVitest('modes', {
      env: { ...options({ setleMs: 5 }), NETSAN_FIXTURE_RUNNER: './own-runner.ts' },
    })
    assert.equal(run.code, 1, run.output)
    const message = 'netsan: unknown option "setleMs" (received 5; did you mean "settleMs"?)'
    assert.equal(count(run.output, message), 1, run.output)
    // Each file fails with the same error in its own result, which Vitest prints once under both names.
    assert.equal(
      count(
        run.output,
        'netsan: the options are invalid (the error is printed above); this file ran unchecked',
      ),
      1,
      run.output,
    )
    for (const f of ['a.test.ts', 'b.test.ts'])
      assert.ok(run.output.includes(` FAIL  ${f} [ ${f} ]`), run.output)
    // With the setup file, the runner's own import of it fails each file before its tests, once.
    const setup = await runVitest('modes', {
      env: {
        ...options({ setleMs: 5 }),
        NETSAN_FIXTURE_RUNNER: './own-runner.ts',
        NETSAN_FIXTURE_SETUP: '1',
      },
    })
    assertOnceFirst(setup, `NetsanError: ${message}`)
  })

  test('pool vmThreads (the runner is out of reach): printed once, first; each file fails', async () => {
    const run = await runVitest('modes', {
      env: { ...options({ setleMs: 5 }), NETSAN_FIXTURE_POOL: 'vmThreads' },
    })
    assert.equal(run.code, 1, run.output)
    const message = 'netsan: unknown option "setleMs" (received 5; did you mean "settleMs"?)'
    assert.equal(count(run.output, message), 1, run.output)
    assert.equal(run.output.indexOf('netsan:'), run.output.indexOf(message), run.output)
    assert.ok(
      run.output.includes('netsan: the options are invalid (the error is printed above); no test ran'),
    )
  })
})
