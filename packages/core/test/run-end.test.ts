// What a run prints around netsan's reports: frames no runner takes for the error's own, no invisible
// characters, colours only when the adapter says so, an allowed leak named after its test, a leak that
// expectNoLeakedConnections() threw reported once, and the closing summary of the run's sessions.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startServer } from '../fixtures/server.ts'
import {
  allowLeaks,
  ansiColors,
  expectNoLeakedConnections,
  formatLeaks,
  formatRunSummary,
  formatSuppressed,
  isLeakError,
  type Leak,
  type LeakError,
  openRunDir,
  printedFrame,
  readRunDir,
  resolveOptions,
  runIdFor,
  Session,
} from '../src/index.ts'
import { ROOT } from './helpers.ts'

let srv: Awaited<ReturnType<typeof startServer>>
const sockets: net.Socket[] = []
const servers: net.Server[] = []
before(async () => {
  srv = await startServer()
})
after(async () => {
  for (const s of sockets) s.destroy()
  for (const s of servers) s.close()
  await srv.close()
})

async function openSocket(): Promise<net.Socket> {
  const socket = net.connect(Number(new URL(srv.url).port), '127.0.0.1') // LEAK run-end
  sockets.push(socket)
  await new Promise((resolve) => socket.once('connect', resolve))
  return socket
}

async function openServer(): Promise<void> {
  const server = net.createServer() // LEAK run-end server
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
}

const ESC = '\u001b'
const SGR = new RegExp(`${ESC}\\[\\d+m`, 'g')

