// The CI features end to end: real loopback leaks recorded by the core's Session into per-shard JSON
// reports, merged and judged by the `netsan` CLI run as a child process.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Agent, request } from 'undici'
import { startServer } from '../fixtures/server.ts'
import { checkChurn } from '../src/churn.ts'
import { escapeData, escapeProperty } from '../src/cli/format-github.ts'
import { allowLeaks, NetsanError, type NetsanOptions, resolveOptions, Session } from '../src/index.ts'

const ROOT = path.resolve(new URL('..', import.meta.url).pathname)
const MAIN = path.join(ROOT, 'src/cli/main.ts')
const SOURCE = fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n')
/** This file's line that holds `marker`: where a leak was created. */
const lineOf = (marker: string) => SOURCE.findIndex((l) => l.includes(marker) && !l.includes('lineOf(')) + 1

let srv: Awaited<ReturnType<typeof startServer>>
let tmp: string
const sockets: net.Socket[] = []
before(async () => {
  srv = await startServer()
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-cli-'))
})
after(async () => {
  for (const s of sockets) s.destroy()
  await srv.close()
  fs.rmSync(tmp, { recursive: true, force: true })
})

// --- application-like helpers: the creating frames the reports, annotations and baseline keys name ---

async function downloadUnread(variant = 0): Promise<number> {
  if (variant === 1) {
    // an unrelated edit moved the creating line: the baseline key (function + file) still matches
    const res = await fetch(`${srv.url}/big?bytes=65536`) // MARK:body-moved
    return res.status
  }
  const res = await fetch(`${srv.url}/big?bytes=65536`) // MARK:body-here
  return res.status
}

async function downloadRead(): Promise<void> {
  const res = await fetch(`${srv.url}/small?bytes=100`)
  await res.arrayBuffer()
}

async function listenForever(): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)) // MARK:server
  return server
}

async function openSocketToKeep(): Promise<net.Socket> {
  const socket = net.connect(Number(new URL(srv.url).port), '127.0.0.1') // MARK:socket
  sockets.push(socket)
  await new Promise((resolve) => socket.once('connect', resolve))
  return socket
}

async function openSocketToIgnore(): Promise<net.Socket> {
  const socket = net.connect(Number(new URL(srv.url).port), '127.0.0.1') // MARK:socket-ignored
  sockets.push(socket)
  await new Promise((resolve) => socket.once('connect', resolve))
  return socket
}

type Body = () => Promise<unknown>

/** One runner worker: a Session over one test file, tests run in their own scopes, report written at file end. */
async function runWorker(file: string, tests: [string, Body][], options: NetsanOptions = {}) {
  const session = new Session(resolveOptions({ root: ROOT, settleMs: 50, ...options }), {
    runner: 'node-test',
  })
  try {
    const fileScope = session.startFile(file)
    const outcomes = []
    for (const [name, body] of tests) {
      const scope = session.startTest(fileScope, name)
      await session.runIn(scope, body)
      outcomes.push((await session.endTest(scope))!)
    }
    const fileOutcome = (await session.endFile(fileScope))!
    return { outcomes, fileOutcome, session }
  } finally {
    session.dispose()
  }
}

function cli(args: string[], env: Record<string, string> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env }
  if (!('GITHUB_ACTIONS' in env)) delete childEnv.GITHUB_ACTIONS
  delete childEnv.GITHUB_STEP_SUMMARY
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, env: childEnv, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

function noStack(text: string) {
  assert.doesNotMatch(text, /^\s+at .+:\d+:\d+\)?$/m, `stack trace in: ${text}`)
}

