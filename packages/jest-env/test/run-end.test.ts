import assert from 'node:assert/strict'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'
import { KIND_WORDS, type LeakKind } from 'netsan'
import { failedTests, fileResult, type JestRun, lineOf, runJest, testResult } from './run-jest.ts'

// What a user sees of netsan around a Jest run: a bad option once and first, the closing summary (its
// counts are those of the run), colours as Jest decides, reports copied as seen and never split by
// Jest's stack parser, an uncaught expectNoLeakedConnections() reported once, allowed leaks named after
// their test. Real Jest 30 runs of fixtures/summary (two files), in band and with workers.

const options = (o: unknown) => ({ NETSAN_FIXTURE_OPTIONS: JSON.stringify(o) })
const ESC = '\u001b'
// Zero-width and other invisible characters that survive copy-paste from a terminal.
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/
const MODES = [
  ['workers', ['--maxWorkers=2']],
  ['in band', ['--runInBand']],
] as const
const LEAKING = [
  'fails its own check (api)',
  'fails its own check (netsan)',
  'leaks a body',
  'leaks a socket',
]

function count(text: string, part: string): number {
  return text.split(part).length - 1
}

/** What netsan's failure messages in the run's results say: leaks per kind, tests and files that leaked. */
function tallies(run: JestRun) {
  const byKind: Partial<Record<LeakKind, number>> = {}
  const take = (message: string) => {
    let n = 0
    for (const line of message.split('\n')) {
      const m = /^\s*✖ (.+?)(?: \(×(\d+)\))? — /.exec(line)
      if (!m) continue
      const kind = (Object.keys(KIND_WORDS) as LeakKind[]).find((k) => KIND_WORDS[k] === m[1])!
      byKind[kind] = (byKind[kind] ?? 0) + Number(m[2] ?? 1)
      n += Number(m[2] ?? 1)
    }
    return n
  }
  let tests = 0
  let fileLevel = 0
  for (const file of run.json?.testResults ?? []) {
    for (const a of file.assertionResults) {
      const message = a.failureMessages.join('\n')
      if (!message.includes('netsan: test "')) continue
      tests++
      take(message)
    }
    if (file.message.includes('netsan: file "'))
      fileLevel += take(file.message.split('● ').find((b) => b.includes('netsan: file "')) ?? '')
  }
  const leaks = Object.values(byKind).reduce((a, b) => a + b, 0)
  return { tests, fileLevel, leaks, byKind }
}

/** The summary's lines: from netsan's title to Jest's totals. */
function summary(output: string): string[] {
  const lines = output.split('\n')
  const start = lines.findIndex((l) => l.startsWith('netsan:      '))
  if (start === -1) return []
  const end = lines.findIndex((l, i) => i > start && !l.startsWith('      '))
  return lines.slice(start, end === -1 ? undefined : end)
}

