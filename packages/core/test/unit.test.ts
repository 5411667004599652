import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, test } from 'node:test'
import {
  allowLeaks,
  createSession,
  ErrorCodes,
  expectNoLeakedConnections,
  formatLeaks,
  type Leak,
  mergeLeaks,
  NetsanError,
  redactUrl,
  resolveOptions,
} from '../src/index.ts'
import { isTestFile, parseStack } from '../src/stack.ts'
import { headerValue } from '../src/trackers/undici-bodies.ts'

describe('redactUrl', () => {
  test('hides userinfo and sensitive query values', () => {
    assert.equal(redactUrl('https://u:p@host/p?token=abc&x=1'), 'https://***@host/p?token=***&x=1')
  })
  test('keeps harmless URLs unchanged', () => {
    assert.equal(redactUrl('http://127.0.0.1:8080/big?bytes=10'), 'http://127.0.0.1:8080/big?bytes=10')
  })
  test('covers the usual credential names, case-insensitively', () => {
    assert.equal(
      redactUrl('http://h/x?API_KEY=1&Signature=2&password=3&code=4&sig=5&auth=6&secret=7&page=2'),
      'http://h/x?API_KEY=***&Signature=***&password=***&code=***&sig=***&auth=***&secret=***&page=2',
    )
  })
  test('an unparsable URL still loses its userinfo', () => {
    assert.equal(redactUrl('not a url //user:pw@x'), 'not a url //***@x')
  })
})