describe('two shards merge into one summary', () => {
  let dir: string
  before(async () => {
    dir = path.join(tmp, 'shards')
    // shard 1: a body leak, a clean test, a server leak (a server is judged at its file's end)
    await runWorker(
      'test/shard-one.test.ts',
      [
        ['downloads without reading', () => downloadUnread()],
        ['downloads and reads', () => downloadRead()],
        ['starts a server', () => listenForever()],
      ],
      { report: path.join(dir, 'shard-1/netsan.json') },
    )
    // shard 2: a socket leak, an allowed body leak, a clean test
    await runWorker(
      'test/shard-two.test.ts',
      [
        ['opens a raw socket', () => openSocketToKeep()],
        [
          'streams on purpose',
          async () => {
            allowLeaks('body', 'the fixture streams for the whole test')
            await downloadUnread()
          },
        ],
        ['reads again', () => downloadRead()],
      ],
      { report: path.join(dir, 'shard-2/netsan.json') },
    )
  })

  test('each worker wrote a schema-1 report with header fields', () => {
    const [name, ...more] = fs.readdirSync(path.join(dir, 'shard-1'))
    assert.deepEqual(more, [])
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'shard-1', name!), 'utf8'))
    assert.equal(report.schema, 1)
    assert.equal(report.tool, 'netsan')
    assert.equal(report.version, '0.1.0')
    assert.equal(report.runner, 'node-test')
    assert.equal(report.root, ROOT)
    assert.ok(!Number.isNaN(Date.parse(report.createdAt)))
    assert.deepEqual(
      report.files[0].tests.map((t: { name: string; result: { leaks: unknown[] } }) => [
        t.name,
        t.result.leaks.length,
      ]),
      [
        ['downloads without reading', 1],
        ['downloads and reads', 0],
        ['starts a server', 0],
      ],
    )
    const [server, ...others] = report.files[0].fileResult.leaks
    assert.deepEqual(others, [])
    assert.equal(server.kind, 'server')
    assert.equal(server.owner, 'starts a server')
  })

  test('json summary: the right counts across both shards (glob expanded by the CLI)', () => {
    const r = cli(['report', `${dir}/**/*.json`, '--format', 'json'])
    assert.equal(r.status, 1, r.stderr)
    const s = JSON.parse(r.stdout)
    assert.equal(s.ok, false)
    assert.equal(s.reports.length, 2)
    assert.equal(s.files, 2)
    assert.equal(s.tests, 6)
    // The server 'starts a server' left is judged at its file's end: the file failed, not that test.
    assert.equal(s.testsWithLeaks, 2)
    assert.deepEqual(s.leaksByKind, { body: 1, socket: 1, server: 1 })
    assert.deepEqual(s.suppressedByReason, [
      { by: 'allowLeaks', reason: 'the fixture streams for the whole test', count: 1 },
    ])
    assert.equal(s.suppressed[0].test, 'streams on purpose')
    assert.equal(s.connections.requests, 4) // four fetches, one per clean/leaking download
    assert.ok(s.connections.socketsOpened >= 1)
    assert.ok(s.connections.requestsPerConnection > 0)
    assert.equal(s.connections.tlsHandshakes, 0)
    assert.ok(s.connections.peakOpenConnections >= 1)
  })

  test('text summary names every leak, the suppression and the figures', () => {
    const r = cli(['report', path.join(dir, 'shard-1'), path.join(dir, 'shard-2')])
    assert.equal(r.status, 1)
    const out = r.stdout
    assert.match(out, /netsan report: 2 reports \(node-test\), 2 files, 6 tests/)
    assert.match(
      out,
      /tests with leaks: 2; leaks: 3 \(1 unconsumed response body, 1 open socket, 1 listening server\)/,
    )
    assert.match(out, /✖ test\/shard-one\.test\.ts › downloads without reading/)
    assert.match(out, new RegExp(`at downloadUnread \\(test/cli\\.test\\.ts:${lineOf('MARK:body-here')}:`))
    assert.match(out, /✖ test\/shard-two\.test\.ts › opens a raw socket/)
    assert.match(out, /allowLeaks: the fixture streams for the whole test — 1/)
    assert.match(
      out,
      /connections: \d+ sockets? opened, 4 requests, [\d.]+ requests? per connection, 0 TLS handshakes/,
    )
    assert.match(out, /netsan: FAIL — 3 leaks in 2 tests and at file level/)
  })

  test('GitHub annotations point at the creating lines, escaped', () => {
    const r = cli(['report', `${dir}/*/*.json`], { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: ROOT })
    assert.equal(r.status, 1)
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error '))
    assert.equal(errors.length, 3, r.stdout)
    const body = errors.find((l) => l.includes('unconsumed response body'))!
    assert.equal(
      body.slice(0, body.indexOf('::', 2)),
      `::error file=test/cli.test.ts,line=${lineOf('MARK:body-here')},col=${SOURCE[lineOf('MARK:body-here') - 1]!.indexOf('fetch(') + 1},title=netsan%3A unconsumed response body`,
    )
    assert.match(
      body,
      /::downloads without reading: GET http:\/\/127\.0\.0\.1:\d+\/big\?bytes=65536 .* — fix: read the body/,
    )
    assert.ok(
      errors.some((l) => l.includes(`line=${lineOf('MARK:server')},`) && l.includes('listening server')),
    )
    assert.ok(errors.some((l) => l.includes(`line=${lineOf('MARK:socket')},`) && l.includes('open socket')))
    assert.match(r.stdout, /netsan: FAIL/) // the readable summary follows the annotations
  })

  test('markdown summary', () => {
    const r = cli(['report', `${dir}/*/*.json`, '--format', 'markdown'])
    assert.equal(r.status, 1)
    assert.match(r.stdout, /^### netsan: FAIL/)
    assert.match(r.stdout, /\| tests with leaks \| 2 \|/)
  })
})

