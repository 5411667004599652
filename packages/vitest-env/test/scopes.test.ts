import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { framed, lineOf, packageDir, runVitest, type VitestRun } from './run-vitest.ts'

// Scopes and ownership (issue 14, DESIGN.md): describe blocks with their own hooks are scopes, what a
// beforeEach creates is its test's, work a test leaves running stays that test's, file-level leaks
// name the test that opened them, and the vm pools need no setup file. Real Vitest runs of
// fixtures/scopes: each leaking file and its fixed twin.
const CLI = path.resolve(packageDir, '../core/src/cli/main.ts')

let tmp: string
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-vitest-scopes-'))
})
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

function at(file: string, marker: string): string {
  return `${lineOf('scopes', file, marker)}`
}

function pool(name: string): Record<string, string> {
  return { NETSAN_FIXTURE_POOL: name }
}

/** `netsan report --format json` over a folder of reports. */
function netsanReport(dir: string): {
  leaks: { testFile: string; test: string; leak: { kind: string; owner: string } }[]
  testsWithLeaks: number
} {
  const r = spawnSync(process.execPath, [CLI, 'report', dir, '--format', 'json'], { encoding: 'utf8' })
  assert.equal(r.status, 1, r.stdout + r.stderr)
  return JSON.parse(r.stdout)
}

function assertDescribeRun(run: VitestRun): void {
  assert.equal(run.code, 1, run.output)
  assert.deepEqual(run.failed, [], 'no test is blamed for its block')
  for (const block of [
    'outer > leaks',
    'nested > inner',
    'concurrent blocks > concurrent leaks',
    'block agent',
  ]) {
    assert.equal(
      run.output.split(`netsan: describe "${block}" left 1 network resource open`).length,
      2,
      `${block} reported once\n${run.output}`,
    )
  }
  assert.ok(framed(run.output, at('describe.test.ts', '// LEAK describe')), run.output)
  assert.ok(framed(run.output, at('describe.test.ts', '// LEAK block agent')), run.output)
  assert.match(
    run.output,
    /idle keep-alive connection — [\d.:]+, in an http\.Agent created in this describe block/,
  )
  // The clean twins: closed in the block's afterAll, a block without hooks, a skipped block, the outer
  // block whose server outlives its inner block.
  for (const clean of [
    'outer > fixed',
    'concurrent blocks > concurrent fixed',
    'skipped',
    'nested"',
    'no hooks',
    'block agent fixed',
  ])
    assert.ok(!run.output.includes(`describe "${clean}`), `${clean} is clean\n${run.output}`)
  assert.ok(!run.output.includes('netsan: file "describe.test.ts"'), run.output)
  assert.equal(run.files.get('describe.test.ts')?.status, 'failed')
}

describe('vitest: describe blocks are scopes', () => {
  for (const name of ['forks', 'threads', 'vmThreads', 'vmForks']) {
    test(`${name}: a block's beforeAll leak fails the file at the block's end, naming the block; its clean twins pass`, async () => {
      assertDescribeRun(await runVitest('scopes', { env: pool(name), args: ['describe'] }))
    })
  }

  test('the JSON report and `netsan report` list the block leaks as file-level leaks naming each block', async () => {
    const dir = path.join(tmp, 'describe')
    const run = await runVitest('scopes', {
      env: { NETSAN_FIXTURE_OPTIONS: JSON.stringify({ report: path.join(dir, 'netsan.json') }) },
      args: ['describe'],
    })
    assertDescribeRun(run)
    const s = netsanReport(dir)
    assert.deepEqual(s.leaks.map((l) => [l.testFile, l.test, l.leak.kind]).sort(), [
      ['describe.test.ts', 'describe "block agent"', 'idle'],
      ['describe.test.ts', 'describe "concurrent blocks > concurrent leaks"', 'socket'],
      ['describe.test.ts', 'describe "nested > inner"', 'socket'],
      ['describe.test.ts', 'describe "outer > leaks"', 'socket'],
    ])
    assert.equal(s.testsWithLeaks, 0)
  })

  test("warn: the block's report is printed, nothing fails and nothing is closed", async () => {
    const run = await runVitest('scopes', {
      env: { NETSAN_FIXTURE_OPTIONS: JSON.stringify({ mode: 'warn' }) },
      args: ['describe'],
    })
    assert.equal(run.code, 0, run.output)
    assert.ok(
      run.output.includes('netsan: describe "outer > leaks" left 1 network resource open'),
      run.output,
    )
  })
})

