// One process of client cells for the compatibility matrix: each cell runs a leaking case and
// its fixed twin through netsan's `track()` and checks that exactly the expected kinds leak in the
// first and nothing in the second. Loopback servers only (127.0.0.1, port 0).
//
//   node compat/cells.mjs --netsan <core dist/netsan.js> --group undici|node|nock|msw
//                         [--undici <dir holding node_modules/undici> | bundled] [--clients <dir>]
//
// Prints one JSON object on stdout: { node, undici, cells: [{ cell, ok, detail, ms }] }.
import fs from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import { createRequire } from 'node:module'
import net from 'node:net'
import path from 'node:path'
import { Readable, Writable } from 'node:stream'
import { pipeline as pipe } from 'node:stream/promises'
import tls from 'node:tls'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    netsan: { type: 'string' },
    group: { type: 'string' },
    undici: { type: 'string', default: 'bundled' },
    clients: { type: 'string' },
    only: { type: 'string' },
    skip: { type: 'string', default: '' },
  },
})
const REPO = path.resolve(import.meta.dirname, '..')
const { track } = await import(pathToFileURL(path.resolve(args.netsan)).href)
const cert = fs.readFileSync(path.join(REPO, 'packages/core/fixtures/tls-cert.pem'))
const key = fs.readFileSync(path.join(REPO, 'packages/core/fixtures/tls-key.pem'))
const rootRequire = createRequire(path.join(REPO, 'package.json'))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const once = (emitter, event) => new Promise((r) => emitter.once(event, r))

// ---- loopback servers ------------------------------------------------------------------------
const hanging = new Set()
const seen = new Map() // path → HTTP version the server saw, for the ALPN checks
function handler(req, res) {
  const url = new URL(req.url ?? '/', 'http://x')
  seen.set(url.pathname, req.httpVersion)
  if (url.pathname === '/hang') {
    hanging.add(res)
    res.on('close', () => hanging.delete(res))
    return
  }
  if (url.pathname === '/nocontent') return res.writeHead(204).end()
  if (url.pathname === '/redirect') return res.writeHead(302, { location: url.searchParams.get('to') }).end()
  // Answers once the whole request body has arrived: a body never ended waits forever.
  if (url.pathname === '/upload') {
    hanging.add(res)
    res.on('close', () => hanging.delete(res))
    req.resume().on('end', () => res.end('ok'))
    return
  }
  const size = Number(url.searchParams.get('bytes') ?? 1024 * 1024)
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size })
  res.end(Buffer.alloc(size, 97))
}
async function listen(server) {
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server.address().port
}
const plain = http.createServer(handler)
const secure = http2.createSecureServer({ cert, key, allowHTTP1: true }, handler)
const raw = net.createServer((s) => s.on('error', () => {}))
const rawTls = tls.createServer({ cert, key }, (s) => s.on('error', () => {}))
const H = `http://127.0.0.1:${await listen(plain)}`
const S = `https://127.0.0.1:${await listen(secure)}`
const rawPort = await listen(raw)
const tlsPort = await listen(rawTls)
const { WebSocketServer, WebSocket: WsClient } = rootRequire('ws')
const wss = new WebSocketServer({ server: plain })
wss.on('connection', (ws) => ws.on('error', () => {}))
const W = H.replace('http', 'ws')

