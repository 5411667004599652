// Nothing lost, nothing hidden between the session's reports and `netsan report`: one file per session,
// runs kept apart, retried attempts as warnings, projects apart, untrusted text inert in every output,
// and the CLI's small edges. The CLI runs in process (`run`), on reports written by real Sessions or
// built with `buildReport`.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startServer } from '../fixtures/server.ts'
import { run } from '../src/cli/run.ts'
import { type Leak, resolveOptions, type ScopeResult, Session } from '../src/index.ts'
import { buildReport, type Shard } from '../src/report-file.ts'
import { runIdFor } from '../src/run-id.ts'

const ROOT = path.resolve(import.meta.dirname, '..')
let tmp: string
let srv: Awaited<ReturnType<typeof startServer>>
before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-reports-'))
  srv = await startServer()
})
after(async () => {
  await srv.close()
  fs.rmSync(tmp, { recursive: true, force: true })
})

/** The CLI in this process: exit code and what it printed. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const out: string[] = []
  const err: string[] = []
  const status = run(args, { out: (t) => out.push(t), err: (t) => err.push(t), env, cwd: tmp })
  return { status, stdout: out.join('\n'), stderr: err.join('\n') }
}

function dir(name: string): string {
  const d = path.join(tmp, name)
  fs.mkdirSync(d, { recursive: true })
  return d
}

const STATS = {
  socketsOpened: 1,
  requests: 0,
  requestsPerConnection: 0,
  tlsHandshakes: 0,
  peakOpenConnections: 1,
  connectionsByOrigin: {},
}

function leak(owner: string, over: Partial<Leak> = {}): Leak {
  return {
    kind: 'socket',
    description: 'TCP socket to 127.0.0.1:9 (connected), never destroyed',
    stack: ['at openIt (src/net.ts:3:5)'],
    frame: { fn: 'openIt', file: 'src/net.ts', line: 3, column: 5 },
    fix: 'call socket.destroy() in a finally block',
    owner,
    count: 1,
    ...over,
  }
}

function result(owner: string, leaks: Leak[] = []): ScopeResult {
  return { owner, leaks, suppressed: [], stats: STATS }
}

interface TestSpec {
  name: string
  leaks?: Leak[]
  attempt?: number
  retried?: true
}

/** A report of one file written by hand, as a worker of run `run` would write it. */
function writeReport(
  folder: string,
  name: string,
  init: { run: string; file: string; tests: TestSpec[]; project?: string; shard?: Shard; now?: Date },
): string {
  const data = buildReport({
    runner: 'vitest',
    run: init.run,
    ...(init.shard && { shard: init.shard }),
    project: init.project ?? '',
    root: '/repo',
    now: init.now ?? new Date(),
    files: [
      {
        file: init.file,
        tests: init.tests.map((t) => ({
          name: t.name,
          result: result(t.name, t.leaks ?? []),
          ...(t.attempt && { attempt: t.attempt }),
          ...(t.retried && { retried: t.retried }),
        })),
        fileResult: result(init.file),
      },
    ],
  })
  const file = path.join(folder, name)
  fs.writeFileSync(file, JSON.stringify(data))
  return file
}

/** A socket the test opens and keeps: a real leak for a real Session. */
async function openSocket(sockets: net.Socket[]): Promise<void> {
  const socket = net.connect(Number(new URL(srv.url).port), '127.0.0.1')
  sockets.push(socket)
  await new Promise((resolve) => socket.once('connect', resolve))
}

