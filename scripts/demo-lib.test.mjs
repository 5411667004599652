import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  checkExitDiagnosis,
  compareOutcomes,
  expectationsFor,
  extractClosingSummary,
  extractNetsanMessage,
  formatTable,
  parseJsonReport,
  summarize,
} from './demo-lib.mjs'

const BODY_REPORT = [
  'Error: netsan: test "leaks: body" left 1 network resource open',
  '',
  '  ✖ unconsumed response body — GET http://127.0.0.1:4000/big → 200, 0 of 1048576 bytes read',
  '      at assetExists (src/assets.ts:9:15)',
  '    fix: read the body (await res.arrayBuffer()) or cancel it (await res.body?.cancel())',
  '    at afterEach (node_modules/vitest-environment-netsan/dist/setup.js:10:3)',
].join('\n')

const IDLE_FILE_REPORT = [
  'netsan: file "test/agents.test.ts" left 1 network resource open',
  '',
  '  ✖ idle keep-alive connection — 127.0.0.1:4000, in an undici Agent opened by test "leaks: agent"',
  '      at getJson (src/agents.ts:9:21)',
  '    fix: await agent.close() when done, or share one Agent across requests',
].join('\n')

const expectations = {
  'leaks: body': { pattern: '1 body', expect: 'fail', kind: 'body', level: 'test' },
  'fixed: body': { pattern: '1 body', expect: 'pass', level: 'test' },
  'leaks: agent': { pattern: '3 idle', expect: 'fail', kind: 'idle', level: 'any' },
  'fixed: agent': { pattern: '3 idle', expect: 'pass', level: 'test' },
}

function actualWith(overrides = {}) {
  return {
    tests: {
      'leaks: body': { status: 'fail', message: BODY_REPORT, file: 'test/bodies.test.ts' },
      'fixed: body': { status: 'pass', message: '', file: 'test/bodies.test.ts' },
      'leaks: agent': { status: 'pass', message: '', file: 'test/agents.test.ts' },
      'fixed: agent': { status: 'pass', message: '', file: 'test/agents.test.ts' },
      ...overrides.tests,
    },
    files: {
      'test/bodies.test.ts': { status: 'fail', message: '' },
      'test/agents.test.ts': { status: 'fail', message: IDLE_FILE_REPORT },
      ...overrides.files,
    },
    duplicates: [],
    ...overrides.rest,
  }
}