// ---- the cell harness ---------------------------------------------------------------------------
const kindsOf = (leaks) => [...new Set(leaks.map((l) => l.kind))].sort().join(',') || 'none'
const cells = []
const results = []
function cell(name, expected, leak, fixed, options = {}, note = undefined) {
  if (args.only && !name.includes(args.only)) return
  if (args.skip.split(',').includes(name)) return
  cells.push({ name, expected: [...expected].sort().join(','), leak, fixed, options, note })
}
async function within(ms, promise, what) {
  let timer
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
// An exception nobody catches while a cell runs (say, an 'error' event that netsan's cleanup of a
// leaked resource provoked) fails that cell instead of ending the process.
let uncaught = []
process.on('uncaughtException', (error) => uncaught.push(error))
process.on('unhandledRejection', (error) => uncaught.push(error))
const firstLines = (error) =>
  String(error?.stack ?? error)
    .split('\n')
    .slice(0, 3)
    .join(' / ')
async function runCell({ name, expected, leak, fixed, options, note }) {
  const started = performance.now()
  const problems = []
  for (const [label, fn, want] of [
    ['leak', leak, expected],
    ['fixed', fixed, 'none'],
  ]) {
    uncaught = []
    try {
      await within(
        15_000,
        (async () => {
          const scope = track({ root: REPO, ...options })
          const after = await fn()
          const leaks = await scope.end()
          // Late errors (from netsan's cleanup) surface before this cell's own cleanup runs.
          await sleep(50)
          if (uncaught.length)
            problems.push(
              `${label}: uncaught after scope.end() (netsan's cleanup): ${firstLines(uncaught[0])}`,
            )
          uncaught = []
          if (typeof after === 'function') await Promise.resolve().then(after).catch(noop)
          await sleep(10)
          const got = kindsOf(leaks)
          if (got !== want)
            problems.push(
              `${label}: expected ${want}, got ${got}${leaks.length ? ` (${leaks.map((l) => l.description).join(' | ')})` : ''}`,
            )
        })(),
        `${label} case`,
      )
    } catch (error) {
      // Does the same code work without netsan? If not, the combination itself does not work.
      const alone = await within(15_000, Promise.resolve().then(fn), 'without netsan').then(
        (after) => (typeof after === 'function' ? Promise.resolve().then(after).catch(noop) : undefined),
        (e) => e ?? new Error('failed'),
      )
      if (alone instanceof Error) {
        results.push({
          cell: name,
          ok: false,
          na: true,
          detail: `fails without netsan too: ${firstLines(alone)}`,
        })
        return
      }
      problems.push(`${label}: threw ${firstLines(error)}`)
    }
    if (uncaught.length) problems.push(`${label}: uncaught ${firstLines(uncaught[0])}`)
  }
  results.push({
    cell: name,
    ok: problems.length === 0,
    detail: problems.join('; '),
    note: note?.(),
    ms: Math.round(performance.now() - started),
  })
}

const noop = () => {}
const sink = () =>
  new Writable({
    write(_chunk, _enc, cb) {
      cb()
    },
  })
const drain = (res) =>
  new Promise((resolve, reject) => {
    res.on('end', resolve).on('error', reject)
    res.resume()
  })
const get = (mod, url, opts = {}) =>
  new Promise((resolve, reject) => mod.get(url, opts, resolve).on('error', reject))
function expectH2(pathname) {
  if (seen.get(pathname) !== '2.0')
    throw new Error(`server saw HTTP/${seen.get(pathname)} on ${pathname}, not h2`)
}

// ---- undici cells: Node's bundled undici (globals) or an npm copy --------------------------------
let undiciVersion = 'bundled'
if (args.group === 'undici') {
  const bundled = args.undici === 'bundled'
  const U = bundled
    ? undefined
    : createRequire(path.join(path.resolve(args.undici), 'package.json'))('undici')
  undiciVersion = bundled
    ? `bundled ${process.versions.undici}`
    : createRequire(path.join(path.resolve(args.undici), 'package.json'))('undici/package.json').version
  // Looked up at call time: netsan wraps the realm's globals when a scope starts.
  const doFetch = bundled ? (...a) => globalThis.fetch(...a) : U.fetch
  const newWebSocket = (url) => (bundled ? new globalThis.WebSocket(url) : new U.WebSocket(url))

  cell(
    'fetch',
    ['body'],
    async () => {
      const res = await doFetch(`${H}/big`)
      if (res.status !== 200) throw new Error(`status ${res.status}`)
      return () => res.body?.cancel()
    },
    async () => {
      const res = await doFetch(`${H}/big`)
      await res.arrayBuffer()
    },
  )
  cell(
    'fetch in flight',
    ['request'],
    async () => {
      const p = doFetch(`${H}/hang`).catch(() => {})
      await sleep(30)
      return async () => {
        for (const res of hanging) res.destroy()
        await p
      }
    },
    async () => {
      const p = doFetch(`${H}/hang`, { signal: AbortSignal.timeout(50) })
      await p.then(
        () => {
          throw new Error('resolved')
        },
        () => {},
      )
    },
  )
  cell(
    'fetch, 2 KiB body unread by app code',
    ['body'],
    async () => {
      const res = await doFetch(`${H}/big?bytes=2048`)
      if (res.status !== 200) throw new Error(`status ${res.status}`)
    },
    async () => {
      await (await doFetch(`${H}/big?bytes=2048`)).text()
    },
  )
  cell(
    'fetch, 2 KiB body after a redirect',
    ['body'],
    async () => {
      const res = await doFetch(`${H}/redirect?to=${encodeURIComponent('/big?bytes=2048')}`)
      if (res.status !== 200) throw new Error(`status ${res.status}`)
    },
    async () => {
      await (await doFetch(`${H}/redirect?to=${encodeURIComponent('/big?bytes=2048')}`)).text()
    },
  )
  cell(
    'fetch, request body never ended',
    ['request'],
    async () => {
      const body = new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode('half')) })
      const p = doFetch(`${H}/upload`, { method: 'POST', body, duplex: 'half' }).catch(noop)
      await sleep(30)
      return async () => {
        await body.cancel().catch(noop)
        for (const res of hanging) res.destroy()
        await p
      }
    },
    async () => {
      const body = new ReadableStream({
        start: (c) => {
          c.enqueue(new TextEncoder().encode('whole'))
          c.close()
        },
      })
      await (await doFetch(`${H}/upload`, { method: 'POST', body, duplex: 'half' })).text()
    },
  )
  cell(
    'fetch over TLS, default dispatcher',
    ['body'],
    async () => {
      const res = await doFetch(`${S}/tls-leak`)
      if (res.status !== 200) throw new Error(`status ${res.status}`)
      return () => res.body?.cancel().catch(noop)
    },
    async () => {
      await (await doFetch(`${S}/tls-fixed`)).arrayBuffer()
    },
    {},
    () => `negotiated HTTP/${seen.get('/tls-fixed')}`,
  )
  if (!(bundled ? globalThis.WebSocket : U.WebSocket))
    cells.push({
      cleanupOnly: async () => {
        if (!args.only || 'WebSocket'.includes(args.only))
          results.push({
            cell: 'WebSocket',
            ok: false,
            na: true,
            detail: `no global WebSocket in Node ${process.version}`,
          })
      },
    })
  else
    cell(
      'WebSocket',
      ['websocket'],
      async () => {
        const ws = newWebSocket(W)
        await new Promise((r) => ws.addEventListener('open', r, { once: true }))
        return () => ws.close()
      },
      async () => {
        const ws = newWebSocket(W)
        await new Promise((r) => ws.addEventListener('open', r, { once: true }))
        ws.close()
        await new Promise((r) => ws.addEventListener('close', r, { once: true }))
      },
    )
  if (U) {
    cell(
      'undici.request',
      ['body'],
      async () => {
        const { statusCode, body } = await U.request(`${H}/big`)
        if (statusCode !== 200) throw new Error(`status ${statusCode}`)
        return () => body.on('error', noop).destroy()
      },
      async () => {
        const { body } = await U.request(`${H}/big`)
        await body.dump()
      },
    )
    cell(
      'undici.request, 2 KiB body unread by app code',
      ['body'],
      async () => {
        const { statusCode } = await U.request(`${H}/big?bytes=2048`)
        if (statusCode !== 200) throw new Error(`status ${statusCode}`)
      },
      async () => {
        const { body } = await U.request(`${H}/big?bytes=2048`)
        await body.text()
      },
    )
    cell(
      'undici.request, body stream never ended',
      ['request'],
      async () => {
        const body = new Readable({ read() {} })
        body.push('half')
        const p = U.request(`${H}/upload`, { method: 'POST', body }).catch(noop)
        await sleep(30)
        return async () => {
          body.destroy()
          for (const res of hanging) res.destroy()
          await p
        }
      },
      async () => {
        const { body } = await U.request(`${H}/upload`, { method: 'POST', body: Readable.from(['whole']) })
        await body.text()
      },
    )
    cell(
      'undici.stream',
      ['request'],
      async () => {
        const p = U.stream(`${H}/hang`, { method: 'GET' }, () => sink()).catch(() => {})
        await sleep(30)
        return async () => {
          for (const res of hanging) res.destroy()
          await p
        }
      },
      async () => {
        await U.stream(`${H}/hang`, { method: 'GET', signal: AbortSignal.timeout(50) }, () => sink()).then(
          () => {
            throw new Error('resolved')
          },
          () => {},
        )
        await U.stream(`${H}/big`, { method: 'GET' }, () => sink())
      },
    )
    cell(
      'undici.pipeline',
      ['body'],
      async () => {
        let responded
        const headers = new Promise((r) => (responded = r))
        const duplex = U.pipeline(`${H}/big`, { method: 'GET' }, ({ body }) => {
          responded()
          return body
        })
        duplex.on('error', () => {}).end()
        await headers
        await sleep(20)
        return () => duplex.on('error', noop).destroy()
      },
      async () => {
        await pipe(
          Readable.from([]),
          U.pipeline(`${H}/big`, { method: 'GET' }, ({ body }) => body),
          sink(),
        )
      },
    )
    cell(
      'undici Agent (idle pool)',
      ['idle'],
      async () => {
        const agent = new U.Agent()
        const { body } = await U.request(`${H}/big?bytes=10`, { dispatcher: agent })
        await body.dump()
        return () => agent.close()
      },
      async () => {
        const agent = new U.Agent()
        const { body } = await U.request(`${H}/big?bytes=10`, { dispatcher: agent })
        await body.dump()
        await agent.close()
      },
    )
    const mockAgent = () => {
      const mock = new U.MockAgent()
      mock.disableNetConnect()
      mock.get('http://api.example.test').intercept({ path: '/users' }).reply(200, 'x'.repeat(2048))
      return mock
    }
    cell(
      'MockAgent + global fetch',
      ['body'],
      async () => {
        const previous = U.getGlobalDispatcher()
        const mock = mockAgent()
        U.setGlobalDispatcher(mock)
        try {
          const res = await globalThis.fetch('http://api.example.test/users')
          if (res.status !== 200) throw new Error(`status ${res.status}`)
        } finally {
          U.setGlobalDispatcher(previous)
        }
        return () => mock.close()
      },
      async () => {
        const previous = U.getGlobalDispatcher()
        const mock = mockAgent()
        U.setGlobalDispatcher(mock)
        try {
          await (await globalThis.fetch('http://api.example.test/users')).text()
        } finally {
          U.setGlobalDispatcher(previous)
        }
        await mock.close()
      },
      { bodies: 'all' },
    )
    cell(
      'MockAgent + undici.fetch',
      ['body'],
      async () => {
        const mock = mockAgent()
        const res = await U.fetch('http://api.example.test/users', { dispatcher: mock })
        if (res.status !== 200) throw new Error(`status ${res.status}`)
        return () => mock.close()
      },
      async () => {
        const mock = mockAgent()
        await (await U.fetch('http://api.example.test/users', { dispatcher: mock })).text()
        await mock.close()
      },
      { bodies: 'all' },
    )
    cell(
      'MockAgent + undici.request',
      ['body'],
      async () => {
        const mock = mockAgent()
        const { statusCode } = await U.request('http://api.example.test/users', { dispatcher: mock })
        if (statusCode !== 200) throw new Error(`status ${statusCode}`)
        return () => mock.close()
      },
      async () => {
        const mock = mockAgent()
        const { body } = await U.request('http://api.example.test/users', { dispatcher: mock })
        await body.text()
        await mock.close()
      },
      { bodies: 'all' },
    )
    cell(
      'MockAgent + undici.request, reply never sent',
      ['request'],
      async () => {
        const mock = new U.MockAgent()
        mock.disableNetConnect()
        mock.get('http://api.example.test').intercept({ path: '/slow' }).reply(200, 'late').delay(60_000)
        const p = U.request('http://api.example.test/slow', { dispatcher: mock }).catch(noop)
        await sleep(20)
        return async () => {
          await p
          await mock.close()
        }
      },
      async () => {
        const mock = mockAgent()
        const { body } = await U.request('http://api.example.test/users', { dispatcher: mock })
        await body.dump()
        await mock.close()
      },
    )
    // HTTP/2 over TLS, negotiated by ALPN (the server also speaks HTTP/1.1): each case has its own
    // Agent; the leaking one forgets the body, the fixed one reads it and closes the Agent.
    const h2Agent = () => new U.Agent({ allowH2: true, connect: { ca: cert } })
    cell(
      'undici HTTP/2 (allowH2, ALPN)',
      ['body'],
      async () => {
        const agent = h2Agent()
        const { statusCode, body } = await U.request(`${S}/h2-leak`, { dispatcher: agent })
        if (statusCode !== 200) throw new Error(`status ${statusCode}`)
        expectH2('/h2-leak')
        return () => {
          body.on('error', noop).destroy()
          return agent.destroy()
        }
      },
      async () => {
        const agent = h2Agent()
        const { body } = await U.request(`${S}/h2-fixed`, { dispatcher: agent })
        await body.dump()
        expectH2('/h2-fixed')
        await agent.close()
      },
    )
    cell(
      'fetch over HTTP/2 (allowH2, ALPN)',
      ['body'],
      async () => {
        const agent = h2Agent()
        const res = await U.fetch(`${S}/h2f-leak`, { dispatcher: agent })
        expectH2('/h2f-leak')
        return () => {
          res.body?.cancel().catch(noop)
          return agent.destroy()
        }
      },
      async () => {
        const agent = h2Agent()
        await (await U.fetch(`${S}/h2f-fixed`, { dispatcher: agent })).arrayBuffer()
        expectH2('/h2f-fixed')
        await agent.close()
      },
    )
  }
}