describe('GitHub escaping', () => {
  test('data escapes %, CR, LF; properties also : and ,', () => {
    assert.equal(escapeData('100% a\r\nb: c, d'), '100%25 a%0D%0Ab: c, d')
    assert.equal(escapeProperty('netsan: a, b%\n'), 'netsan%3A a%2C b%25%0A')
  })
})

describe('baseline flow', () => {
  let day1: string
  let day2: string
  let baselineFile: string
  before(async () => {
    day1 = path.join(tmp, 'day1')
    day2 = path.join(tmp, 'day2')
    baselineFile = path.join(tmp, 'netsan-baseline.json')
    await runWorker(
      'test/legacy.test.ts',
      [
        ['old body leak', () => downloadUnread()],
        ['old server leak', () => listenForever()],
        ['clean', () => downloadRead()],
      ],
      { report: path.join(day1, 'netsan.json') },
    )
  })

  test('netsan baseline writes today’s leaks, keyed without line numbers', () => {
    const r = cli(['baseline', day1, '--out', baselineFile])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /wrote 2 accepted leaks from 1 report to /)
    const b = JSON.parse(fs.readFileSync(baselineFile, 'utf8'))
    assert.equal(b.schema, 1)
    assert.equal(b.tool, 'netsan-baseline')
    assert.deepEqual(
      b.entries.map((e: Record<string, string>) => [e.testFile, e.test, e.kind, e.fn, e.file]),
      [
        ['test/legacy.test.ts', 'old body leak', 'body', 'downloadUnread', 'test/cli.test.ts'],
        ['test/legacy.test.ts', 'old server leak', 'server', 'listenForever', 'test/cli.test.ts'],
      ],
    )
  })

  test('with the baseline, today’s report passes with warnings', () => {
    const r = cli(['report', day1, '--baseline', baselineFile])
    assert.equal(r.status, 0, r.stdout)
    assert.match(r.stdout, /baseline: accepted in .*netsan-baseline\.json — 2/)
    assert.match(r.stdout, /netsan: OK — no new leaks/)
    const gh = cli(['report', day1, '--baseline', baselineFile], {
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: ROOT,
    })
    assert.equal(gh.status, 0)
    assert.equal(gh.stdout.split('\n').filter((l) => l.startsWith('::warning ')).length, 2)
    assert.ok(!gh.stdout.includes('::error'))
  })

  test('a new leak fails naming only it; a fixed one is listed as stale; a moved line still matches', async () => {
    await runWorker(
      'test/legacy.test.ts',
      [
        ['old body leak', () => downloadUnread(1)], // same function, another line
        ['old server leak', async () => (await listenForever()).close()], // fixed
        ['clean', () => downloadRead()],
        ['new socket leak', () => openSocketToKeep()],
      ],
      { report: path.join(day2, 'netsan.json') },
    )
    const r = cli(['report', day2, '--baseline', baselineFile, '--format', 'json'])
    assert.equal(r.status, 1)
    const s = JSON.parse(r.stdout)
    assert.deepEqual(
      s.leaks.map((l: { test: string; leak: { kind: string } }) => [l.test, l.leak.kind]),
      [['new socket leak', 'socket']],
    )
    assert.deepEqual(
      s.suppressed.map((l: { test: string; by: string }) => [l.test, l.by]),
      [['old body leak', 'baseline']],
    )
    assert.deepEqual(
      s.stale.map((e: { test: string; kind: string }) => [e.test, e.kind]),
      [['old server leak', 'server']],
    )
    const text = cli(['report', day2, '--baseline', baselineFile])
    assert.match(text.stdout, /New leaks \(not in the baseline/)
    assert.match(text.stdout, /✖ test\/legacy\.test\.ts › new socket leak/)
    assert.doesNotMatch(text.stdout, /✖ .*old body leak/)
    assert.match(
      text.stdout,
      /Stale baseline entries \(1\)[^\n]*\n {2}- test\/legacy\.test\.ts › old server leak: listening server created at listenForever/,
    )
    assert.match(text.stdout, /netsan: FAIL — 1 new leak in 1 test/)
  })

  test('the baseline option in the session: known leaks warn, new ones fail', async () => {
    const { outcomes } = await runWorker(
      'test/legacy.test.ts',
      [
        ['old body leak', () => downloadUnread()],
        ['new socket leak', () => openSocketToKeep()],
      ],
      { baseline: baselineFile, report: path.join(tmp, 'day3', 'netsan.json') },
    )
    const [known, fresh] = outcomes
    assert.equal(known!.error, undefined)
    assert.deepEqual(known!.result.leaks, [])
    assert.equal(known!.result.suppressed[0]!.by, 'baseline')
    assert.match(known!.warning!, /\(baseline: accepted in .*netsan-baseline\.json\)/)
    assert.ok(fresh!.error, 'the new leak fails its test')
    assert.match(fresh!.error!.message, /open socket/)
    // The report records the session's decision; the CLI counts it as seen (not stale), and passes it.
    const r = cli(['report', path.join(tmp, 'day3'), '--baseline', baselineFile, '--format', 'json'])
    const s = JSON.parse(r.stdout)
    assert.deepEqual(
      s.stale.map((e: { test: string }) => e.test),
      ['old server leak'],
    )
    assert.equal(s.leaks.length, 1)
  })

  test('a missing or malformed baseline stops the session at start with a clear NetsanError', () => {
    const missing = path.join(tmp, 'nope.json')
    assert.throws(
      () => new Session(resolveOptions({ baseline: missing }), { runner: 'node-test' }),
      (e: unknown) =>
        e instanceof NetsanError &&
        e.code === 'NETSAN_ERR_INVALID_OPTION' &&
        e.message.startsWith(`netsan: invalid value for option "baseline": ${missing} does not exist;`),
    )
    const bad = path.join(tmp, 'bad-baseline.json')
    fs.writeFileSync(bad, '{"schema": 1, "tool": "netsan-baseline", "entries": [')
    assert.throws(
      () => new Session(resolveOptions({ baseline: bad }), { runner: 'node-test' }),
      /option "baseline": .*bad-baseline\.json is not valid JSON/,
    )
  })
})