describe('report files: one per session, every file of a run named after it', () => {
  test('two sessions of this process write two files (a Jest worker runs one session per test file)', async () => {
    const folder = path.join(tmp, 'sessions')
    for (const file of ['test/one.test.ts', 'test/two.test.ts']) {
      const session = new Session(resolveOptions({ root: ROOT, report: path.join(folder, 'netsan.json') }), {
        runner: 'node-test',
      })
      try {
        const scope = session.startFile(file)
        await session.endTest(session.startTest(scope, 'passes'))
        await session.endFile(scope)
      } finally {
        session.dispose()
      }
    }
    const names = fs.readdirSync(folder).sort()
    assert.equal(names.length, 2, names.join(', '))
    const reports = names.map((n) => JSON.parse(fs.readFileSync(path.join(folder, n), 'utf8')))
    const runId = runIdFor(process.pid)
    for (const [i, report] of reports.entries()) {
      assert.equal(report.run, runId)
      assert.equal(report.pid, process.pid)
      assert.equal(report.thread, 0)
      assert.match(names[i]!, new RegExp(`^netsan\\.${runId}\\.${process.pid}-0-\\d+\\.json$`))
    }
    assert.deepEqual(
      reports.map((r) => r.files[0].file),
      ['test/one.test.ts', 'test/two.test.ts'],
    )
    const s = JSON.parse(cli(['report', folder, '--format', 'json']).stdout)
    assert.equal(s.files, 2)
    assert.equal(s.tests, 2)
    assert.deepEqual(
      s.runs.map((r: { id: string }) => r.id),
      [runId],
    )
  })

  test('the run id: the main process and its start time; NETSAN_RUN_ID wins, made safe for a file name', () => {
    const id = runIdFor(process.pid, {})
    if (process.platform === 'linux') assert.match(id, new RegExp(`^${process.pid}-\\d+$`))
    else assert.equal(id, String(process.pid))
    assert.equal(runIdFor(process.pid, { NETSAN_RUN_ID: ' ci-42/3 ' }), 'ci-42_3')
  })
})

describe('runs in one folder', () => {
  const a = (run: string, now: string, leaks: Leak[] = []) => ({
    run,
    file: 'test/a.test.ts',
    now: new Date(now),
    tests: [{ name: 'a', leaks }],
  })

  test('reports of two runs that ran the same file: refused, naming the runs; --run chooses', () => {
    const folder = dir('stale')
    writeReport(folder, 'old.json', a('111-1', '2026-01-01T00:00:00Z', [leak('a')]))
    writeReport(folder, 'new.json', a('222-2', '2026-01-02T00:00:00Z'))
    const r = cli(['report', folder])
    assert.equal(r.status, 2, r.stdout)
    assert.match(
      r.stderr,
      /^netsan report: the reports come from 2 runs, and 2 of them ran the same test files \(test\/a\.test\.ts\): are reports of an earlier run still in the folder\?$/m,
    )
    assert.match(
      r.stderr,
      /^ {2}run 111-1 \(vitest\): 1 report, 1 file, last written 2026-01-01T00:00:00\.000Z$/m,
    )
    assert.match(r.stderr, /^ {2}run 222-2 \(vitest\): 1 report, 1 file, last written 2026-01-02/m)
    assert.match(
      r.stderr,
      /Empty the report folder before each run, or choose: --run latest .* or --run <id>/,
    )

    const latest = cli(['report', folder, '--run', 'latest', '--format', 'json'])
    assert.equal(latest.status, 0, latest.stderr)
    assert.equal(JSON.parse(latest.stdout).leaks.length, 0, 'the fixed leak of the older run is gone')
    assert.equal(cli(['report', folder, '--run', '111-1']).status, 1)
    assert.equal(cli(['report', folder, '--run', '222-2']).status, 0)
    assert.equal(cli(['baseline', folder, '--out', path.join(tmp, 'x.json')]).status, 2)
    const unknown = cli(['report', folder, '--run', '333-3'])
    assert.equal(unknown.status, 2)
    assert.match(unknown.stderr, /no report of run "333-3"; the runs are:\n {2}run 111-1/)
  })

  test('runs that ran different files (shards, from one machine or several): merged', () => {
    const folder = dir('shards')
    writeReport(folder, 's1.json', {
      ...a('111-1', '2026-01-01T00:00:00Z', [leak('a')]),
      shard: { index: 1, count: 2 },
    })
    writeReport(folder, 's2.json', {
      run: '222-2',
      shard: { index: 2, count: 2 },
      file: 'test/b.test.ts',
      tests: [{ name: 'b', leaks: [leak('b')] }],
    })
    const r = cli(['report', folder, '--format', 'json'])
    assert.equal(r.status, 1, r.stderr)
    const s = JSON.parse(r.stdout)
    assert.equal(s.leaks.length, 2)
    assert.deepEqual(
      s.runs.map((x: { id: string; shard: Shard }) => [x.id, x.shard]),
      [
        ['111-1', { index: 1, count: 2 }],
        ['222-2', { index: 2, count: 2 }],
      ],
    )
    assert.match(
      cli(['report', folder]).stdout,
      /^netsan report: 2 reports \(vitest; 2 runs\), 2 files, 2 tests$/m,
    )
  })

  test('reports of netsan 0.1.0 (no run id) beside new ones of the same file: refused too', () => {
    const folder = dir('old-schema')
    const old = JSON.parse(JSON.stringify(buildReport({ runner: 'jest', run: '', root: '/repo', files: [] })))
    delete old.run
    old.files = [
      { file: 'test/a.test.ts', tests: [{ name: 'a', result: result('a', [leak('a')]) }], fileResult: null },
    ]
    fs.writeFileSync(path.join(folder, 'old.json'), JSON.stringify(old))
    writeReport(folder, 'new.json', a('222-2', '2026-01-02T00:00:00Z'))
    const r = cli(['report', folder])
    assert.equal(r.status, 2)
    assert.match(r.stderr, /run \(no id: written by netsan 0\.1\.0\) \(jest\)/)
  })
})