// ---- node: core modules and the clients built on them ---------------------------------------
if (args.group === 'node') {
  cell(
    'node:http',
    ['body'],
    async () => {
      const res = await get(http, `${H}/big`)
      return () => res.on('error', noop).destroy()
    },
    async () => drain(await get(http, `${H}/big`)),
  )
  // One keep-alive socket: an empty response nobody consumes keeps it (docs/discoveries/http-empty-bodies.md).
  for (const [name, method, path] of [
    ['node:http 204, never consumed', 'GET', '/nocontent'],
    ['node:http HEAD, never consumed', 'HEAD', '/big?bytes=10'],
  ])
    cell(
      name,
      ['body'],
      async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
        await new Promise((resolve, reject) =>
          http.request(`${H}${path}`, { method, agent }, resolve).on('error', reject).end(),
        )
        return () => agent.destroy()
      },
      async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
        await drain(
          await new Promise((resolve, reject) =>
            http.request(`${H}${path}`, { method, agent }, resolve).on('error', reject).end(),
          ),
        )
        agent.destroy()
      },
    )
  cell(
    'node:http, req.end() never called',
    ['request'],
    async () => {
      const req = http.request(`${H}/upload`, { method: 'POST' }).on('error', noop)
      req.write('half')
      await sleep(30)
      return () => req.destroy()
    },
    async () => {
      const res = await new Promise((resolve) =>
        http.request(`${H}/upload`, { method: 'POST' }, resolve).end('whole'),
      )
      await drain(res)
    },
  )
  cell(
    'node:http in flight',
    ['request'],
    async () => {
      const req = http.get(`${H}/hang`).on('error', () => {})
      await sleep(30)
      return () => req.destroy()
    },
    async () => {
      const req = http.get(`${H}/hang`, { signal: AbortSignal.timeout(50) })
      await once(
        req.on('error', () => {}),
        'close',
      )
    },
  )
  cell(
    'http.Agent (idle pool)',
    ['idle'],
    async () => {
      const agent = new http.Agent({ keepAlive: true })
      await drain(await get(http, `${H}/big?bytes=10`, { agent }))
      return () => agent.destroy()
    },
    async () => {
      const agent = new http.Agent({ keepAlive: true })
      await drain(await get(http, `${H}/big?bytes=10`, { agent }))
      agent.destroy()
    },
  )
  cell(
    'node:https (TLS)',
    ['body'],
    async () => {
      const res = await get(https, `${S}/big`, { ca: cert })
      return () => res.on('error', noop).destroy()
    },
    async () => drain(await get(https, `${S}/big`, { ca: cert })),
  )
  const h2get = (session, p) =>
    new Promise((resolve, reject) => {
      const req = session.request({ ':path': p })
      req.on('error', reject).on('end', resolve).resume()
    })
  cell(
    'node:http2 (TLS, ALPN h2)',
    ['http2'],
    async () => {
      const session = http2.connect(S, { ca: cert })
      await h2get(session, '/h2-node?bytes=10')
      if (session.alpnProtocol !== 'h2') throw new Error(`ALPN ${session.alpnProtocol}`)
      return () => session.destroy()
    },
    async () => {
      const session = http2.connect(S, { ca: cert })
      await h2get(session, '/h2-node?bytes=10')
      session.close()
    },
  )
  cell(
    'node:net socket',
    ['socket'],
    async () => {
      const socket = net.connect(rawPort, '127.0.0.1')
      await once(socket, 'connect')
      return () => socket.destroy()
    },
    async () => {
      const socket = net.connect(rawPort, '127.0.0.1')
      await once(socket, 'connect')
      socket.destroy()
    },
  )
  cell(
    'node:tls socket',
    ['socket'],
    async () => {
      const socket = tls.connect({ port: tlsPort, host: '127.0.0.1', ca: cert })
      await once(socket, 'secureConnect')
      return () => socket.destroy()
    },
    async () => {
      const socket = tls.connect({ port: tlsPort, host: '127.0.0.1', ca: cert })
      await once(socket, 'secureConnect')
      socket.destroy()
    },
  )
  cell(
    'http server',
    ['server'],
    async () => {
      const server = http.createServer()
      await listen(server)
      return () => new Promise((r) => server.close(r))
    },
    async () => {
      const server = http.createServer()
      await listen(server)
      await new Promise((r) => server.close(r))
    },
  )
  cell(
    'ws',
    ['websocket'],
    async () => {
      const ws = new WsClient(W)
      await once(ws, 'open')
      return () => ws.close()
    },
    async () => {
      const ws = new WsClient(W)
      await once(ws, 'open')
      ws.close()
      await once(ws, 'close')
    },
  )
  if (args.clients) {
    const { axios, got, nodeFetch } = await import(pathToFileURL(path.join(args.clients, 'clients.mjs')).href)
    cell(
      'axios',
      ['body'],
      async () => {
        const res = await axios.get(`${H}/big`, { responseType: 'stream' })
        return () => res.data.on('error', noop).destroy()
      },
      async () => {
        const res = await axios.get(`${H}/big`, { responseType: 'stream' })
        await pipe(res.data, sink())
      },
    )
    cell(
      'got',
      ['body'],
      async () => {
        const stream = got.stream(`${H}/big`)
        await once(stream, 'response')
        return () => stream.on('error', noop).destroy()
      },
      async () => {
        await pipe(got.stream(`${H}/big`), sink())
      },
    )
    cell(
      'node-fetch',
      ['body'],
      async () => {
        const res = await nodeFetch(`${H}/big`)
        return () => res.body.on('error', noop).destroy()
      },
      async () => {
        await (await nodeFetch(`${H}/big`)).arrayBuffer()
      },
    )
  }
}

