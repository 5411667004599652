import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { PassThrough } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import undici, { request } from 'undici'
import { statusOf, statusViaUndici, textOf } from '../fixtures/app/client.ts'
import { startServer } from '../fixtures/server.ts'
import { track } from '../src/index.ts'
import { assertCreatedAt, assertFramesAt, only, ROOT } from './helpers.ts'

const SOURCE = fs.readFileSync(new URL(import.meta.url), 'utf8').split('\n')
/** This file's line that holds `marker`. */
const lineOf = (marker: string) => SOURCE.findIndex((l) => l.includes(marker) && !l.includes('lineOf(')) + 1

let srv: Awaited<ReturnType<typeof startServer>>
before(async () => {
  srv = await startServer()
})
after(() => srv.close())

describe('bodies', () => {
  test('1 MiB fetch body unread is a body leak at the fetch line', async () => {
    const scope = track({ root: ROOT })
    const res = await fetch(`${srv.url}/big?bytes=1048576`) // MARK:big-fetch
    assert.equal(res.status, 200)
    const leak = only(await scope.end(), 'body')
    assert.match(
      leak.description,
      /GET http:\/\/127\.0\.0\.1:\d+\/big\?bytes=1048576 → 200, 1048576-byte body never read/,
    )
    assertCreatedAt(leak, import.meta.url, 'MARK:big-fetch')
  })

  test('fixed: 1 MiB fetch body read', async () => {
    const scope = track({ root: ROOT })
    const res = await fetch(`${srv.url}/big?bytes=1048576`)
    await res.arrayBuffer()
    assert.deepEqual(await scope.end(), [])
  })

  test('fixed: 1 MiB fetch body cancelled', async () => {
    const scope = track({ root: ROOT })
    const res = await fetch(`${srv.url}/big?bytes=1048576`)
    await res.body?.cancel()
    assert.deepEqual(await scope.end(), [])
  })

  test('2 KiB body unread by application code is reported', async () => {
    const scope = track({ root: ROOT })
    assert.equal(await statusOf(`${srv.url}/small?bytes=2048`), 200)
    const leak = only(await scope.end(), 'body')
    assert.match(leak.stack[0]!, /fixtures\/app\/client\.ts:7:/)
  })

  test('fixed: 2 KiB body read by application code', async () => {
    const scope = track({ root: ROOT })
    assert.equal((await textOf(`${srv.url}/small?bytes=2048`)).length, 2048)
    assert.deepEqual(await scope.end(), [])
  })

  test('2 KiB body unread by the test itself is not reported under bodies: app', async () => {
    const scope = track({ root: ROOT })
    const res = await fetch(`${srv.url}/small?bytes=2048`)
    assert.equal(res.status, 200)
    assert.deepEqual(await scope.end(), [])
  })

  test("…but is under bodies: 'all'", async () => {
    const scope = track({ root: ROOT, bodies: 'all' })
    const res = await fetch(`${srv.url}/small?bytes=2048`) // MARK:small-all
    assert.equal(res.status, 200)
    assertCreatedAt(only(await scope.end(), 'body'), import.meta.url, 'MARK:small-all')
  })

  test('a stream read partly is a body leak', async () => {
    const scope = track({ root: ROOT })
    const res = await fetch(`${srv.url}/big?bytes=4194304`) // MARK:partial
    const reader = res.body!.getReader()
    await reader.read()
    const leak = only(await scope.end(), 'body')
    assert.match(leak.description, /read only partly/)
    assertCreatedAt(leak, import.meta.url, 'MARK:partial')
  })

  test('undici.request body ignored is a body leak', async () => {
    const scope = track({ root: ROOT })
    const { statusCode } = await request(`${srv.url}/big?bytes=1048576`) // MARK:undici-request
    assert.equal(statusCode, 200)
    const leak = only(await scope.end(), 'body')
    assertCreatedAt(leak, import.meta.url, 'MARK:undici-request')
  })

  test('2 KiB undici.request body buffered whole and unread by application code is reported', async () => {
    const scope = track({ root: ROOT })
    const agent = new undici.Agent()
    assert.equal(await statusViaUndici(`${srv.url}/small?bytes=2048`, agent), 200)
    await agent.close()
    const leak = only(await scope.end(), 'body')
    assert.match(leak.description, /→ 200, body never read \(buffered whole\)/)
    assert.match(leak.stack[0]!, /fixtures\/app\/client\.ts:\d+:/)
  })

  test('fixed: undici.request body dumped', async () => {
    const scope = track({ root: ROOT })
    const { body } = await request(`${srv.url}/big?bytes=1048576`)
    await body.dump()
    assert.deepEqual(await scope.end(), [])
  })

  test('http.get response never resumed is a body leak', async () => {
    const scope = track({ root: ROOT })
    const res = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${srv.url}/big?bytes=1048576`, resolve),
    ) // MARK:http-get
    assert.equal(res.statusCode, 200)
    const leaks = await scope.end()
    const leak = only(leaks, 'body')
    assert.match(leak.fix, /res\.resume\(\)/)
  })

  test('fixed: http.get response resumed', async () => {
    const scope = track({ root: ROOT })
    const res = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${srv.url}/big?bytes=1048576`, resolve),
    )
    res.resume()
    await new Promise((r) => res.on('end', r))
    assert.deepEqual(await scope.end(), [])
  })

  test('fixed: http.get response resumed, the test ends while the body still streams', async () => {
    // settleMs 0: no wait at all, as on a machine too loaded to drain 1 MiB within settleMs.
    const scope = track({ root: ROOT, settleMs: 0 })
    const res = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${srv.url}/big?bytes=1048576`, resolve),
    )
    res.resume()
    assert.deepEqual(await scope.end(), [])
    await new Promise((r) => res.on('end', r))
  })

  test('http.get response paused again after a partial read is a body leak', async () => {
    const scope = track({ root: ROOT, settleMs: 0 })
    const res = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${srv.url}/big?bytes=1048576`, resolve),
    )
    await new Promise((r) => res.once('data', r))
    res.pause()
    const leak = only(await scope.end(), 'body')
    assert.match(leak.description, /read only partly/)
  })

  test('http.get response piped into a stream nobody reads is a body leak (node-fetch)', async () => {
    // node-fetch pipes each response into a PassThrough, the Response's body: flowing until the first
    // backpressure, yet nobody reads it. settleMs 0: judged while it still flows.
    const scope = track({ root: ROOT, settleMs: 0 })
    const res = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${srv.url}/big?bytes=1048576`, resolve),
    )
    const body = res.pipe(new PassThrough())
    assert.equal(res.readableFlowing, true)
    const leak = only(await scope.end(), 'body')
    assert.match(leak.description, /1048576-byte body/)
    body.destroy()
  })

  test('fixed: http.get response piped into a stream that is read', async () => {
    const scope = track({ root: ROOT, settleMs: 0 })
    const res = await new Promise<http.IncomingMessage>((resolve) =>
      http.get(`${srv.url}/big?bytes=1048576`, resolve),
    )
    const body = res.pipe(new PassThrough())
    body.resume()
    assert.deepEqual(await scope.end(), [])
    await new Promise((r) => body.on('end', r))
  })

  test('HEAD and 204 responses are never leaks', async () => {
    const scope = track({ root: ROOT, bodies: 'all' })
    assert.equal((await fetch(`${srv.url}/x?bytes=10`, { method: 'HEAD' })).status, 200)
    assert.equal((await fetch(`${srv.url}/nocontent`)).status, 204)
    assert.deepEqual(await scope.end(), [])
  })
})

describe('requests', () => {
  test('fetch left in flight without a signal is a request leak', async () => {
    const scope = track({ root: ROOT })
    const pending = fetch(`${srv.url}/hang`) // MARK:hang
    await new Promise((r) => setTimeout(r, 20))
    const leak = only(await scope.end(), 'request')
    assert.match(leak.description, /no response yet \(no AbortSignal\)/)
    assertCreatedAt(leak, import.meta.url, 'MARK:hang')
    // cleanup aborted it as the caller's own AbortSignal would
    const error = (await pending.then(
      () => undefined,
      (e: unknown) => e,
    )) as Error
    assert.equal(error?.name, 'AbortError')
    assert.match(error.message, /netsan ended a request that the test left in flight/)
  })

  test('cleanup aborts a leaked fetch that still waits for a connection', { timeout: 10_000 }, async () => {
    // An Agent of the undici that runs `fetch` (Node's own), limited to one connection.
    await (await fetch(`${srv.url}/x?bytes=1`)).text()
    const global = (globalThis as Record<symbol, any>)[Symbol.for('undici.globalDispatcher.1')]
    const dispatcher = new global.constructor({ connections: 1 })
    try {
      const scope = track({ root: ROOT })
      const first = fetch(`${srv.url}/hang`, { dispatcher } as RequestInit)
      const queued = fetch(`${srv.url}/hang`, { dispatcher } as RequestInit) // behind the first
      await new Promise((r) => setTimeout(r, 20))
      const leaks = await scope.end()
      assert.deepEqual(
        leaks.map((l) => l.kind),
        ['request', 'request'],
      )
      for (const p of [first, queued]) {
        const error = (await p.then(
          () => undefined,
          (e: unknown) => e,
        )) as Error
        assert.equal(error?.name, 'AbortError')
      }
    } finally {
      await dispatcher.close()
    }
  })

  test('a node:http request whose events a test mocked settles when its socket closes, not at settleMs', async () => {
    // http-proxy-middleware's unit tests make real ClientRequests with emit = jest.fn(): the request's
    // 'close' never reaches a listener, though its failed connection closes the socket within ms.
    const closed = net.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const { port } = closed.address() as net.AddressInfo
    await new Promise((resolve) => closed.close(resolve))
    const scope = track({ root: ROOT, settleMs: 5000 })
    const req = new http.ClientRequest(`http://127.0.0.1:${port}/`)
    req.emit = () => false
    // Ended at once, as a synchronous test is: before Node hands the request its socket.
    const started = performance.now()
    assert.deepEqual(await scope.end(), [])
    const waited = performance.now() - started
    assert.ok(waited < 2500, `waited ${Math.round(waited)} ms: the settle deadline, not the socket's close`)
    assert.equal(req.socket?.destroyed, true)
  })

  test('fixed: aborted request', async () => {
    const scope = track({ root: ROOT })
    const ac = new AbortController()
    const p = fetch(`${srv.url}/hang`, { signal: ac.signal })
    await new Promise((r) => setTimeout(r, 20))
    ac.abort()
    await assert.rejects(p)
    assert.deepEqual(await scope.end(), [])
  })
})