describe('retried attempts: the runner decides, their leaks are warnings', () => {
  test('the session marks the attempt retried and returns the warning to print; the report says so', async () => {
    const sockets: net.Socket[] = []
    const folder = path.join(tmp, 'retried-session')
    const session = new Session(
      resolveOptions({ root: ROOT, settleMs: 20, report: path.join(folder, 'netsan.json') }),
      { runner: 'node-test' },
    )
    try {
      const file = session.startFile('test/flaky.test.ts')
      const first = session.startTest(file, 'flaky')
      await session.runIn(first, () => openSocket(sockets))
      const failed = await session.endTest(first, { attempt: 1 })
      assert.ok(failed?.error, 'the leak fails the attempt, which makes the runner retry')
      const warning = session.retryTest(first)
      assert.match(
        warning ?? '',
        /^netsan: test "flaky" left 1 network resource open on attempt 1 — a warning, not a failure: the test was retried, and its last attempt decides\n\n {2}✖ open socket/,
      )
      assert.equal(session.retryTest(first), undefined, 'once')
      const second = session.startTest(file, 'flaky')
      assert.equal((await session.endTest(second, { attempt: 2 }))?.error, undefined)
      await session.endFile(file)
    } finally {
      session.dispose()
      for (const s of sockets) s.destroy()
    }
    const [name] = fs.readdirSync(folder)
    const report = JSON.parse(fs.readFileSync(path.join(folder, name!), 'utf8'))
    assert.deepEqual(
      report.files[0].tests.map((t: { attempt?: number; retried?: boolean; result: ScopeResult }) => [
        t.attempt,
        t.retried,
        t.result.leaks.length,
      ]),
      [
        [1, true, 1],
        [2, undefined, 0],
      ],
    )
    const r = cli(['report', folder, '--format', 'json'])
    assert.equal(r.status, 0, 'the runner passed the test: so does netsan report')
    const s = JSON.parse(r.stdout)
    assert.equal(s.tests, 1)
    assert.equal(s.leaks.length, 0)
    assert.deepEqual(
      s.retried.map((l: { test: string; attempt: number }) => [l.test, l.attempt]),
      [['flaky', 1]],
    )
  })

  test("mode 'warn': the attempt's warning was printed when it ended, so nothing more to print", async () => {
    const sockets: net.Socket[] = []
    const session = new Session(resolveOptions({ root: ROOT, settleMs: 20, mode: 'warn' }), {
      runner: 'node-test',
    })
    try {
      const file = session.startFile('test/flaky.test.ts')
      const first = session.startTest(file, 'flaky')
      await session.runIn(first, () => openSocket(sockets))
      assert.match((await session.endTest(first))?.warning ?? '', /left 1 network resource open/)
      assert.equal(session.retryTest(first), undefined)
      await session.endFile(file)
    } finally {
      session.dispose()
      for (const s of sockets) s.destroy()
    }
  })

  test('text, github, markdown and baseline: warnings, never failures or baseline entries', () => {
    const folder = dir('retried')
    writeReport(folder, 'r.json', {
      run: '1-1',
      file: 'test/flaky.test.ts',
      tests: [
        { name: 'flaky', leaks: [leak('flaky')], attempt: 1, retried: true },
        { name: 'flaky', attempt: 2 },
        { name: 'steady' },
      ],
    })
    const text = cli(['report', folder])
    assert.equal(text.status, 0)
    assert.match(text.stdout, /^netsan report: 1 report \(vitest\), 1 file, 2 tests$/m)
    assert.match(text.stdout, /leaks: 0; leaks of retried attempts: 1 \(warnings\)/)
    assert.match(text.stdout, /^ {2}! test\/flaky\.test\.ts › flaky \(attempt 1\)$/m)
    assert.match(text.stdout, /netsan: OK — no leaks \(1 warning: leaks of retried attempts\)$/)
    const gh = cli(['report', folder], { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: '/repo' })
    assert.equal(gh.status, 0)
    assert.match(
      gh.stdout,
      /^::warning file=src\/net\.ts,line=3,col=5,title=netsan \(retried attempt\)%3A open socket::flaky, attempt 1: /m,
    )
    assert.doesNotMatch(gh.stdout, /::error/)
    assert.match(
      cli(['report', folder, '--format', 'markdown']).stdout,
      /\| leaks of retried attempts \(warnings\) \| 1 \|/,
    )
    const out = path.join(tmp, 'retried-baseline.json')
    assert.equal(cli(['baseline', folder, '--out', out]).status, 0)
    assert.deepEqual(JSON.parse(fs.readFileSync(out, 'utf8')).entries, [])
  })
})

