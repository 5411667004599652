// What a closing server and a peerless socket look like from outside: the facts server.ts and
// socket.ts rely on. Run: node docs/discoveries/probes/server-close.mjs (any Node 20.19+).
import dc from 'node:diagnostics_channel'
import fs from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'

const cert = fs.readFileSync(new URL('../../../packages/core/fixtures/tls-cert.pem', import.meta.url))
const key = fs.readFileSync(new URL('../../../packages/core/fixtures/tls-key.pem', import.meta.url))
const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms))
const listen = (s) => new Promise((r) => s.listen(0, '127.0.0.1', () => r(s.address().port)))
const accepted = []
dc.subscribe('net.server.socket', ({ socket }) => accepted.push(socket))
let requestSocket
dc.subscribe('http.server.request.start', ({ socket }) => {
  requestSocket = socket
})
const row = (what, value) => console.log(`${what}: ${value}`)
console.log(`Node ${process.version}`)

// net: close() with a connection neither side ends
{
  const server = net.createServer((s) => s.write('hi'))
  const port = await listen(server)
  const client = net.connect(port, '127.0.0.1')
  await new Promise((r) => client.once('data', r))
  let closed = false
  const events = []
  const emit = server.emit
  server.emit = function (name, ...a) {
    events.push(name)
    return emit.call(this, name, ...a)
  }
  server.close(() => (closed = true))
  await tick()
  row(
    'net: after close(), listening / address() / _connections / close event',
    `${server.listening} / ${server.address()} / ${server._connections} / ${closed}`,
  )
  row('net: events emitted by close() while a connection stays', JSON.stringify(events))
  const raw = accepted.at(-1)
  row('net: net.server.socket socket.server is the server', raw.server === server)
  raw.destroy()
  await tick()
  row('net: destroying the accepted socket lets close() complete', closed)
  client.destroy()
}

// http: close() ends idle connections itself, waits for a response in progress
{
  const server = http.createServer((req, res) => (req.url === '/hang' ? res.write('x') : res.end('ok')))
  const port = await listen(server)
  const agent = new http.Agent({ keepAlive: true })
  await new Promise((r) =>
    http.get(`http://127.0.0.1:${port}/`, { agent }, (res) => res.resume().on('end', r)),
  )
  let closed = false
  server.close(() => (closed = true))
  await tick()
  row('http: close() with one idle keep-alive connection completes', closed)
  const server2 = http.createServer((req, res) => res.write('x'))
  const port2 = await listen(server2)
  await new Promise((r) => http.get(`http://127.0.0.1:${port2}/stream?a=1`, (res) => r(res.resume())))
  const s = accepted.at(-1)
  row(
    'http: socket._httpMessage.req of a response in progress',
    `${s._httpMessage?.req?.method} ${s._httpMessage?.req?.url}`,
  )
  let closed2 = false
  server2.close(() => (closed2 = true))
  await tick()
  row('http: close() with a response in progress completes', closed2)
  server2.closeAllConnections()
  agent.destroy()
}

// https: the accepted socket is the TCP one; HTTP runs on the TLSSocket over it
{
  const server = https.createServer({ cert, key }, (req, res) => res.write('x'))
  const port = await listen(server)
  await new Promise((r) =>
    https.get(`https://127.0.0.1:${port}/s`, { rejectUnauthorized: false }, (res) => r(res.resume())),
  )
  const raw = accepted.at(-1)
  row(
    'https: accepted socket is a TLSSocket / has _httpMessage',
    `${raw.encrypted === true} / ${raw._httpMessage != null}`,
  )
  row(
    'https: http.server.request.start socket._parent is the accepted socket',
    requestSocket?._parent === raw,
  )
  row(
    'https: the accepted socket points to the TLSSocket',
    Reflect.ownKeys(raw).some((k) => raw[k] === requestSocket),
  )
  server.closeAllConnections()
  server.close()
}

// tls: destroying the accepted TCP socket ends the TLS connection and lets close() complete
{
  const server = tls.createServer({ cert, key }, (s) => s.write('hi'))
  const port = await listen(server)
  const client = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
  await new Promise((r) => client.once('data', r))
  let closed = false
  server.close(() => (closed = true))
  accepted.at(-1).destroy()
  await tick()
  row('tls: destroying the accepted TCP socket lets close() complete', closed)
  client.destroy()
}

// http2: what close() does with a session whose stream never ends
for (const secure of [false, true]) {
  const server = secure ? http2.createSecureServer({ cert, key }) : http2.createServer()
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 })
    stream.write('x')
  })
  const port = await listen(server)
  const session = http2.connect(`${secure ? 'https' : 'http'}://127.0.0.1:${port}`, {
    rejectUnauthorized: false,
  })
  const stream = session.request({ ':path': '/' })
  await new Promise((r) => stream.once('data', r))
  const name = secure ? 'http2 (TLS)' : 'http2'
  const sessions = Object.getOwnPropertySymbols(server).find((k) => k.description === 'sessions')
  row(`${name}: the server lists its sessions (a Set under a 'sessions' symbol)`, sessions !== undefined)
  let closed = false
  server.close(() => (closed = true))
  await tick()
  const [serverSession] = sessions ? server[sessions] : []
  row(
    `${name}: close() closed the server's session (waiting for its stream) / the server closed`,
    `${serverSession?.closed} / ${closed}`,
  )
  accepted.at(-1).destroy()
  await tick()
  row(`${name}: destroying the accepted socket lets close() complete`, closed)
  session.destroy()
}

// a paused, half-closed client socket whose peer reset it
{
  const server = net.createServer({ allowHalfOpen: true }, () => {})
  const port = await listen(server)
  const attempts = []
  const socket = net.connect({ port, host: 'localhost', family: 4 })
  socket.on('connectionAttempt', (...a) => attempts.push(a))
  socket.pause()
  await new Promise((r) => socket.once('connect', r))
  socket.end()
  await tick()
  accepted.at(-1).resetAndDestroy()
  await tick(50)
  row(
    'peer reset: readyState / destroyed / remoteAddress / localAddress',
    `${socket.readyState} / ${socket.destroyed} / ${socket.remoteAddress} / ${socket.localAddress}`,
  )
  row(
    'peer reset: connectionAttempt (ip, port, family) / _host',
    `${JSON.stringify(attempts)} / ${socket._host}`,
  )
  socket.destroy()
  server.close()
}