describe('ignore rules', () => {
  test('an ignore rule hides exactly what it names, and the suppression is listed', async () => {
    const dir = path.join(tmp, 'ignore')
    const { outcomes } = await runWorker(
      'test/ignore.test.ts',
      [
        [
          'two sockets',
          async () => {
            await openSocketToIgnore()
            await openSocketToKeep()
          },
        ],
      ],
      { ignore: [{ kind: 'socket', stack: 'openSocketToIgnore' }], report: path.join(dir, 'netsan.json') },
    )
    const { result, error } = outcomes[0]!
    assert.equal(result.leaks.length, 1)
    assert.equal(result.leaks[0]!.frame?.fn, 'openSocketToKeep')
    assert.equal(result.suppressed.length, 1)
    assert.equal(result.suppressed[0]!.by, 'ignore')
    assert.equal(result.suppressed[0]!.leak.frame?.line, lineOf('MARK:socket-ignored'))
    assert.ok(error)
    const r = cli(['report', dir])
    assert.equal(r.status, 1)
    assert.match(r.stdout, /ignore: ignore rule \{ kind: "socket", stack: "openSocketToIgnore" \} — 1/)
    assert.match(
      r.stdout,
      new RegExp(
        `- test/ignore\\.test\\.ts › two sockets: open socket .*\\(test/cli\\.test\\.ts:${lineOf('MARK:socket-ignored')}\\)`,
      ),
    )
  })
})