describe('projects: the same file path in two projects stays two files', () => {
  test('counted apart, named with the project, baseline entries keyed by project', () => {
    const folder = dir('projects')
    for (const project of ['api', 'web']) {
      writeReport(folder, `${project}.json`, {
        run: '1-1',
        project,
        file: 'test/test.ts',
        tests: [{ name: 'leaks', leaks: [leak('leaks')] }, { name: 'clean' }],
      })
    }
    const s = JSON.parse(cli(['report', folder, '--format', 'json']).stdout)
    assert.equal(s.files, 2)
    assert.equal(s.tests, 4)
    assert.equal(s.testsWithLeaks, 2)
    const text = cli(['report', folder]).stdout
    assert.match(text, /✖ \[api\] test\/test\.ts › leaks/)
    assert.match(text, /✖ \[web\] test\/test\.ts › leaks/)
    const out = path.join(tmp, 'projects-baseline.json')
    assert.equal(cli(['baseline', folder, '--out', out]).status, 0)
    const entries = JSON.parse(fs.readFileSync(out, 'utf8')).entries
    assert.deepEqual(
      entries.map((e: { project: string }) => e.project),
      ['api', 'web'],
    )
    // Only project web's leak is accepted: project api's still fails.
    fs.writeFileSync(
      out,
      JSON.stringify({ ...JSON.parse(fs.readFileSync(out, 'utf8')), entries: [entries[1]] }),
    )
    const r = JSON.parse(cli(['report', folder, '--baseline', out, '--format', 'json']).stdout)
    assert.deepEqual(
      r.leaks.map((l: { project: string }) => l.project),
      ['api'],
    )
  })
})

describe('untrusted text stays inert in every output', () => {
  // A test name and a URL can say anything: here, GitHub workflow commands on a line of their own.
  const EVIL_NAME = 'innocent\n::error file=x.ts::injected\r\n##[warning]legacy'
  const EVIL_FRAME = '::error::from a frame'
  let folder: string
  before(() => {
    folder = dir('evil')
    writeReport(folder, 'evil.json', {
      run: '1-1',
      file: 'test/evil.test.ts',
      tests: [
        {
          name: EVIL_NAME,
          leaks: [leak(EVIL_NAME, { description: 'GET http://h/##[error]x → 200', stack: [EVIL_FRAME] })],
        },
      ],
    })
  })

  const commandLines = (text: string) => text.split('\n').filter((l) => /^\s*::/.test(l))

  for (const format of ['text', 'markdown', 'json']) {
    test(`--format ${format}: no line starts a workflow command, no ##[ anywhere`, () => {
      const r = cli(['report', folder, '--format', format])
      assert.equal(r.status, 1)
      assert.deepEqual(commandLines(r.stdout), [])
      assert.ok(!r.stdout.includes('##['), r.stdout)
      if (format === 'text')
        assert.ok(
          r.stdout.includes('› innocent\\n::error file=x.ts::injected\\r\\n#\\#[warning]legacy\n'),
          r.stdout,
        )
      if (format === 'json') {
        const s = JSON.parse(r.stdout)
        assert.equal(s.leaks[0].test, EVIL_NAME, 'the json keeps the exact name')
      }
    })
  }

  test('--format github: the annotation is escaped, and the text summary after it is inert', () => {
    const r = cli(['report', folder], { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: '/repo' })
    const commands = commandLines(r.stdout)
    assert.equal(commands.length, 1, commands.join('\n'))
    assert.match(
      commands[0]!,
      /^::error file=src\/net\.ts,line=3,col=5,title=netsan%3A open socket::innocent%0A::error file=x\.ts::injected%0D%0A##\[warning\]legacy: GET/,
    )
    assert.ok(!r.stdout.split('\n').slice(1).join('\n').includes('##['))
  })
})