describe('compareOutcomes', () => {
  test('all as expected: no mismatches, file-level catch recorded', () => {
    const { results, mismatches } = compareOutcomes(expectations, actualWith())
    assert.deepEqual(mismatches, [])
    assert.equal(results.find((r) => r.name === 'leaks: body').caughtAt, 'test')
    assert.equal(results.find((r) => r.name === 'leaks: agent').caughtAt, 'file')
    assert.match(
      results.find((r) => r.name === 'leaks: agent').message,
      /^netsan: file "test\/agents.test.ts"/,
    )
  })

  test('a leaking test that passes is a mismatch', () => {
    const { mismatches } = compareOutcomes(
      expectations,
      actualWith({
        tests: { 'leaks: body': { status: 'pass', message: '', file: 'test/bodies.test.ts' } },
        files: { 'test/bodies.test.ts': { status: 'pass', message: '' } },
      }),
    )
    assert.equal(mismatches.length, 1)
    assert.match(
      mismatches[0],
      /"leaks: body": expected "unconsumed response body" \(level test\), but passed/,
    )
  })

  test('a failure without the expected kind words is a mismatch', () => {
    const message = BODY_REPORT.replace('unconsumed response body', 'open socket')
    const { mismatches } = compareOutcomes(
      expectations,
      actualWith({ tests: { 'leaks: body': { status: 'fail', message, file: 'test/bodies.test.ts' } } }),
    )
    assert.match(mismatches[0], /netsan reported other kinds \(socket\)/)
  })

  test('an assertion failure is not a catch', () => {
    const message = 'AssertionError: expected false to be true'
    const { mismatches } = compareOutcomes(
      expectations,
      actualWith({ tests: { 'leaks: body': { status: 'fail', message, file: 'test/bodies.test.ts' } } }),
    )
    assert.match(mismatches[0], /failed without a netsan report: AssertionError/)
  })

  test('a fixed twin that fails is a mismatch', () => {
    const message = BODY_REPORT.replace('leaks: body', 'fixed: body')
    const { mismatches } = compareOutcomes(
      expectations,
      actualWith({ tests: { 'fixed: body': { status: 'fail', message, file: 'test/bodies.test.ts' } } }),
    )
    assert.deepEqual(mismatches, [
      '"fixed: body": expected to pass, but failed: Error: netsan: test "fixed: body" left 1 network resource open',
    ])
  })

  test('level "any" accepts a test-level catch', () => {
    const message = IDLE_FILE_REPORT.replace('file "test/agents.test.ts"', 'test "leaks: agent"')
    const { results, mismatches } = compareOutcomes(
      expectations,
      actualWith({
        tests: { 'leaks: agent': { status: 'fail', message, file: 'test/agents.test.ts' } },
        files: { 'test/agents.test.ts': { status: 'fail', message: '' } },
      }),
    )
    assert.deepEqual(mismatches, [])
    assert.equal(results.find((r) => r.name === 'leaks: agent').caughtAt, 'test')
  })

  test('level "file" rejects a test-level catch', () => {
    const message = IDLE_FILE_REPORT.replace('file "test/agents.test.ts"', 'test "leaks: agent"')
    const { mismatches } = compareOutcomes(
      { ...expectations, 'leaks: agent': { ...expectations['leaks: agent'], level: 'file' } },
      actualWith({
        tests: { 'leaks: agent': { status: 'fail', message, file: 'test/agents.test.ts' } },
        files: { 'test/agents.test.ts': { status: 'fail', message: '' } },
      }),
    )
    assert.match(mismatches[0], /caught at test level, expected at file level/)
  })

  test('an unexpected file-level leak is a mismatch', () => {
    const { mismatches } = compareOutcomes(
      expectations,
      actualWith({ files: { 'test/bodies.test.ts': { status: 'fail', message: IDLE_FILE_REPORT } } }),
    )
    assert.deepEqual(mismatches, [
      'test/bodies.test.ts: unexpected file-level leak(s): idle keep-alive connection',
    ])
  })

  test('a file that fails on its own (e.g. a crash) is a mismatch', () => {
    const { mismatches } = compareOutcomes(
      expectations,
      actualWith({
        files: { 'test/extra.test.ts': { status: 'fail', message: 'SyntaxError: Unexpected token' } },
      }),
    )
    assert.deepEqual(mismatches, ['test/extra.test.ts: the file failed: SyntaxError: Unexpected token'])
  })

  test('missing, unlisted and duplicate tests are mismatches', () => {
    const actual = actualWith({ rest: { duplicates: ['fixed: body'] } })
    delete actual.tests['fixed: agent']
    actual.tests.extra = { status: 'pass', message: '', file: 'test/x.test.ts' }
    const { mismatches } = compareOutcomes(expectations, actual)
    assert.deepEqual(mismatches.sort(), [
      '"extra" (test/x.test.ts) is not listed in examples/expected.json (it passed)',
      '"fixed: agent" did not run',
      'test name "fixed: body" is not unique',
    ])
  })

  test('many tests that did not run make one mismatch', () => {
    const actual = actualWith()
    actual.tests = {}
    const { mismatches } = compareOutcomes(expectations, actual)
    assert.equal(mismatches[0], '4 tests did not run: "leaks: body", "fixed: body", "leaks: agent", …')
  })

  test('a run error is reported once, not once per test', () => {
    const { mismatches, results } = compareOutcomes(expectations, {
      tests: {},
      files: {},
      error: 'jest: timed out',
    })
    assert.deepEqual(mismatches, ['jest: timed out'])
    assert.equal(results.length, 4)
    assert.ok(results.every((r) => !r.ok))
  })
})

describe('extractNetsanMessage', () => {
  test('cuts the runner stack after the last fix line', () => {
    const text = extractNetsanMessage(`\u001b[31m${BODY_REPORT}\u001b[39m`)
    assert.ok(text.startsWith('netsan: test "leaks: body"'))
    assert.ok(text.endsWith('await res.body?.cancel())'))
    assert.ok(!text.includes('afterEach'))
  })

  test('finds a file report after test failures, and stops at the next failure', () => {
    const jestMessage = `● leaks: body\n\n${BODY_REPORT}\n\n${IDLE_FILE_REPORT}\n\n  ● other failure\n    fix: not ours`
    assert.equal(extractNetsanMessage(jestMessage, 'file'), IDLE_FILE_REPORT)
    assert.equal(extractNetsanMessage('no report here', 'file'), '')
  })
})

describe('expectationsFor', () => {
  const expected = {
    tests: { 'leaks: x': { pattern: 'p', expect: 'fail', kind: 'idle' } },
    runners: { jest: { 'leaks: x': { level: 'file' } } },
  }
  test('defaults level to "test" and applies runner overrides', () => {
    assert.equal(expectationsFor(expected, 'vitest')['leaks: x'].level, 'test')
    assert.equal(expectationsFor(expected, 'jest')['leaks: x'].level, 'file')
  })
  test('rejects bad values and unknown overrides', () => {
    assert.throws(
      () => expectationsFor({ tests: { a: { expect: 'fail', kind: 'nope' } } }, 'jest'),
      /kind must be one of/,
    )
    assert.throws(() => expectationsFor({ tests: { a: { expect: 'maybe' } } }, 'jest'), /expect must be/)
    assert.throws(
      () => expectationsFor({ tests: {}, runners: { jest: { b: {} } } }, 'jest'),
      /unknown test "b"/,
    )
  })
})