// ---- mocks that patch globals: each in its own process --------------------------------------
if (args.group === 'nock') {
  const nockModule = rootRequire('nock')
  const nock = nockModule.default ?? nockModule
  cell(
    'nock 15 (fetch)',
    ['body'],
    async () => {
      nock('http://api.example.test').get('/report').reply(200, 'x'.repeat(2048))
      const res = await fetch('http://api.example.test/report')
      if (res.status !== 200) throw new Error(`status ${res.status}`)
      return () => nock.cleanAll()
    },
    async () => {
      nock('http://api.example.test').get('/report').reply(200, 'x'.repeat(2048))
      await (await fetch('http://api.example.test/report')).text()
      nock.cleanAll()
    },
    { bodies: 'all' },
  )
  cell(
    'nock 15 (node:http)',
    ['body'],
    async () => {
      nock('http://api.example.test').get('/big').reply(200, 'x'.repeat(100_000))
      const res = await get(http, 'http://api.example.test/big')
      return () => {
        res.on('error', noop).destroy()
        nock.cleanAll()
      }
    },
    async () => {
      nock('http://api.example.test').get('/big').reply(200, 'x'.repeat(100_000))
      await drain(await get(http, 'http://api.example.test/big'))
      nock.cleanAll()
    },
    { bodies: 'all' },
  )
}
let mswVersion
if (args.group === 'msw') {
  const {
    msw,
    mswNode,
    mswVersion: version,
  } = await import(pathToFileURL(path.join(args.clients, 'msw.mjs')).href)
  mswVersion = version
  const server = mswNode.setupServer(
    msw.http.get('http://api.example.test/report', () => msw.HttpResponse.text('x'.repeat(2048))),
  )
  server.listen({ onUnhandledRequest: 'bypass' })
  cell(
    'msw (fetch)',
    ['body'],
    async () => {
      const res = await fetch('http://api.example.test/report')
      if (res.status !== 200) throw new Error(`status ${res.status}`)
      return () => res.body?.cancel()
    },
    async () => {
      await (await fetch('http://api.example.test/report')).text()
    },
    { bodies: 'all' },
  )
  cell(
    'msw (node:http)',
    ['body'],
    async () => {
      const res = await get(http, 'http://api.example.test/report')
      return () => res.on('error', noop).destroy()
    },
    async () => drain(await get(http, 'http://api.example.test/report')),
    { bodies: 'all' },
  )
  cells.push({ cleanupOnly: () => server.close() })
}

for (const c of cells) {
  if (c.cleanupOnly) await within(5000, c.cleanupOnly(), 'cleanup').catch(noop)
  else await runCell(c)
}
for (const res of hanging) res.destroy()
for (const s of [plain, secure, raw, rawTls]) {
  s.closeAllConnections?.()
  s.close()
}
wss.close()
process.stdout.write(
  `${JSON.stringify({ node: process.version, undici: undiciVersion, msw: mswVersion, cells: results })}\n`,
)
process.exit(0)