describe('small edges of the CLI', () => {
  test('a report with a UTF-8 byte order mark is read', () => {
    const folder = dir('bom')
    const file = writeReport(folder, 'bom.json', {
      run: '1-1',
      file: 'test/a.test.ts',
      tests: [{ name: 'a' }],
    })
    fs.writeFileSync(file, `\uFEFF${fs.readFileSync(file, 'utf8')}`)
    const r = cli(['report', file])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /1 file, 1 test/)
  })

  test('--format without a value names --format and its values', () => {
    const r = cli(['report', 'reports', '--format'])
    assert.equal(r.status, 2)
    assert.equal(r.stderr, 'netsan report: --format needs a value: one of text, github, markdown, json')
    const taken = cli(['report', '--format', 'reports/'])
    assert.equal(taken.status, 2)
    assert.equal(
      taken.stderr,
      'netsan report: --format "reports/" is not one of text, github, markdown, json (it looks like a file: --format needs its value right after it)',
    )
  })

  test('baseline --out under a file: a clear message, not EEXIST', () => {
    const folder = dir('out-under-file')
    writeReport(folder, 'r.json', {
      run: '1-1',
      file: 'test/a.test.ts',
      tests: [{ name: 'a', leaks: [leak('a')] }],
    })
    const blocker = path.join(tmp, 'a-file')
    fs.writeFileSync(blocker, '')
    const r = cli(['baseline', folder, '--out', path.join(blocker, 'sub', 'b.json')])
    assert.equal(r.status, 2)
    assert.equal(
      r.stderr,
      `netsan baseline: cannot write ${path.join(blocker, 'sub', 'b.json')}: a part of ${path.join(blocker, 'sub')} is a file, not a directory`,
    )
  })

  test('thousands of stale baseline entries: the first 20 listed, then how many more (json: all)', () => {
    const folder = dir('stale-many')
    writeReport(folder, 'r.json', { run: '1-1', file: 'test/a.test.ts', tests: [{ name: 'a' }] })
    const entries = Array.from({ length: 3000 }, (_, i) => ({
      testFile: 'test/a.test.ts',
      test: `gone ${i}`,
      kind: 'socket',
      fn: 'openIt',
      file: 'src/net.ts',
    }))
    const baseline = path.join(tmp, 'stale-many.json')
    fs.writeFileSync(baseline, JSON.stringify({ schema: 1, tool: 'netsan-baseline', entries }))
    const text = cli(['report', folder, '--baseline', baseline]).stdout
    assert.match(text, /Stale baseline entries \(3000\)/)
    assert.equal(text.split('\n').filter((l) => l.startsWith('  - test/a.test.ts › gone')).length, 20)
    assert.match(text, /^ {2}… and 2980 more \(the json format lists them all\)$/m)
    const md = cli(['report', folder, '--baseline', baseline, '--format', 'markdown']).stdout
    assert.equal(md.split('\n').filter((l) => l.startsWith('- test/a.test.ts › gone')).length, 20)
    const gh = cli(['report', folder, '--baseline', baseline], {
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: '/repo',
    })
    const notices = gh.stdout.split('\n').filter((l) => l.startsWith('::notice '))
    assert.equal(notices.length, 11)
    assert.match(notices[10]!, /::2990 more stale baseline entries \(3000 in all\)/)
    const json = JSON.parse(cli(['report', folder, '--baseline', baseline, '--format', 'json']).stdout)
    assert.equal(json.stale.length, 3000)
  })
})

