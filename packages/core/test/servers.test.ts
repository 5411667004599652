// Listening servers: what the report says for each server class, for a server whose close() still
// waits for connections (and which connections), the fix per class, cleanup of the connections a
// closing server waits for, and servers judged at their file's end, naming the test that opened them.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import net from 'node:net'
import { describe, test } from 'node:test'
import tls from 'node:tls'
import { type Leak, type NetsanOptions, resolveOptions, Session, track } from '../src/index.ts'
import {
  type Connection,
  describeServer,
  type ServerSnapshot,
  serverFix,
} from '../src/trackers/server-words.ts'
import { assertCreatedAt, assertFramesAt, only, ROOT } from './helpers.ts'

const cert = fs.readFileSync(new URL('../fixtures/tls-cert.pem', import.meta.url))
const key = fs.readFileSync(new URL('../fixtures/tls-key.pem', import.meta.url))

const listen = (server: net.Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  )
const closed = (server: net.Server) => new Promise((resolve) => server.once('close', resolve))

describe('server reports (pure)', () => {
  const base: ServerSnapshot = {
    type: 'http',
    address: '127.0.0.1:4000',
    closeCalledMsAgo: undefined,
    connectionCount: 0,
    connections: [],
  }
  const from = (port: number, state: Connection['state']): Connection => ({
    remote: `127.0.0.1:${port}`,
    state,
  })

  test('never closed: the class in words and its address', () => {
    const words = (type: ServerSnapshot['type']) => describeServer({ ...base, type })
    assert.equal(words('http'), 'HTTP server on 127.0.0.1:4000, never closed')
    assert.equal(words('https'), 'HTTPS server on 127.0.0.1:4000, never closed')
    assert.equal(words('http2'), 'HTTP/2 server (cleartext) on 127.0.0.1:4000, never closed')
    assert.equal(words('http2-tls'), 'HTTP/2 server (TLS) on 127.0.0.1:4000, never closed')
    assert.equal(words('net'), 'TCP server on 127.0.0.1:4000, never closed')
    assert.equal(words('tls'), 'TLS server on 127.0.0.1:4000, never closed')
    assert.equal(
      describeServer({ ...base, address: undefined }),
      'HTTP server (listen() called, not bound yet), never closed',
    )
  })

  test('closing: when close() was called, how many connections it waits for, and each of them', () => {
    assert.equal(
      describeServer({
        ...base,
        closeCalledMsAgo: 120.4,
        connectionCount: 2,
        connections: [
          from(50001, { kind: 'serving', method: 'GET', url: '/slow?page=2' }),
          from(50002, { kind: 'upgraded' }),
        ],
      }),
      'HTTP server on 127.0.0.1:4000, close() called 120 ms ago but still waiting for 2 connections: ' +
        'from 127.0.0.1:50001, serving GET /slow?page=2 (response not ended); ' +
        'from 127.0.0.1:50002, upgraded (a WebSocket or CONNECT tunnel) and never closed',
    )
    assert.equal(
      describeServer({
        ...base,
        type: 'net',
        closeCalledMsAgo: 5,
        connectionCount: 5,
        connections: [
          from(1, { kind: 'open' }),
          from(2, { kind: 'server-ended' }),
          from(3, { kind: 'client-ended' }),
          from(4, { kind: 'open' }),
        ],
      }),
      'TCP server on 127.0.0.1:4000, close() called 5 ms ago but still waiting for 5 connections: ' +
        'from 127.0.0.1:1, never ended by the handler (socket.end()) nor by the client; ' +
        'from 127.0.0.1:2, ended by the server; the client never ended its side; ' +
        'from 127.0.0.1:3, ended by the client; the handler never ended its side (socket.end()); and 2 more',
    )
    assert.equal(
      describeServer({
        ...base,
        type: 'http2-tls',
        closeCalledMsAgo: 0,
        connectionCount: 2,
        connections: [
          from(7, { kind: 'session', closing: true }),
          { remote: undefined, state: { kind: 'session', closing: false } },
        ],
      }),
      'HTTP/2 server (TLS) on 127.0.0.1:4000, close() called 0 ms ago but still waiting for 2 connections: ' +
        'from 127.0.0.1:7, an HTTP/2 session closing but held open by a stream that never ended; ' +
        'from an unknown address, an HTTP/2 session never closed',
    )
    assert.equal(
      describeServer({ ...base, type: 'tls', closeCalledMsAgo: 9, connectionCount: 1 }),
      'TLS server on 127.0.0.1:4000, close() called 9 ms ago but still waiting for 1 connection',
    )
  })

  test('the fix exists on the class: closeAllConnections() only for http and https', () => {
    const fix = (type: ServerSnapshot['type'], closeCalledMsAgo?: number) =>
      serverFix({ ...base, type, closeCalledMsAgo })
    for (const type of ['http', 'https'] as const) {
      assert.match(fix(type), /^await its close\(\), after server\.closeAllConnections\(\)/)
      assert.match(fix(type, 1), /res\.end\(\).*server\.closeAllConnections\(\)/)
    }
    for (const type of ['net', 'tls', 'http2', 'http2-tls'] as const) {
      assert.match(fix(type), /no closeAllConnections\(\)/, type)
      assert.doesNotMatch(fix(type).replace('no closeAllConnections()', ''), /closeAllConnections/, type)
      assert.doesNotMatch(fix(type, 1), /closeAllConnections/, type)
    }
    assert.match(fix('net', 1), /socket\.end\(\)/)
    assert.match(fix('http2'), /session\.destroy\(\)/)
    assert.match(fix('http2-tls', 1), /stream\.end\(\)/)
  })
})