describe('churn check', () => {
  const url = () => `${srv.url}/small?bytes=10`

  test('fires for a new undici Agent per request and for a new http.Agent per request, not for keep-alive', async () => {
    const dir = path.join(tmp, 'churn')
    const { outcomes } = await runWorker(
      'test/churn.test.ts',
      [
        [
          'undici Agent per request',
          async () => {
            for (let i = 0; i < 5; i++) {
              const agent = new Agent()
              const res = await request(url(), { dispatcher: agent })
              await res.body.dump()
              await agent.close()
            }
          },
        ],
        [
          'http.Agent per request',
          async () => {
            for (let i = 0; i < 5; i++) {
              const agent = new http.Agent({ keepAlive: true })
              await new Promise<void>((resolve, reject) =>
                http.get(url(), { agent }, (res) => res.resume().on('end', resolve)).on('error', reject),
              )
              agent.destroy()
            }
          },
        ],
        [
          'one keep-alive agent',
          async () => {
            const agent = new http.Agent({ keepAlive: true })
            for (let i = 0; i < 5; i++) {
              await new Promise<void>((resolve, reject) =>
                http.get(url(), { agent }, (res) => res.resume().on('end', resolve)).on('error', reject),
              )
            }
            agent.destroy()
          },
        ],
        [
          'one undici Agent',
          async () => {
            const agent = new Agent()
            for (let i = 0; i < 5; i++) await (await request(url(), { dispatcher: agent })).body.dump()
            await agent.close()
          },
        ],
      ],
      { churn: { maxConnectionsPerOrigin: 3 }, report: path.join(dir, 'netsan.json') },
    )
    const [undiciChurn, httpChurn, keepAlive, undiciReuse] = outcomes
    for (const o of [undiciChurn!, httpChurn!]) {
      assert.equal(o.error, undefined, 'churn is a warning, not a failure')
      assert.match(
        o.warning ?? '',
        /opened 5 connections to http:\/\/127\.0\.0\.1:\d+\/? .* for 5 requests: 1 request per connection/,
      )
      assert.match(o.warning ?? '', /a new Agent \(or client\) per request\?/)
    }
    assert.equal(keepAlive!.warning, undefined, JSON.stringify(keepAlive!.result.stats))
    assert.equal(undiciReuse!.warning, undefined, JSON.stringify(undiciReuse!.result.stats))
    const r = cli(['report', dir])
    assert.equal(r.status, 0)
    assert.match(r.stdout, /Connection churn \(2 tests, warning\):/)
  })
})