describe('pools', () => {
  test('new Agent() per request never closed is an idle connection', async () => {
    const scope = track({ root: ROOT })
    const agent = new undici.Agent() // MARK:new-agent
    const { body } = await request(`${srv.url}/x?bytes=10`, { dispatcher: agent }) // MARK:undici-agent-request
    await body.dump()
    const leak = only(await scope.end(), 'idle')
    assert.match(
      leak.description,
      /127\.0\.0\.1:\d+, in an undici Agent created in file scope and never closed/,
    )
    // Both lines: where the pool was created (the fix goes there) leads, then its first request.
    assert.equal(leak.stackTitle, 'pool created')
    assertCreatedAt(leak, import.meta.url, 'MARK:new-agent')
    assert.equal(leak.frame?.line, lineOf('MARK:new-agent'))
    assert.deepEqual(
      leak.related?.map((r) => r.title),
      ['first request'],
    )
    assertFramesAt(leak.related![0]!.stack, import.meta.url, 'MARK:undici-agent-request')
  })

  test('a pool undici makes for a ProxyAgent is the ProxyAgent: its line and its name', async () => {
    const proxy = http.createServer((req, res) => {
      // A forward proxy for absolute-form requests (the target is this test's own server).
      const target = new URL(req.url!)
      const up = http.get(
        { host: target.hostname, port: target.port, path: target.pathname + target.search },
        (r) => {
          res.writeHead(r.statusCode!, r.headers)
          r.pipe(res)
        },
      )
      up.on('error', () => res.destroy())
    })
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`
    try {
      const scope = track({ root: ROOT })
      const agent = new undici.ProxyAgent({ uri: proxyUrl, proxyTunnel: false }) // MARK:new-proxy-agent
      const { body } = await request(`${srv.url}/x?bytes=10`, { dispatcher: agent }) // MARK:via-proxy
      await body.dump()
      const leak = only(await scope.end(), 'idle')
      assert.equal(
        leak.description,
        `to the proxy ${new URL(proxyUrl).host}, in an undici ProxyAgent created in file scope and never closed`,
      )
      assertCreatedAt(leak, import.meta.url, 'MARK:new-proxy-agent')
      assertFramesAt(leak.related?.[0]?.stack ?? [], import.meta.url, 'MARK:via-proxy')
    } finally {
      proxy.closeAllConnections()
      await new Promise((r) => proxy.close(r))
    }
  })

  test('fixed: agent closed', async () => {
    const scope = track({ root: ROOT })
    const agent = new undici.Agent()
    const { body } = await request(`${srv.url}/x?bytes=10`, { dispatcher: agent })
    await body.dump()
    await agent.close()
    assert.deepEqual(await scope.end(), [])
  })

  test('new http.Agent({ keepAlive: true }) never destroyed is an idle connection', async () => {
    const scope = track({ root: ROOT })
    const agent = new http.Agent({ keepAlive: true }) // MARK:new-http-agent
    const get = (resolve: (res: http.IncomingMessage) => void) =>
      http.get(`${srv.url}/x?bytes=10`, { agent }, resolve) // MARK:http-agent
    const res = await new Promise<http.IncomingMessage>(get)
    res.resume()
    await new Promise((r) => res.on('end', r))
    const leak = only(await scope.end(), 'idle')
    assert.match(leak.fix, /agent\.destroy\(\)/)
    assert.equal(leak.stackTitle, 'pool created')
    assertCreatedAt(leak, import.meta.url, 'MARK:new-http-agent')
    assert.equal(leak.related?.[0]?.title, 'first request')
    assertFramesAt(leak.related![0]!.stack, import.meta.url, 'MARK:http-agent')
  })

  test('clean: keep-alive reuse through the global dispatcher and http.globalAgent', async () => {
    const scope = track({ root: ROOT })
    for (let i = 0; i < 3; i++) {
      await (await fetch(`${srv.url}/x?bytes=10`)).text()
      const res = await new Promise<http.IncomingMessage>((resolve) =>
        http.get(`${srv.url}/x?bytes=10`, resolve),
      )
      res.resume()
      await new Promise((r) => res.on('end', r))
    }
    assert.deepEqual(await scope.end(), [])
  })

  test('clean: agent created outside, used in an inner scope, closed outside', async () => {
    const outer = track({ root: ROOT })
    const agent = new undici.Agent()
    const inner = outer.track('inner')
    const { body } = await request(`${srv.url}/x?bytes=10`, { dispatcher: agent })
    await body.dump()
    assert.deepEqual(await inner.end(), [])
    await agent.close()
    assert.deepEqual(await outer.end(), [])
  })
})

describe('sockets', () => {
  test('a raw socket left open on an error path is a socket leak', async () => {
    const scope = track({ root: ROOT })
    const port = Number(new URL(srv.url).port)
    const socket = net.connect(port, '127.0.0.1') // MARK:raw
    await new Promise((r) => socket.once('connect', r))
    const leak = only(await scope.end(), 'socket')
    assertCreatedAt(leak, import.meta.url, 'MARK:raw')
  })

  test('a half-closed socket whose peer reset it: its own address, its target and its state, not "to ?"', async () => {
    const accepted: net.Socket[] = []
    const server = net.createServer({ allowHalfOpen: true }, (s) => accepted.push(s.on('error', () => {})))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as net.AddressInfo).port
    try {
      const scope = track({ root: ROOT })
      const socket = net.connect({ port, host: 'localhost', family: 4 }) // MARK:half-closed
      socket.pause() // nobody reads it, so the reset is never noticed
      await new Promise((r) => socket.once('connect', r))
      socket.end()
      while (accepted.length === 0) await new Promise((r) => setTimeout(r, 5))
      accepted[0]!.resetAndDestroy()
      await new Promise((r) => setTimeout(r, 30))
      assert.equal(socket.remoteAddress, undefined, 'the peer address is gone')
      const local = socket.localPort
      const leak = only(await scope.end(), 'socket')
      assert.equal(
        leak.description,
        `TCP socket from 127.0.0.1:${local} to localhost:${port} (127.0.0.1) (half-closed: end() called, the peer has not ended its side; peer address unreadable: reset or gone), never destroyed`,
      )
      assertCreatedAt(leak, import.meta.url, 'MARK:half-closed')
    } finally {
      server.close()
    }
  })

  test('a socket whose peer ended its side, and which never ended its own', async () => {
    const server = net.createServer((s) => s.end())
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const port = (server.address() as net.AddressInfo).port
    try {
      const scope = track({ root: ROOT })
      const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true })
      socket.resume()
      await new Promise((r) => socket.once('end', r))
      const leak = only(await scope.end(), 'socket')
      assert.equal(
        leak.description,
        `TCP socket to 127.0.0.1:${port} (half-closed: the peer ended its side, end() never called), never destroyed`,
      )
    } finally {
      server.close()
    }
  })

  test('clean: a socket destroyed in the same tick the scope ends', async () => {
    const scope = track({ root: ROOT })
    const socket = net.connect(Number(new URL(srv.url).port), '127.0.0.1')
    await new Promise((r) => socket.once('connect', r))
    socket.destroy()
    assert.deepEqual(await scope.end(), [])
  })

  test('clean: a library client that connects lazily in an inner scope and is closed at the outer end', async () => {
    const { LazyClient } = await import('../fixtures/node_modules/lazy-db/index.js')
    const outer = track({ root: ROOT })
    const client = new LazyClient(Number(new URL(srv.url).port))
    const inner = outer.track('first query')
    assert.equal(await client.query(), 'ok')
    assert.deepEqual(await inner.end(), [])
    client.end()
    assert.deepEqual(await outer.end(), [])
  })

  test('a server never closed is a server leak', async () => {
    const scope = track({ root: ROOT })
    const server = http.createServer()
    server.listen(0, '127.0.0.1') // MARK:server
    await new Promise((r) => server.once('listening', r))
    const leak = only(await scope.end(), 'server')
    assert.match(leak.description, /HTTP server on 127\.0\.0\.1:\d+/)
    assertCreatedAt(leak, import.meta.url, 'MARK:server')
  })

  test('fixed: server closed', async () => {
    const scope = track({ root: ROOT })
    const server = http.createServer().listen(0, '127.0.0.1')
    await new Promise((r) => server.once('listening', r))
    await new Promise((r) => server.close(r))
    assert.deepEqual(await scope.end(), [])
  })
})

describe('shared pools', () => {
  test("sharedPools: 'fail' reports the global dispatcher's idle connection", async () => {
    const own = await startServer() // a new origin: the global dispatcher opens a connection for this scope
    const scope = track({ root: ROOT, sharedPools: 'fail' })
    await (await fetch(`${own.url}/x?bytes=10`)).text()
    const leak = only(await scope.end(), 'idle')
    assert.match(leak.description, /in undici's global dispatcher \(a shared pool; sharedPools: 'fail'\)/)
    await own.close()
  })

  test("sharedPools: 'close' closes the global dispatcher's idle connections after each test", async () => {
    const file = track({ root: ROOT, sharedPools: 'close' })
    const sockets = new Set<import('node:net').Socket>()
    const dc = await import('node:diagnostics_channel')
    const onConnected = ({ socket }: any) => sockets.add(socket)
    dc.subscribe('undici:client:connected', onConnected)
    try {
      // A server of its own: a new origin, so the global dispatcher must open a new connection.
      const own = await startServer()
      const inner = file.track('a test')
      await (await fetch(`${own.url}/x?bytes=10`)).text()
      assert.equal(sockets.size, 1)
      const [socket] = sockets
      assert.equal(socket!.destroyed, false, 'idle in the pool while the test runs')
      assert.deepEqual(await inner.end(), [])
      assert.equal(socket!.destroyed, true, 'closed once the test has ended')
      await own.close()
    } finally {
      dc.unsubscribe('undici:client:connected', onConnected)
      assert.deepEqual(await file.end(), [])
    }
  })
})

describe('a test that makes many requests', () => {
  test('lets go of the finished ones as it goes, and still reports the unread bodies at their lines', async () => {
    const scope = track({ root: ROOT, bodies: 'all' })
    const unreadFetch = await fetch(`${srv.url}/small?bytes=64`) // MARK:many-unread-fetch
    const unreadRequest = await request(`${srv.url}/small?bytes=64`) // MARK:many-unread-request
    for (let i = 0; i < 150; i++) {
      await (await fetch(`${srv.url}/small?bytes=64`)).arrayBuffer()
      await (await request(`${srv.url}/small?bytes=64`)).body.text()
    }
    // 302 requests made: those finished were let go on the way, the two unread bodies were kept.
    assert.ok(scope.size() < 150, `the scope holds ${scope.size()} resources`)
    const leaks = await scope.end()
    assert.equal(leaks.length, 2, JSON.stringify(leaks, null, 2))
    for (const leak of leaks) {
      assert.equal(leak.kind, 'body')
      assert.match(leak.description, /→ 200, .*never read/)
    }
    const at = (marker: string) =>
      leaks.filter((leak) => {
        try {
          assertCreatedAt(leak, import.meta.url, marker)
          return true
        } catch {
          return false
        }
      }).length
    assert.equal(at('MARK:many-unread-fetch'), 1)
    assert.equal(at('MARK:many-unread-request'), 1)
    assert.equal(unreadFetch.status, 200)
    assert.equal(unreadRequest.statusCode, 200)
  })
})