describe('server classes', () => {
  const cases: [string, () => net.Server, RegExp][] = [
    ['http', () => http.createServer(), /^HTTP server on 127\.0\.0\.1:\d+, never closed$/],
    ['https', () => https.createServer({ cert, key }), /^HTTPS server on 127\.0\.0\.1:\d+, never closed$/],
    ['http2', () => http2.createServer(), /^HTTP\/2 server \(cleartext\) on 127\.0\.0\.1:\d+, never closed$/],
    [
      'http2 secure',
      () => http2.createSecureServer({ cert, key, allowHTTP1: true }),
      /^HTTP\/2 server \(TLS\) on 127\.0\.0\.1:\d+, never closed$/,
    ],
    ['net', () => net.createServer(), /^TCP server on 127\.0\.0\.1:\d+, never closed$/],
    ['tls', () => tls.createServer({ cert, key }), /^TLS server on 127\.0\.0\.1:\d+, never closed$/],
  ]
  for (const [name, make, words] of cases) {
    test(`${name}: named by its class, with a fix that exists on it`, async () => {
      const scope = track({ root: ROOT })
      const server = make()
      await listen(server) // MARK:class
      const leak = only(await scope.end(), 'server')
      assert.match(leak.description, words)
      assertCreatedAt(leak, import.meta.url, 'MARK:class')
      const hasCloseAll =
        typeof (server as { closeAllConnections?: unknown }).closeAllConnections === 'function'
      assert.equal(/after server\.closeAllConnections\(\)/.test(leak.fix), hasCloseAll, leak.fix)
      await closed(server) // cleanup closed it
    })
  }
})

/** A scope in which `fn` leaves a closing server; returns its leaks and the server. */
async function closingLeak(options: NetsanOptions, fn: () => Promise<net.Server>) {
  const scope = track({ root: ROOT, ...options })
  const server = await fn()
  const leaks = await scope.end()
  return { leaks, server }
}