describe('an idle connection reports two lines: its pool and its first request', () => {
  const pooled = leak('gets a user', {
    kind: 'idle',
    description: '127.0.0.1:4000, in an undici Agent created by this test and never closed',
    stack: ['at makeClient (src/client.ts:5:15)'],
    frame: { fn: 'makeClient', file: 'src/client.ts', line: 5, column: 15 },
    stackTitle: 'pool created',
    related: [{ title: 'first request', stack: ['at getUser (src/users.ts:12:9)'] }],
    fix: 'await agent.close() when done',
  })

  test('both reach netsan report (text, github), the annotation at the pool line', () => {
    const folder = dir('pool-lines')
    writeReport(folder, 'a.json', {
      run: 'r1',
      file: 'test/users.test.ts',
      tests: [{ name: 'gets a user', leaks: [pooled] }],
    })
    const text = cli(['report', folder])
    assert.equal(text.status, 1)
    assert.ok(
      text.stdout.includes(
        '    pool created:\n      at makeClient (src/client.ts:5:15)\n    first request:\n      at getUser (src/users.ts:12:9)\n    fix: await agent.close() when done',
      ),
      text.stdout,
    )
    const github = cli(['report', folder], { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: '/repo' })
    const error = github.stdout.split('\n').find((l) => l.startsWith('::error '))!
    assert.match(error, /^::error file=src\/client\.ts,line=5,col=15,/)
    assert.ok(error.includes('(first request at getUser (src/users.ts:12:9)) — fix:'), error)
  })

  test('a report whose related stacks are malformed is refused, naming the field', () => {
    const folder = dir('pool-lines-bad')
    const file = writeReport(folder, 'a.json', {
      run: 'r1',
      file: 'test/users.test.ts',
      tests: [{ name: 'gets a user', leaks: [pooled] }],
    })
    const data = JSON.parse(fs.readFileSync(file, 'utf8'))
    data.files[0].tests[0].result.leaks[0].related = [{ title: 'first request', stack: [42] }]
    fs.writeFileSync(file, JSON.stringify(data))
    const r = cli(['report', folder])
    assert.equal(r.status, 2)
    assert.match(r.stderr, /leaks\[0\]\.related\[0\]\.stack\[0\] should be a string, got 42/)
  })
})

describe('work a test left running: every output says how late it started, as the runner does', () => {
  const late = leak('one', { late: { ms: 42, during: 'two' } })
  const block = leak('setup', { ownerType: 'describe', late: { ms: 7 } })

  function writeLate(folder: string): void {
    const data = buildReport({
      runner: 'vitest',
      run: '1-1',
      root: '/repo',
      files: [
        {
          file: 'test/late.test.ts',
          tests: [
            { name: 'one', result: result('one') },
            { name: 'two', result: result('two') },
          ],
          fileResult: result('test/late.test.ts', [late, block]),
        },
      ],
    })
    fs.writeFileSync(path.join(folder, 'r.json'), JSON.stringify(data))
  }

  test('text: the runner’s own "opened in:" line; markdown and GitHub: the same words', () => {
    const folder = dir('late')
    writeLate(folder)
    const text = cli(['report', folder])
    assert.equal(text.status, 1)
    assert.ok(
      text.stdout.includes(
        '    opened in: one — started 42 ms after the test ended, while "two" ran\n    fix:',
      ),
      text.stdout,
    )
    assert.ok(
      text.stdout.includes('    opened in: describe "setup" — started 7 ms after the block ended\n'),
      text.stdout,
    )
    const md = cli(['report', folder, '--format', 'markdown']).stdout
    assert.match(md, /started 42 ms after the test ended, while "two" ran/)
    const gh = cli(['report', folder], { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: '/repo' }).stdout
    assert.match(gh, /^::error .*started 42 ms after the test ended, while "two" ran/m)
    const json = JSON.parse(cli(['report', folder, '--format', 'json']).stdout)
    assert.deepEqual(
      json.leaks.map((l: { leak: Leak }) => l.leak.late),
      [{ ms: 7 }, { ms: 42, during: 'two' }],
    )
  })

  test('a leak that is no late work prints no such line', () => {
    const folder = dir('not-late')
    writeReport(folder, 'r.json', {
      run: '1-1',
      file: 'test/a.test.ts',
      tests: [{ name: 'a', leaks: [leak('a')] }],
    })
    assert.doesNotMatch(cli(['report', folder]).stdout, /opened in:|after the test ended/)
  })
})