describe('vitest: what a beforeEach creates is its test’s', () => {
  for (const name of ['forks', 'vmThreads']) {
    test(`${name}: an HTTP/2 session a beforeEach connects and the afterEach forgets fails each test; the twin that closes it passes`, async () => {
      const run = await runVitest('scopes', { env: pool(name), args: ['http2-each'] })
      assert.deepEqual(run.failed, ['first request', 'second request'], run.output)
      assert.ok(
        framed(
          run.tests.get('first request')?.failureMessages[0] ?? '',
          at('http2-each.test.ts', '// LEAK http2-each'),
        ),
        run.output,
      )
      assert.equal(run.files.get('http2-each-fixed.test.ts')?.status, 'passed', run.output)
      assert.equal(run.files.get('http2-each.test.ts')?.message, '', 'no file-level leak besides')
    })
  }

  test('a beforeEach that reconnects in the old session’s close callback: each reconnected session is reported, naming the test whose context it ran in, before the afterAll closes the server', async () => {
    const run = await runVitest('scopes', { args: ['http2-reconnect'] })
    assert.equal(run.code, 1, run.output)
    // "one" leaves its session open at its own end, as any test would
    assert.deepEqual(run.failed, ['one'], run.output)
    const file = run.files.get('http2-reconnect.test.ts')?.message ?? ''
    assert.match(run.output, /netsan: file "http2-reconnect.test.ts" left 2 network resources open/)
    assert.match(run.output, /opened in: one — started \d+ ms after the test ended, while "two" ran/)
    assert.match(run.output, /opened in: one — started \d+ ms after the test ended, while "three" ran/)
    assert.ok(framed(run.output, at('http2-reconnect.test.ts', '// LEAK reconnect')), run.output)
    assert.ok(!file.includes('while "one"'), file)
    assert.equal(run.files.get('http2-reconnect-fixed.test.ts')?.status, 'passed', run.output)
  })
})

describe('vitest: work a test leaves running', () => {
  for (const name of ['forks', 'vmForks']) {
    test(`${name}: a retry loop's attempt after its test ended is that test's, fails the file and never the test running then; the stopped loop passes`, async () => {
      const run = await runVitest('scopes', { env: pool(name), args: ['late'] })
      assert.equal(run.code, 1, run.output)
      assert.deepEqual(run.failed, [], run.output)
      assert.match(run.output, /netsan: file "late.test.ts" left 1 network resource open/)
      assert.match(run.output, /in-flight request — GET http:\/\/127\.0\.0\.1:\d+\/hang, no response yet/)
      assert.match(
        run.output,
        /opened in: starts a retry loop and returns — started \d+ ms after the test ended, while "runs while it retries" ran/,
      )
      assert.ok(framed(run.output, at('late.test.ts', '// LEAK late')), run.output)
      assert.equal(run.files.get('late-fixed.test.ts')?.status, 'passed', run.output)
    })
  }
})

describe('vitest: file-level leaks name the test that opened them', () => {
  for (const name of ['forks', 'vmThreads']) {
    test(`${name}: an http.Agent the file never destroys: its connection's report says "opened in: pool > uses the file agent"`, async () => {
      const run = await runVitest('scopes', { env: pool(name), args: ['opened-in'] })
      assert.equal(run.code, 1, run.output)
      assert.deepEqual(run.failed, [], run.output)
      assert.match(run.output, /netsan: file "opened-in.test.ts" left 1 network resource open/)
      assert.match(run.output, /opened in: pool > uses the file agent\n/)
      assert.ok(framed(run.output, at('opened-in.test.ts', '// LEAK opened-in')), run.output)
    })
  }
})

describe('an expectNoLeakedConnections() a beforeAll or afterAll does not catch is reported once', () => {
  /** Each report of the fixture's socket shows the frame of the test file's hook that opened it. */
  const reports = (run: VitestRun, file: string) => run.output.split(`\n      at ${file}:`).length - 1

  for (const name of ['forks', 'threads']) {
    test(`${name}: by the hook's error only (file and describe block); a check the hook catches is reported at the end; a clean twin passes`, async () => {
      const run = await runVitest('hook-check', { env: pool(name) })
      assert.equal(run.code, 1, run.output)
      const files = [
        'before-all.test.ts',
        'after-all.test.ts',
        'block.test.ts',
        'block-before.test.ts',
        'caught.test.ts',
      ]
      for (const file of files) {
        assert.equal(run.files.get(file)?.status, 'failed', `${file}\n${run.output}`)
        assert.equal(reports(run, file), 1, `${file} reported once\n${run.output}`)
      }
      assert.doesNotMatch(run.output, /\(2 times\)/)
      // The hook's own error: its scope names the file or the block.
      assert.match(run.output, /netsan: file "after-all\.test\.ts" left 1 network resource open/)
      assert.match(run.output, /netsan: describe "block" left 1 network resource open/)
      // Caught by the hook: the file's end reports it.
      assert.match(run.output, /netsan: file "caught\.test\.ts" left 1 network resource open/)
      assert.equal(run.files.get('closed.test.ts')?.status, 'passed', run.output)
      assert.equal(reports(run, 'closed.test.ts'), 0, run.output)
    })
  }
})