describe('a server whose close() still waits for connections', () => {
  test('net: close() called, still waiting for the connection its handler never ended; cleanup ends it', async () => {
    let clientPort: number | undefined
    const { leaks, server } = await closingLeak({}, async () => {
      const server = net.createServer((socket) => socket.write('hello\r\n')) // never ends its socket
      const port = await listen(server) // MARK:closing-net
      const client = net.connect(port, '127.0.0.1')
      client.on('error', () => {})
      await new Promise((r) => client.once('data', r))
      clientPort = client.localPort
      server.close()
      return server
    })
    assert.deepEqual(leaks.map((l) => l.kind).sort(), ['server', 'socket'])
    const leak = leaks.find((l) => l.kind === 'server')!
    assert.match(
      leak.description,
      new RegExp(
        `^TCP server on 127\\.0\\.0\\.1:\\d+, close\\(\\) called \\d+ ms ago but still waiting for 1 connection: from 127\\.0\\.0\\.1:${clientPort}, never ended by the handler \\(socket\\.end\\(\\)\\) nor by the client$`,
      ),
    )
    assert.doesNotMatch(leak.description, /not yet bound|never closed$/)
    assert.match(leak.fix, /socket\.end\(\)/)
    assert.doesNotMatch(leak.fix, /closeAllConnections/)
    assertCreatedAt(leak, import.meta.url, 'MARK:closing-net')
    await closed(server) // the server-side socket was destroyed, so the close completed
  })

  test('http: names the request whose response the handler never ended', async () => {
    const { leaks, server } = await closingLeak({}, async () => {
      const server = http.createServer((_req, res) => res.write('partial')) // never ends the response
      const port = await listen(server)
      const req = http.get(`http://127.0.0.1:${port}/slow?page=2`, (res) => res.resume())
      req.on('error', () => {})
      await new Promise((r) => req.once('response', r))
      server.close()
      return server
    })
    const leak = only(leaks, 'server')
    assert.match(
      leak.description,
      /^HTTP server on 127\.0\.0\.1:\d+, close\(\) called \d+ ms ago but still waiting for 1 connection: from 127\.0\.0\.1:\d+, serving GET \/slow\?page=2 \(response not ended\)$/,
    )
    assert.match(leak.fix, /res\.end\(\)/)
    await closed(server)
  })

  test('https: the request is found on the TLS socket over the accepted one', async () => {
    const { leaks, server } = await closingLeak({}, async () => {
      const server = https.createServer({ cert, key }, (_req, res) => res.write('partial'))
      const port = await listen(server)
      const req = https.get(`https://127.0.0.1:${port}/stream`, { rejectUnauthorized: false }, (res) =>
        res.resume(),
      )
      req.on('error', () => {})
      await new Promise((r) => req.once('response', r))
      server.close()
      return server
    })
    const leak = only(leaks, 'server')
    assert.match(
      leak.description,
      /^HTTPS server on 127\.0\.0\.1:\d+, close\(\) called \d+ ms ago but still waiting for 1 connection: from 127\.0\.0\.1:\d+, serving GET \/stream \(response not ended\)$/,
    )
    await closed(server)
  })

  test('http2: the session held open by a stream the handler never ended', async () => {
    let session: http2.ClientHttp2Session | undefined
    const { leaks, server } = await closingLeak({}, async () => {
      const server = http2.createServer()
      server.on('stream', (stream) => {
        stream.respond({ ':status': 200 })
        stream.write('partial') // never ended
      })
      const port = await listen(server)
      session = http2.connect(`http://127.0.0.1:${port}`)
      session.on('error', () => {})
      const stream = session.request({ ':path': '/' })
      stream.on('error', () => {})
      await new Promise((r) => stream.once('data', r))
      server.close()
      return server
    })
    const leak = leaks.find((l) => l.kind === 'server')!
    assert.match(
      leak.description,
      /^HTTP\/2 server \(cleartext\) on 127\.0\.0\.1:\d+, close\(\) called \d+ ms ago but still waiting for 1 connection: from 127\.0\.0\.1:\d+, an HTTP\/2 session (closing but held open by a stream that never ended|never closed)$/,
    )
    assert.doesNotMatch(leak.fix, /closeAllConnections/)
    await closed(server)
    session?.destroy()
  })

  test("mode 'warn' and cleanup: false report it and close nothing", async () => {
    for (const options of [{ mode: 'warn' }, { cleanup: false }] as NetsanOptions[]) {
      let client: net.Socket | undefined
      const { leaks, server } = await closingLeak(options, async () => {
        const server = net.createServer((socket) => socket.write('hi'))
        const port = await listen(server)
        client = net.connect(port, '127.0.0.1')
        await new Promise((r) => client!.once('data', r))
        server.close()
        return server
      })
      assert.match(
        only(
          leaks.filter((l) => l.kind === 'server'),
          'server',
        ).description,
        /still waiting/,
      )
      assert.equal(client!.destroyed, false, JSON.stringify(options))
      let done = false
      server.once('close', () => {
        done = true
      })
      await new Promise((r) => setTimeout(r, 50))
      assert.equal(done, false, `${JSON.stringify(options)}: the server still waits`)
      client!.destroy()
      await closed(server)
    }
  })

  test('where the server (and its handler) was created, when listen() is called elsewhere', async () => {
    const start = (server: net.Server) => listen(server) // MARK:listen-helper
    const { leaks, server } = await closingLeak({}, async () => {
      const server = http.createServer((_req, res) => res.write('x')) // MARK:handler
      const port = await start(server)
      const req = http.get(`http://127.0.0.1:${port}/`, (res) => res.resume())
      req.on('error', () => {})
      await new Promise((r) => req.once('response', r))
      server.close()
      return server
    })
    const leak = only(leaks, 'server')
    assert.equal(leak.stackTitle, 'listen() called')
    assertCreatedAt(leak, import.meta.url, 'MARK:listen-helper')
    assert.equal(leak.related?.[0]?.title, 'server created (its handler)')
    assertFramesAt(leak.related![0]!.stack, import.meta.url, 'MARK:handler')
    await closed(server)
  })

  test('fixed: the handler ends its socket, and close() completes', async () => {
    const scope = track({ root: ROOT })
    const server = net.createServer((socket) => socket.end('bye'))
    const port = await listen(server)
    const client = net.connect(port, '127.0.0.1')
    client.resume()
    await new Promise((r) => client.once('close', r))
    await new Promise((r) => server.close(r))
    assert.deepEqual(await scope.end(), [])
  })
})