describe('checkChurn (pure)', () => {
  const stats = (byOrigin: Record<string, number>, requests: number, rpc: number) => ({
    socketsOpened: Object.values(byOrigin).reduce((a, b) => a + b, 0),
    requests,
    requestsPerConnection: rpc,
    tlsHandshakes: 0,
    peakOpenConnections: 1,
    connectionsByOrigin: byOrigin,
  })
  const max = { maxConnectionsPerOrigin: 3 }
  test('over the max at about one request per connection', () => {
    assert.match(
      checkChurn(stats({ 'https://api': 4 }, 4, 1), max, 't') ?? '',
      /test "t" opened 4 connections to https:\/\/api/,
    )
    assert.ok(checkChurn(stats({ 'https://api': 8 }, 12, 1.5), max))
  })
  test('silent: off, at the max, with reuse, or with no requests', () => {
    assert.equal(checkChurn(stats({ 'https://api': 9 }, 9, 1), false), undefined)
    assert.equal(checkChurn(stats({ 'https://api': 3 }, 3, 1), max), undefined)
    assert.equal(checkChurn(stats({ 'https://api': 4 }, 40, 10), max), undefined)
    assert.equal(checkChurn(stats({ 'https://api': 4 }, 0, 0), max), undefined)
  })
})

describe('bad input: clear message, exit 2, no stack trace', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['missing file', () => ['report', path.join(tmp, 'missing.json')], /missing\.json does not exist/],
    [
      'malformed JSON',
      () => ['report', write('malformed.json', '{"schema": 1,')],
      /malformed\.json is not valid JSON/,
    ],
    [
      'newer schema',
      () => [
        'report',
        write('future.json', JSON.stringify({ schema: 2, tool: 'netsan', runner: 'x', files: [] })),
      ],
      /written by a newer netsan \(schema 2\); this netsan \(0\.1\.0\) reads schema 1 — upgrade netsan/,
    ],
    [
      'unknown flag',
      () => ['report', '--frobnicate', 'x.json'],
      /netsan report: unknown flag --frobnicate; known flags: --baseline, --format/,
    ],
    [
      'bad format',
      () => ['report', 'x.json', '--format', 'xml'],
      /--format "xml" is not one of text, github, markdown, json/,
    ],
    ['glob matching nothing', () => ['report', `${tmp}/nothing/*.json`], /matched no files/],
    [
      'a baseline passed as a report',
      () => ['report', write('b.json', JSON.stringify({ schema: 1, tool: 'netsan-baseline', entries: [] }))],
      /is not a netsan report: "tool" is "netsan-baseline" \(it is a netsan baseline; pass it with --baseline\)/,
    ],
    [
      'a structurally broken report',
      () => [
        'report',
        write(
          'broken.json',
          JSON.stringify({
            schema: 1,
            tool: 'netsan',
            runner: 'x',
            files: [{ file: 'a', tests: [{ name: 't' }] }],
          }),
        ),
      ],
      /files\[0\]\.tests\[0\]\.result should be an object, got nothing/,
    ],
    ['unknown command', () => ['merge'], /unknown command "merge"; commands: report, baseline/],
    ['no files', () => ['report'], /give at least one report file or glob/],
  ]
  function write(name: string, text: string): string {
    const file = path.join(tmp, name)
    fs.writeFileSync(file, text)
    return file
  }
  for (const [name, args, message] of cases) {
    test(name, () => {
      const r = cli(args())
      assert.equal(r.status, 2, r.stdout + r.stderr)
      assert.match(r.stderr, message)
      noStack(r.stderr)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    })
  }

  test('--help names the docs by an absolute URL, not a path of this repository', () => {
    const r = cli(['--help'])
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /Docs: https:\/\/github\.com\/netsan-dev\/netsan\/blob\/main\/docs\/ci\.md$/m)
    assert.doesNotMatch(r.stdout, /(^|\s)(\.\.?\/)?docs\//m)
  })

  test(
    'the bin shim runs the built CLI bundle',
    { skip: !fs.existsSync(path.join(ROOT, 'dist/cli.js')) },
    () => {
      const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/netsan.js'), '--version'], {
        encoding: 'utf8',
      })
      assert.equal(r.status, 0, r.stderr)
      assert.equal(r.stdout.trim(), '0.1.0')
    },
  )
})
