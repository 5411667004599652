// What a listener changes, and what an abort looks like to the caller: the facts behind
// docs/discoveries/observer.md. Run: node docs/discoveries/probes/observer.mjs
import dc from 'node:diagnostics_channel'
import http from 'node:http'
import http2 from 'node:http2'

const out = (...a) => console.log(...a)
const tick = (ms = 50) => new Promise((r) => setTimeout(r, ms))

const server = http.createServer((req, res) => {
  if (req.url === '/hang') return
  res.end('hello world')
})
server.on('upgrade', (_req, socket) => {
  socket.on('error', () => {})
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const base = `http://127.0.0.1:${server.address().port}`

// 1. http.client.response.finish fires before Node decides to dump a response nobody listens to.
const seen = []
const onFinish = ({ response }) => {
  seen.push(`at publish: _dumped=${response._dumped}`)
  setImmediate(() => seen.push(`a turn later: _dumped=${response._dumped}`))
}
dc.subscribe('http.client.response.finish', onFinish)
for (const listen of [false, true]) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const req = http.get(base, { agent })
  if (listen) req.once('response', () => {})
  await tick()
  out(
    `'response' listener ${listen ? 'added' : 'none'}: ${seen.splice(0).join(', ')}; free sockets ${Object.values(agent.freeSockets).flat().length}`,
  )
  agent.destroy()
}
dc.unsubscribe('http.client.response.finish', onFinish)

// 2. An upgrade response: destroyed without an 'upgrade' listener; with one, 'close' follows the handover.
for (const listen of [false, true]) {
  const req = http.get(`${base}/ws`, { headers: { connection: 'Upgrade', upgrade: 'websocket' } })
  if (listen) req.once('upgrade', () => {})
  await new Promise((r) => req.once('close', r))
  out(
    `'upgrade' listener ${listen ? 'added' : 'none'}: at 'close' upgradeOrConnect=${req.upgradeOrConnect} socket.destroyed=${req.socket.destroyed}`,
  )
  req.socket.destroy()
}

// 3. listen() on a port in use: the tracing channel's error, and the server's own 'error' event.
const events = []
const onError = ({ error }) => events.push(`tracing:net.server.listen:error ${error.code}`)
dc.subscribe('tracing:net.server.listen:error', onError)
const second = http.createServer()
second.once('error', (e) => events.push(`'error' event ${e.code}`))
second.listen(server.address().port, '127.0.0.1')
await tick()
out(`listen on a used port: ${events.join(', ')}; listening=${second.listening}`)
dc.unsubscribe('tracing:net.server.listen:error', onError)

// 4. What the caller of fetch sees: the caller's own abort vs an abort of undici's request from below.
const ac = new AbortController()
const own = fetch(`${base}/hang`, { signal: ac.signal }).catch((e) => e)
await tick()
ac.abort()
const e1 = await own
out(`fetch, caller's AbortSignal: ${e1.name} (${e1.constructor.name}, code ${e1.code})`)
const below = fetch(`${base}/hang`).catch((e) => e)
await tick()
server.closeAllConnections()
const e2 = await below
out(
  `fetch, its connection ended from below: ${e2.name}: ${e2.message} (cause: ${e2.cause?.code ?? e2.cause?.name})`,
)

// 5. node:http with a signal: Node destroys the request with its own AbortError.
const ac2 = new AbortController()
const e3 = await new Promise((resolve) => {
  const req = http.get(`${base}/hang`, { signal: ac2.signal })
  req.on('error', resolve)
  setTimeout(() => ac2.abort(), 50)
})
out(`http.get, caller's AbortSignal: ${e3.name} code ${e3.code}; cause ${e3.cause?.name}`)
const e4 = await new Promise((resolve) => {
  const req = http.get(`${base}/hang`)
  req.on('error', resolve)
  setTimeout(() => req.destroy(), 50)
})
out(`http.get, req.destroy() with no error: ${e4.message} code ${e4.code}`)

// 6. HTTP/2: a stream still waiting when its session ends.
const h2 = http2.createServer()
h2.on('stream', (s) => s.on('error', () => {}))
await new Promise((r) => h2.listen(0, '127.0.0.1', r))
for (const how of ['session.destroy()', 'raw socket destroy()']) {
  let raw
  const onSocket = ({ socket }) => (raw = socket)
  dc.subscribe('net.client.socket', onSocket)
  const session = http2.connect(`http://127.0.0.1:${h2.address().port}`)
  dc.unsubscribe('net.client.socket', onSocket)
  const stream = session.request({ ':path': '/hang' })
  const ended = new Promise((r) => {
    stream.on('error', (e) => r(`'error' ${e.code}`))
    stream.on('close', () => r(`'close', rstCode ${stream.rstCode}`))
  })
  await tick()
  if (how === 'session.destroy()') session.destroy()
  else raw.destroy()
  out(`HTTP/2 stream after ${how}: ${await ended}`)
}
await new Promise((r) => h2.close(r))
server.closeAllConnections()
server.close()