describe('the end of a Jest run', () => {
  for (const [mode, args] of MODES) {
    test(`the closing summary just before Jest's totals: its counts are the run's (${mode})`, async () => {
      const run = await runJest('summary', [...args])
      assert.equal(run.code, 1, run.output)
      assert.deepEqual(failedTests(run), LEAKING)
      const t = tallies(run)
      // 'leaks a server' passes: its server is judged at the file's end, which fails the file.
      assert.deepEqual(t, { tests: 4, fileLevel: 2, leaks: 6, byKind: { body: 1, socket: 3, server: 2 } })
      assert.deepEqual(summary(run.output), [
        `netsan:      ${t.leaks} leaks in ${t.tests} tests, ${t.fileLevel} at the end of a file (1 unconsumed response body, 3 open sockets, 2 listening servers)`,
        '             1 leak allowed',
        '               1 — allowLeaks: the fixture keeps it on purpose',
      ])
      // Where Jest prints what reporters add (its coverage table): right before its totals.
      const totals = run.output.indexOf('Test Suites: ')
      assert.ok(run.output.lastIndexOf('netsan:      ', totals) > run.output.lastIndexOf('FAIL', totals))
    })
  }

  test("mode 'warn': the summary sums up the warnings that scrolled past, with the report files", async () => {
    const reports = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-e2e-reports-'))
    const run = await runJest(
      'summary',
      [],
      options({ mode: 'warn', report: path.join(reports, 'netsan.json') }),
    )
    fs.rmSync(reports, { recursive: true, force: true })
    // Only the tests whose own expectNoLeakedConnections() threw fail: assertions the tests make.
    assert.deepEqual(failedTests(run), ['fails its own check (api)', 'fails its own check (netsan)'])
    const lines = summary(run.output)
    assert.equal(
      lines[0],
      "netsan:      6 leaks in 4 tests, 2 at the end of a file (1 unconsumed response body, 3 open sockets, 2 listening servers) — mode 'warn'",
      run.output,
    )
    assert.ok(lines.at(-1)?.startsWith(`             report: ${reports}/netsan.`), lines.join('\n'))
  })

  test("an uncaught expectNoLeakedConnections() is reported once, from require('netsan') and from /api", async () => {
    const run = await runJest('summary')
    for (const name of ['fails its own check (netsan)', 'fails its own check (api)']) {
      assert.equal(count(run.output, `netsan: test "${name}" left`), 1, run.output)
      const message = testResult(run, 'leaks.test.js', name).failureMessages.join('\n')
      assert.equal(count(message, `netsan: test "${name}" left`), 1, message)
    }
  })

  test('Jest keeps the whole report as the message (its own separateMessageFromStack), with its code frame at the creating line', async () => {
    const run = await runJest('summary')
    const jest = createRequire(createRequire(import.meta.url).resolve('jest'))
    const { separateMessageFromStack } = jest('jest-message-util') as {
      separateMessageFromStack(content: string): { message: string; stack: string }
    }
    const at = lineOf('summary', 'leaks.test.js', 'LEAK connect')
    for (const name of ['leaks a socket', 'fails its own check (netsan)', 'fails its own check (api)']) {
      const failure = testResult(run, 'leaks.test.js', name).failureMessages[0]!
      const { message, stack } = separateMessageFromStack(failure)
      assert.match(message, /fix: call socket\.destroy\(\) in a finally block$/, message)
      assert.ok(message.includes(`      at connect (leaks.test.js:${at})`), message)
      assert.match(stack, new RegExp(`^\\s*at connect \\(.*leaks\\.test\\.js:${at}:\\d+\\)$`), stack)
    }
    // In the output: Jest's code frame under the report, at the creating line.
    assert.ok(
      run.output.includes(`> ${at} |   const socket = net.connect(srv.port, '127.0.0.1') // LEAK connect`),
    )
  })

  test('an allowed leak names its test (Jest prints it ahead of the file’s results)', async () => {
    const run = await runJest('summary')
    assert.ok(
      run.output.includes('netsan: 1 leak allowed in test "keeps a socket it is allowed to"'),
      run.output,
    )
  })

  test('a report copied from the terminal: no invisible character, frames grep as `^\\s*at `', async () => {
    const run = await runJest('summary')
    assert.doesNotMatch(run.output, INVISIBLE)
    assert.doesNotMatch(JSON.stringify(run.json), INVISIBLE)
    const at = lineOf('summary', 'leaks.test.js', 'LEAK connect')
    const frames = run.output.split('\n').filter((l) => /^\s*at /.test(l))
    assert.ok(frames.includes(`          at connect (leaks.test.js:${at})`), frames.join('\n'))
  })

  test('NO_COLOR: plain; FORCE_COLOR=1: netsan’s report and summary in colour, as Jest’s own', async () => {
    const plain = await runJest('summary')
    assert.ok(!plain.output.includes(ESC), plain.output)
    const coloured = await runJest('summary', [], { NO_COLOR: undefined, FORCE_COLOR: '1' })
    assert.ok(coloured.output.includes(`${ESC}[1mnetsan: test "leaks a body" left 1 network resource open`))
    assert.ok(coloured.output.includes(`${ESC}[31m✖${ESC}[39m`), coloured.output)
    assert.ok(coloured.output.includes(`${ESC}[1mnetsan:     ${ESC}[22m`), coloured.output)
    // NO_COLOR wins over the FORCE_COLOR=1 that jest-worker gives its workers.
    const no = await runJest('summary', [], { NO_COLOR: '1', FORCE_COLOR: '1' })
    assert.ok(!no.output.includes(`${ESC}[1mnetsan`), no.output)
  })
})

describe('a bad option under Jest: printed once, first, with its key, value and what is allowed', () => {
  const unknown =
    'netsan: unknown option "setleMs" (received 5; did you mean "settleMs"?); known options: mode, kinds, settleMs,'
  const pointer =
    'netsan: the options in testEnvironmentOptions.netsan are invalid (the error is printed once, above); no test in this file ran'

  function assertOnceFirst(run: JestRun, message: string): void {
    assert.equal(run.code, 1, run.output)
    assert.equal(count(run.output, message), 1, run.output)
    assert.equal(run.output.indexOf('netsan:'), run.output.indexOf(message), run.output)
    assert.ok(run.output.indexOf(message) < run.output.indexOf('FAIL'), run.output)
    for (const file of ['leaks.test.js', 'more.test.js']) {
      const result = fileResult(run, file)
      assert.equal(result.assertionResults.length, 0)
      assert.ok(result.message.includes(pointer), result.message)
      // No frame or code frame of netsan's bundle under it.
      assert.ok(!result.message.includes('netsan.js'), result.message)
    }
  }

  for (const [mode, args] of MODES) {
    test(`an unknown key (${mode})`, async () => {
      assertOnceFirst(await runJest('summary', [...args], options({ setleMs: 5 })), unknown)
    })
  }

  test('a bad value; the environment variable NETSAN; a baseline that cannot be read', async () => {
    assertOnceFirst(
      await runJest('summary', [], options({ bodies: 'some' })),
      `netsan: invalid value for option "bodies": received "some"; allowed: 'app', 'all', 'held'`,
    )
    assertOnceFirst(
      await runJest('summary', [], { NETSAN: 'loud' }),
      `netsan: invalid value for option "NETSAN (environment variable)": received "loud"; allowed: 'fail', 'warn', 'off'`,
    )
    assertOnceFirst(
      await runJest('summary', [], options({ baseline: '/no/such/baseline.json' })),
      'netsan: invalid value for option "baseline": /no/such/baseline.json does not exist',
    )
  })
})