// Zero-width and other invisible characters that survive copy-paste from a terminal.
const INVISIBLE = /[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/

const leak: Leak = {
  kind: 'socket',
  description: 'TCP socket to 127.0.0.1:9 (connected), never destroyed',
  stack: ['at openIt (src/net.ts:3:5)', 'at test/a.test.ts:9:5'],
  frame: { fn: 'openIt', file: 'src/net.ts', line: 3, column: 5 },
  fix: 'call socket.destroy() in a finally block',
  owner: 't',
  count: 1,
}

describe('the report as printed', () => {
  test('frames are `at …:<line>`: grep-able, one colon, so no runner reads them as the error stack', () => {
    assert.equal(printedFrame('at openIt (src/net.ts:3:5)'), 'at openIt (src/net.ts:3)')
    assert.equal(printedFrame('at test/a.test.ts:9:5'), 'at test/a.test.ts:9')
    assert.equal(printedFrame('at new Client (src/c.ts:1:2)'), 'at new Client (src/c.ts:1)')
    const text = formatLeaks({ type: 'test', name: 't' }, [leak])
    const frames = text.split('\n').filter((l) => /^\s*at /.test(l))
    assert.deepEqual(frames, ['      at openIt (src/net.ts:3)', '      at test/a.test.ts:9'])
    // Jest ends a message at the first line `\n\s*at\s.*:\d*:\d*` (jest-message-util's
    // separateMessageFromStack); the e2e tests run the real function on real output.
    assert.doesNotMatch(text, /\n\s*at\s.*:\d*:\d*/)
    assert.doesNotMatch(text, INVISIBLE)
  })

  test('colours are the adapter’s: none by default, ANSI when given, nested styles re-opened', () => {
    assert.ok(!formatLeaks({ type: 'test', name: 't' }, [leak]).includes(ESC))
    const text = formatLeaks({ type: 'test', name: 't' }, [leak], { colors: ansiColors })
    assert.ok(text.includes(`${ESC}[31m✖${ESC}[39m`), text)
    assert.ok(text.includes(`${ESC}[2mat openIt (src/net.ts:3)${ESC}[22m`), text)
    assert.equal(
      ansiColors.dim(`a${ansiColors.bold('b')}c`),
      '\u001b[2ma\u001b[1mb\u001b[22m\u001b[2mc\u001b[22m',
    )
    // Without colours, the frames still match `^\s*at ` after stripping nothing.
    const plain = text.replace(SGR, '')
    assert.equal(plain, formatLeaks({ type: 'test', name: 't' }, [leak]))
  })

  test('an allowed leak names its test or file (Jest prints it ahead of the file’s results)', () => {
    const note = formatSuppressed(
      [{ leak, by: 'allowLeaks', reason: 'kept on purpose' }],
      {},
      {
        type: 'test',
        name: 'keeps a socket',
      },
    )
    assert.equal(
      note,
      'netsan: 1 leak allowed in test "keeps a socket"\n  - open socket — TCP socket to 127.0.0.1:9 (connected), never destroyed (allowLeaks: kept on purpose)',
    )
  })
})

describe('a leak that expectNoLeakedConnections() threw is reported once', () => {
  async function threw(session: Session) {
    const file = session.startFile('test/a.test.ts')
    const scope = session.startTest(file, 'checks itself')
    let error: unknown
    await session.runIn(scope, async () => {
      await openSocket()
      error = await expectNoLeakedConnections().catch((e) => e)
    })
    assert.ok(isLeakError(error))
    return { scope, error: error as LeakError }
  }

  test('the runner reports the thrown error (Jest keeps [error, asyncError]): no second report', async () => {
    const session = new Session(resolveOptions({ root: ROOT }), { runner: 'node-test' })
    try {
      const { scope, error } = await threw(session)
      const outcome = await session.endTest(scope, { failures: [[error, new Error('async')]] })
      assert.equal(outcome?.error, undefined)
      // The report keeps it, once.
      assert.equal(outcome?.result.leaks.length, 1)
    } finally {
      session.dispose()
    }
  })

  test('a serialized copy (Vitest) counts as the same error', async () => {
    const session = new Session(resolveOptions({ root: ROOT }), { runner: 'node-test' })
    try {
      const { scope, error } = await threw(session)
      const copy = { name: error.name, message: error.message, code: error.code }
      const outcome = await session.endTest(scope, { failures: [copy] })
      assert.equal(outcome?.error, undefined)
    } finally {
      session.dispose()
    }
  })

  test('caught by the test (not among its failures): the end of the test reports it', async () => {
    const session = new Session(resolveOptions({ root: ROOT }), { runner: 'node-test' })
    try {
      const { scope } = await threw(session)
      const outcome = await session.endTest(scope, { failures: [new Error('something else')] })
      assert.equal(outcome?.error?.leaks.length, 1)
    } finally {
      session.dispose()
    }
  })

  test('the thrown error is formatted and shaped like the adapter’s reports', async () => {
    const shaped: LeakError[] = []
    const session = new Session(resolveOptions({ root: ROOT }), {
      runner: 'node-test',
      colors: ansiColors,
      sourceLine: () => 'const socket = net.connect()',
      shapeError: (e) => {
        shaped.push(e)
        return e
      },
    })
    try {
      const { scope, error } = await threw(session)
      assert.deepEqual(shaped, [error])
      assert.ok(error.message.includes(`${ESC}[31m✖`), error.message)
      assert.ok(error.message.replace(SGR, '').includes('| const socket = net.connect()'), error.message)
      const outcome = await session.endTest(scope, { failures: [] })
      assert.equal(shaped.length, 2)
      assert.equal(shaped[1], outcome?.error)
    } finally {
      session.dispose()
    }
  })
})

describe('the closing summary', () => {
  test('every session of the run writes its results to the run folder; the summary sums them', async () => {
    const run = runIdFor(process.pid)
    const env = { ...process.env }
    const dir = openRunDir(run, env)
    const saved = process.env.NETSAN_RUN_DIR
    process.env.NETSAN_RUN_DIR = dir
    try {
      for (const [file, mode] of [
        ['test/a.test.ts', 'fail'],
        ['test/b.test.ts', 'fail'],
      ] as const) {
        const session = new Session(resolveOptions({ root: ROOT, mode, report: 'reports/netsan.json' }), {
          runner: 'node-test',
        })
        // The report option's files are not the point here: keep them out of the package.
        ;(session.options as { report: string | undefined }).report = path.join(dir, 'user', 'netsan.json')
        const fileScope = session.startFile(file)
        for (const name of ['leaks', 'allowed', 'clean']) {
          const scope = session.startTest(fileScope, `${file} ${name}`)
          await session.runIn(scope, async () => {
            if (name === 'allowed') allowLeaks('socket', 'kept on purpose')
            if (name !== 'clean') await openSocket()
            // Judged at the file's end: the file fails, not this test, and the summary counts it there.
            else if (file.includes('b')) await openServer()
          })
          await session.endTest(scope)
        }
        if (file.includes('b')) await session.runIn(fileScope!, () => openSocket())
        await session.endFile(fileScope)
        session.dispose()
      }
      const read = readRunDir(dir)
      assert.ok(read)
      assert.equal(read.summary.tests, 6)
      assert.equal(read.summary.testsWithLeaks, 2)
      const text = formatRunSummary(read, 'jest')
      const files = path.join(dir, 'user', `netsan.${run}.*.json`)
      assert.equal(
        text,
        [
          'netsan:      4 leaks in 2 tests, 2 at the end of a file (3 open sockets, 1 listening server)',
          '             2 leaks allowed',
          '               2 — allowLeaks: kept on purpose',
          `             report: ${files}`,
        ].join('\n'),
      )
      assert.equal(
        formatRunSummary(read, 'vitest').split('\n')[0],
        '     netsan  4 leaks in 2 tests, 2 at the end of a file (3 open sockets, 1 listening server)',
      )
    } finally {
      if (saved === undefined) delete process.env.NETSAN_RUN_DIR
      else process.env.NETSAN_RUN_DIR = saved
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a folder named for another run (a runner started by a test) gets nothing', async () => {
    const env = { ...process.env }
    const dir = openRunDir('some-other-run', env)
    const saved = process.env.NETSAN_RUN_DIR
    process.env.NETSAN_RUN_DIR = dir
    try {
      const session = new Session(resolveOptions({ root: ROOT }), { runner: 'node-test' })
      const file = session.startFile('test/a.test.ts')
      await session.endFile(file)
      session.dispose()
      assert.deepEqual(fs.readdirSync(dir), [])
      assert.equal(readRunDir(dir), undefined)
    } finally {
      if (saved === undefined) delete process.env.NETSAN_RUN_DIR
      else process.env.NETSAN_RUN_DIR = saved
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a clean run, warn mode, retried attempts and many reasons', () => {
    const base = {
      reports: [],
      runners: ['jest'],
      runs: [],
      files: 1,
      tests: 2,
      testsWithLeaks: 0,
      leaks: [],
      retried: [],
      workerEnd: [],
      leaksByKind: {},
      suppressed: [],
      suppressedByReason: [],
      baseline: undefined,
      stale: undefined,
      churn: [],
      connections: {
        socketsOpened: 0,
        requests: 0,
        requestsPerConnection: 0,
        tlsHandshakes: 0,
        peakOpenConnections: 0,
        connectionsByOrigin: {},
      },
    }
    assert.equal(
      formatRunSummary({ summary: base, modes: ['fail'], reportFiles: [] }, 'vitest'),
      '     netsan  no leaks',
    )
    const fileItem = (testFile: string) => ({
      project: '',
      testFile,
      test: '',
      fileLevel: true as const,
      leak: { ...leak, count: 2 },
      entry: { testFile, test: '', kind: 'socket' as const, fn: '', file: '' },
      root: '/r',
    })
    assert.equal(
      formatRunSummary(
        {
          summary: {
            ...base,
            leaks: [fileItem('a.test.ts'), fileItem('b.test.ts')],
            leaksByKind: { socket: 4 },
          },
          modes: ['fail'],
          reportFiles: [],
        },
        'vitest',
      ),
      '     netsan  4 leaks at the ends of 2 files (4 open sockets)',
    )
    const item = {
      project: '',
      testFile: 'a.test.ts',
      test: 't',
      leak,
      entry: { testFile: 'a.test.ts', test: 't', kind: 'socket' as const, fn: '', file: '' },
      root: '/r',
    }
    const reasons = Array.from({ length: 7 }, (_, i) => ({
      by: 'ignore' as const,
      reason: `rule\n${i}`,
      count: 1,
    }))
    const text = formatRunSummary(
      {
        summary: {
          ...base,
          testsWithLeaks: 1,
          leaks: [item],
          retried: [item],
          workerEnd: [{ ...item, testFile: '', test: '' }],
          leaksByKind: { socket: 1 },
          suppressedByReason: reasons,
        },
        modes: ['warn'],
        reportFiles: [],
      },
      'jest',
    )
    assert.equal(
      text,
      [
        "netsan:      1 leak in 1 test (1 open socket) — mode 'warn'",
        '             1 leak in retried attempts (warnings: the last attempt decides)',
        '             1 leak left open when a worker ended (warnings: modules shared by its files, isolate: false)',
        '             7 leaks allowed',
        '               1 — ignore: rule 0',
        '               1 — ignore: rule 1',
        '               1 — ignore: rule 2',
        '               1 — ignore: rule 3',
        '               1 — ignore: rule 4',
        '               … and 2 more reasons',
      ].join('\n'),
    )
  })
})
