// node:http responses that carry no body bytes (HEAD, 204, 304, content-length: 0, chunked with no
// chunk): what an IncomingMessage nobody reads keeps. The facts behind docs/discoveries/http-empty-bodies.md.
// Run: node docs/discoveries/probes/http-empty-bodies.mjs
import dc from 'node:diagnostics_channel'
import { createRequire } from 'node:module'

const http = createRequire(import.meta.url)('node:http')
const tick = (ms) => new Promise((r) => setTimeout(r, ms))

const server = http.createServer((req, res) => {
  const p = req.url
  if (p === '/204') return res.writeHead(204).end()
  if (p === '/304') return res.writeHead(304).end()
  if (p === '/cl0') return res.writeHead(200, { 'content-length': '0' }).end()
  if (p === '/chunked-empty') {
    res.writeHead(200, { 'transfer-encoding': 'chunked' })
    return res.end()
  }
  if (p === '/head')
    return res.writeHead(200, { 'content-length': '5' }).end(req.method === 'HEAD' ? '' : 'hello')
  res.writeHead(200, { 'content-length': '10' }).end('0123456789')
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const base = `http://127.0.0.1:${server.address().port}`

const CASES = [
  ['HEAD', '/head', 'HEAD'],
  ['204', '/204', 'GET'],
  ['304', '/304', 'GET'],
  ['content-length: 0', '/cl0', 'GET'],
  ['chunked, no chunk', '/chunked-empty', 'GET'],
  ['200, 10 bytes (reference)', '/ten', 'GET'],
]

// At http.client.response.finish: what the response says about itself when netsan's tracker sees it.
const atPublish = new Map()
const onFinish = ({ response }) =>
  atPublish.set(response, `complete=${response.complete} readableLength=${response.readableLength}`)
dc.subscribe('http.client.response.finish', onFinish)

/** One request on a keep-alive agent with maxSockets 1; `handling` decides what the caller does with the response. */
async function run(method, path, handling, keepAlive = true, headers = {}) {
  const agent = new http.Agent({ keepAlive, maxSockets: 1 })
  const first = await new Promise((resolve) => {
    const req = http.request(`${base}${path}`, { method, agent, headers })
    if (handling === 'no listener') req.once('socket', () => setImmediate(() => resolve({ req })))
    else req.once('response', (res) => resolve({ req, res }))
    req.end()
  })
  if (handling === 'resume()') first.res.resume()
  await tick(100)
  const res = first.res ?? first.req.res
  const state = res
    ? `${atPublish.get(res)} | 100 ms later: complete=${res.complete} readableEnded=${res.readableEnded} ` +
      `_dumped=${res._dumped} destroyed=${res.destroyed} socket held=${res.socket?._httpMessage === first.req} ` +
      `socket destroyed=${first.req.socket?.destroyed}`
    : 'no response yet'
  const free = Object.values(agent.freeSockets).flat().length
  // The next request on the same agent: served, or queued behind the unread response?
  const second = await Promise.race([
    new Promise((resolve) => {
      const req = http.request(`${base}/ten`, { agent }, (r) => {
        r.resume()
        resolve('served')
      })
      req.on('error', (e) => resolve(`error ${e.code}`))
      req.end()
    }),
    tick(500).then(() => 'still queued after 500 ms'),
  ])
  agent.destroy()
  return `${state} | free sockets ${free} | next request: ${second}`
}

for (const [name, path, method] of CASES) {
  for (const handling of ['response listener, never read', 'resume()', 'no listener']) {
    console.log(
      `${process.version} ${name.padEnd(26)} ${handling.padEnd(30)} ${await run(method, path, handling)}`,
    )
  }
}
// Without keep-alive the socket closes once the response is complete, read or not?
for (const [name, path, method] of CASES.slice(0, 2)) {
  console.log(
    `${process.version} ${name.padEnd(26)} keepAlive: false, never read  ${await run(method, path, 'response listener, never read', false)}`,
  )
}
// The server closes the connection after the response (`connection: close`, as supertest's does).
for (const [name, path, method] of CASES.slice(0, 2)) {
  console.log(
    `${process.version} ${name.padEnd(26)} connection: close, never read  ${await run(method, path, 'response listener, never read', true, { connection: 'close' })}`,
  )
}
dc.unsubscribe('http.client.response.finish', onFinish)
server.closeAllConnections()
server.close()