describe('options', () => {
  const code = (fn: () => unknown) => {
    try {
      fn()
    } catch (e) {
      assert.ok(e instanceof NetsanError)
      return { code: e.code, message: e.message }
    }
    assert.fail('expected a NetsanError')
  }
  test('an unknown key names the key, its value, the key it resembles and the known ones', () => {
    const e = code(() => resolveOptions({ setleMs: 5 }, {}))
    assert.equal(e.code, ErrorCodes.UNKNOWN_OPTION)
    assert.equal(
      e.message,
      'netsan: unknown option "setleMs" (received 5; did you mean "settleMs"?); known options: mode, kinds, settleMs, sharedPools, bodies, ignore, cleanup, report, baseline, base, churn, root',
    )
    const far = code(() => resolveOptions({ verbose: true }, {}))
    assert.match(far.message, /^netsan: unknown option "verbose" \(received true\); known options: mode,/)
  })
  const bad: [string, unknown, RegExp][] = [
    ['mode', 'loud', /"mode": received "loud"; allowed: 'fail', 'warn', 'off'/],
    ['kinds', ['body', 'pipes'], /"kinds\[1\]": received "pipes"; allowed: 'body', 'request'/],
    ['kinds', 'body', /"kinds": received "body"; allowed: a non-empty array of/],
    ['settleMs', -1, /"settleMs": received -1; allowed: a number of milliseconds from 0 to 60000/],
    ['sharedPools', 'share', /"sharedPools": received "share"; allowed: 'allow', 'close', 'fail'/],
    ['bodies', 'some', /"bodies": received "some"; allowed: 'app', 'all', 'held'/],
    [
      'ignore',
      [{ kind: 'body', where: 'x' }],
      /"ignore\[0\]\.where": received "x"; allowed: keys kind, origin, stack/,
    ],
    ['ignore', [{ origin: 5 }], /"ignore\[0\]\.origin": received 5; allowed: a string or a RegExp/],
    ['cleanup', 'yes', /"cleanup": received "yes"; allowed: true or false/],
    ['report', '', /"report": received ""; allowed: a non-empty path string/],
    [
      'churn',
      { maxConnectionsPerOrigin: 0 },
      /"churn": received .*; allowed: false or \{ maxConnectionsPerOrigin/,
    ],
  ]
  for (const [key, value, message] of bad) {
    test(`${key} = ${JSON.stringify(value)} is rejected with a clear message`, () => {
      const e = code(() => resolveOptions({ [key]: value }, {}))
      assert.equal(e.code, ErrorCodes.INVALID_OPTION)
      assert.match(e.message, message)
    })
  }
  test('NETSAN overrides mode; a bad NETSAN value is named', () => {
    assert.equal(resolveOptions({ mode: 'fail' }, { NETSAN: 'off' }).mode, 'off')
    assert.equal(resolveOptions({}, { NETSAN: 'WARN' }).mode, 'warn')
    assert.match(
      code(() => resolveOptions({}, { NETSAN: 'maybe' })).message,
      /NETSAN \(environment variable\)/,
    )
  })
  test('defaults', () => {
    const o = resolveOptions({}, {})
    assert.equal(o.mode, 'fail')
    assert.equal(o.bodies, 'app')
    assert.equal(o.sharedPools, 'allow')
    assert.equal(o.cleanup, true)
    assert.equal(o.kinds.size, 7)
  })
})

describe('public API without an active scope', () => {
  test('expectNoLeakedConnections and allowLeaks say what is missing', async () => {
    await assert.rejects(expectNoLeakedConnections(), (e: NetsanError) => e.code === ErrorCodes.NO_SCOPE)
    assert.throws(
      () => allowLeaks('body', 'x'),
      (e: NetsanError) => e.code === ErrorCodes.NO_SCOPE,
    )
    assert.throws(
      () => allowLeaks('pipes' as never, 'x'),
      (e: NetsanError) => e.code === ErrorCodes.INVALID_OPTION && /allowed: body, request/.test(e.message),
    )
  })

  test('while a session runs with mode off they do nothing, as the rest of netsan; after it, they say so again', async () => {
    const session = createSession({ mode: 'off' }, { runner: 'vitest' })
    assert.equal(session.engine, undefined)
    await expectNoLeakedConnections()
    allowLeaks('body', 'x')
    session.dispose()
    await assert.rejects(expectNoLeakedConnections(), (e: NetsanError) => e.code === ErrorCodes.NO_SCOPE)
  })
})

describe('stacks', () => {
  test('test files are recognised', () => {
    for (const f of [
      '/p/a.test.ts',
      '/p/a.spec.mjs',
      '/p/__tests__/a.js',
      '/p/test/a.js',
      '/p/tests/x/a.ts',
    ]) {
      assert.ok(isTestFile(f), f)
    }
    for (const f of ['/p/src/client.ts', '/p/src/contest.ts', '/p/lib/testing.js'])
      assert.ok(!isTestFile(f), f)
  })
  test('frames are classified as user, library or internal', () => {
    const frames = parseStack(
      [
        'Error',
        '    at connect (node:net:261:17)',
        '    at Pool.query (/p/node_modules/pg/lib/client.js:10:3)',
        '    at async download (file:///p/src/download.ts:14:23)',
        '    at /p/test/download.test.ts:9:5',
      ].join('\n'),
    )
    assert.deepEqual(
      frames.map((f) => [f.kind, f.fn, f.file, f.line]),
      [
        ['internal', 'connect', 'node:net', 261],
        ['library', 'Pool.query', '/p/node_modules/pg/lib/client.js', 10],
        ['user', 'download', '/p/src/download.ts', 14],
        ['user', undefined, '/p/test/download.test.ts', 9],
      ],
    )
  })
})

describe('formatLeaks', () => {
  const body: Leak = {
    kind: 'body',
    description: 'GET http://127.0.0.1:38211/big → 200, 1048576-byte body never read, holding its connection',
    origin: 'http://127.0.0.1:38211',
    stack: ['at downloadArchive (src/download.ts:14:23)', 'at test/download.test.ts:9:5'],
    frame: { fn: 'downloadArchive', file: 'src/download.ts', line: 14, column: 23 },
    fix: 'read the body (await res.arrayBuffer(), await body.dump()) or cancel it (await res.body?.cancel())',
    owner: 'downloads the archive',
    count: 1,
  }
  const idle: Leak = {
    kind: 'idle',
    description: '127.0.0.1:38211, in an undici Agent created by this test and never closed',
    stack: ['at makeClient (src/client.ts:5:15)'],
    fix: 'await agent.close() when done (http.Agent: agent.destroy()), or share one agent across requests',
    owner: 'downloads the archive',
    count: 1,
  }
  test('the message (snapshot)', () => {
    const text = formatLeaks({ type: 'test', name: 'downloads the archive' }, [body, idle, { ...idle }], {
      sourceLine: (file, line) =>
        file === 'src/download.ts' && line === 14 ? '  const res = await fetch(url)' : undefined,
    })
    assert.equal(
      text,
      `netsan: test "downloads the archive" left 3 network resources open

  ✖ unconsumed response body — GET http://127.0.0.1:38211/big → 200, 1048576-byte body never read, holding its connection
      at downloadArchive (src/download.ts:14)
      at test/download.test.ts:9
      14 | const res = await fetch(url)
    fix: read the body (await res.arrayBuffer(), await body.dump()) or cancel it (await res.body?.cancel())

  ✖ idle keep-alive connection (×2) — 127.0.0.1:38211, in an undici Agent created by this test and never closed
      at makeClient (src/client.ts:5)
    fix: await agent.close() when done (http.Agent: agent.destroy()), or share one agent across requests`,
    )
  })
  test('an idle connection: where its pool was created leads, titled, then its first request (snapshot)', () => {
    const pooled: Leak = {
      kind: 'idle',
      description: '127.0.0.1:38211, in an undici Agent created by this test and never closed',
      stack: ['at makeClient (src/client.ts:5:15)', 'at test/users.test.ts:8:19'],
      frame: { fn: 'makeClient', file: 'src/client.ts', line: 5, column: 15 },
      stackTitle: 'pool created',
      related: [
        { title: 'first request', stack: ['at getUser (src/users.ts:12:9)', 'at test/users.test.ts:9:5'] },
      ],
      fix: 'await agent.close() when done (http.Agent: agent.destroy()), or share one agent across requests',
      owner: 'gets a user',
      count: 1,
    }
    const text = formatLeaks({ type: 'test', name: 'gets a user' }, [pooled], {
      sourceLine: (file, line) =>
        file === 'src/client.ts' && line === 5 ? '  return new Agent()' : undefined,
    })
    assert.equal(
      text,
      `netsan: test "gets a user" left 1 network resource open

  ✖ idle keep-alive connection — 127.0.0.1:38211, in an undici Agent created by this test and never closed
    pool created:
      at makeClient (src/client.ts:5)
      at test/users.test.ts:8
      5 | return new Agent()
    first request:
      at getUser (src/users.ts:12)
      at test/users.test.ts:9
    fix: await agent.close() when done (http.Agent: agent.destroy()), or share one agent across requests`,
    )
    // Connections of one pool used from two places are two blocks, not one with a count.
    const other = { ...pooled, related: [{ title: 'first request', stack: ['at other (src/o.ts:1:1)'] }] }
    assert.equal(
      mergeLeaks([pooled, { ...pooled }, other])
        .map((l) => l.count)
        .join(),
      '2,1',
    )
  })
  test('a file-level report names the test that opened each resource', () => {
    const text = formatLeaks({ type: 'file', name: 'test/a.test.ts' }, [{ ...idle, owner: 'first test' }])
    assert.match(text, /^netsan: file "test\/a\.test\.ts" left 1 network resource open/)
    assert.match(text, /opened in: first test/)
  })
})

describe('installation', () => {
  // Vitest loads netsan in a fresh worker per test file: a file that makes no request must not pay
  // for node:http, node:tls, node:http2 or Node's bundled undici (bench/startup.ts measures the rest).
  test('importing netsan loads no lazy builtin exports, and track() none of the heavy network modules', () => {
    const entry = new URL('../src/index.ts', import.meta.url).href
    const code = `
      const heavy = ['http', 'https', 'tls', 'http2', 'internal/deps/undici/undici']
      // What an ES module import of node:fs or node:timers would load through their lazy exports.
      const lazy = ['internal/fs/promises', 'internal/fs/streams', 'internal/readline/interface', 'timers/promises']
      const loaded = (list) => list.filter((m) => process.moduleLoadList.includes('NativeModule ' + m))
      const before = loaded([...heavy, ...lazy])
      const { track } = await import(${JSON.stringify(entry)})
      const imported = loaded(lazy)
      const scope = track()
      await scope.end()
      console.log(JSON.stringify({ before, imported, after: loaded(heavy) }))`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    const { before, imported, after } = JSON.parse(r.stdout.trim().split('\n').at(-1)!)
    assert.deepEqual(before, [])
    assert.deepEqual(imported, [])
    assert.deepEqual(after, [])
  })
})

describe('headerValue', () => {
  test('finds a header in undici raw headers (Buffers or strings, any case) and in an object', () => {
    const raw = [
      Buffer.from('Content-Type'),
      Buffer.from('text/plain'),
      Buffer.from('Content-Length'),
      Buffer.from('12'),
    ]
    assert.equal(headerValue(raw, 'content-length'), '12')
    assert.equal(headerValue(['x', '1', 'CONTENT-LENGTH', '0'], 'content-length'), '0')
    assert.equal(headerValue([Buffer.from('content-lengthx'), Buffer.from('3')], 'content-length'), undefined)
    assert.equal(headerValue([null, '1', undefined, '2'], 'content-length'), undefined)
    assert.equal(headerValue({ 'content-length': 7 }, 'content-length'), '7')
    assert.equal(headerValue(undefined, 'content-length'), undefined)
  })
})