/** One file of a runner: tests in their own scopes, `afterAll` in the file's. */
async function runFile(
  tests: [string, () => Promise<unknown>][],
  afterAll: () => Promise<unknown> = async () => {},
  options: NetsanOptions = {},
) {
  const session = new Session(resolveOptions({ root: ROOT, settleMs: 50, ...options }), {
    runner: 'node-test',
  })
  try {
    const file = session.startFile('test/servers.file.test.ts')
    const results: Leak[][] = []
    for (const [name, body] of tests) {
      const scope = session.startTest(file, name)
      await session.runIn(scope, body)
      results.push((await session.endTest(scope))!.result.leaks)
    }
    await session.runIn(file, afterAll)
    const fileResult = (await session.endFile(file))!.result
    return { results, fileLeaks: fileResult.leaks }
  } finally {
    session.dispose()
  }
}

describe('a server outlives the test that started it', () => {
  test('started in test 1, used in test 2, closed in afterAll: no leak', async () => {
    let server: http.Server | undefined
    let port = 0
    const { results, fileLeaks } = await runFile(
      [
        [
          'starts the server',
          async () => {
            server = http.createServer((_req, res) => res.end('ok'))
            port = await listen(server)
          },
        ],
        [
          'uses it',
          async () => {
            const res = await fetch(`http://127.0.0.1:${port}/`)
            assert.equal(await res.text(), 'ok')
          },
        ],
      ],
      async () => {
        server!.closeAllConnections()
        await new Promise((r) => server!.close(r))
      },
    )
    assert.deepEqual(results, [[], []])
    assert.deepEqual(fileLeaks, [])
  })

  test('started in a test and never closed: the file fails, naming the test and the line', async () => {
    let server: net.Server | undefined
    const { results, fileLeaks } = await runFile([
      [
        'starts the server',
        async () => {
          server = net.createServer()
          await listen(server) // MARK:file-level
        },
      ],
      ['another test', async () => {}],
    ])
    assert.deepEqual(results, [[], []])
    const leak = only(fileLeaks, 'server')
    assert.equal(leak.owner, 'starts the server')
    assert.match(leak.description, /^TCP server on 127\.0\.0\.1:\d+, never closed$/)
    assertCreatedAt(leak, import.meta.url, 'MARK:file-level')
    assert.equal(server!.listening, false) // cleanup at the file end
  })
})