test('parseJsonReport reads the Vitest/Jest JSON shape', () => {
  const report = {
    testResults: [
      {
        name: '/repo/examples/jest/test/a.test.js',
        status: 'failed',
        message: '\u001b[1mboom\u001b[22m',
        assertionResults: [
          {
            fullName: 'leaks: a',
            title: 'leaks: a',
            status: 'failed',
            failureMessages: ['netsan: test "leaks: a"'],
          },
          { fullName: 'fixed: a', title: 'fixed: a', status: 'passed', failureMessages: [] },
          { fullName: 'todo a', title: 'todo a', status: 'pending', failureMessages: [] },
        ],
      },
    ],
  }
  const { tests, files } = parseJsonReport(report, '/repo/examples/jest')
  assert.deepEqual(files, { 'test/a.test.js': { status: 'fail', message: 'boom' } })
  assert.deepEqual(tests['leaks: a'], {
    status: 'fail',
    message: 'netsan: test "leaks: a"',
    file: 'test/a.test.js',
  })
  assert.equal(tests['fixed: a'].status, 'pass')
  assert.equal(tests['todo a'].status, 'skip')
})

test('summarize and formatTable make one row per pattern and runner', () => {
  const { results } = compareOutcomes(expectations, actualWith())
  const rows = summarize({ jest: results, vitest: results })
  assert.deepEqual(rows, [
    { pattern: '1 body', runner: 'jest', caught: 'yes', fixed: 'yes' },
    { pattern: '1 body', runner: 'vitest', caught: 'yes', fixed: 'yes' },
    { pattern: '3 idle', runner: 'jest', caught: 'yes (file level)', fixed: 'yes' },
    { pattern: '3 idle', runner: 'vitest', caught: 'yes (file level)', fixed: 'yes' },
  ])
  const table = formatTable(['a', 'bb'], [['xxx', 'y']])
  assert.equal(table, 'a    bb\n───  ──\nxxx  y')
})

describe('checkExitDiagnosis', () => {
  const exit = { test: "won't exit: dev server kept until the end", kind: 'child' }
  const output = `Tests: 1 passed
netsan: Jest is done with this process (pid 7), but 1 handle still keeps it alive

  ✖ running child process — node -e setTimeout(() => {}, 120_000) (pid 8), still running
      at startDevServer (src/dev-server.js:7:18)
    opened in: test "won't exit: dev server kept until the end" (test/dev-server.test.js)
    fix: kill it

netsan closed the handle it recorded (option cleanup), so that the process can end.
more output`
  test('finds the block and accepts it when it names the kind, the test, and the close', () => {
    const { text, mismatch } = checkExitDiagnosis(output, exit)
    assert.equal(mismatch, undefined)
    assert.ok(text.startsWith('netsan: Jest is done with this process'))
    assert.ok(text.endsWith('so that the process can end.'))
  })
  test('says what is missing', () => {
    assert.match(checkExitDiagnosis('Tests: 1 passed', exit).mismatch, /no exit diagnosis printed/)
    const other = output.replace('running child process', 'active timer').replace(/netsan closed.*\n/, '')
    assert.match(
      checkExitDiagnosis(other, exit).mismatch,
      /does not say "running child process", that netsan closed it/,
    )
  })
})

describe('extractClosingSummary', () => {
  test("Vitest's line after its totals, Jest's before them, with the lines under each", () => {
    const vitest = [
      ' Test Files  2 failed (2)',
      '   Duration  1.03s',
      '',
      '     netsan  3 leaks in 2 tests (3 open sockets)',
      '             1 leak allowed',
      '               1 — allowLeaks: kept on purpose',
      '',
      'stderr | unknown test',
    ].join('\n')
    assert.equal(
      extractClosingSummary(vitest),
      [
        '     netsan  3 leaks in 2 tests (3 open sockets)',
        '             1 leak allowed',
        '               1 — allowLeaks: kept on purpose',
      ].join('\n'),
    )
    const jest =
      'netsan: test "x" left 1 network resource open\n\nnetsan:      no leaks\nTest Suites: 1 passed, 1 total'
    assert.equal(extractClosingSummary(jest), 'netsan:      no leaks')
  })
  test('undefined when the reporter printed none', () => {
    assert.equal(
      extractClosingSummary('netsan: test "x" left 1 network resource open\nTests: 1 failed'),
      undefined,
    )
  })
})
