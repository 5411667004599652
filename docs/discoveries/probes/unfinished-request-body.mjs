// A request whose body is never finished: node:http without req.end(), undici with a body stream
// that never ends. Which channels fire, and what the request says about itself.
// The facts behind docs/discoveries/unfinished-request-body.md.
// Run: node docs/discoveries/probes/unfinished-request-body.mjs [dir with node_modules/undici]
import dc from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { Readable } from 'node:stream'
import { loadUndici } from './_util.mjs'

const http = createRequire(import.meta.url)('node:http')
const tick = (ms) => new Promise((r) => setTimeout(r, ms))
const U = loadUndici()

const seen = []
const names = [
  'http.client.request.created',
  'http.client.request.start',
  'http.client.response.finish',
  'undici:request:create',
  'undici:client:sendHeaders',
  'undici:request:bodyChunkSent',
  'undici:request:bodySent',
  'undici:request:headers',
]
const subs = names.map((name) => {
  const fn = () => seen.push(name.replace(/^(http\.client\.|undici:)/, ''))
  dc.subscribe(name, fn)
  return [name, fn]
})

// The server answers once it has the whole request body.
const server = http.createServer((req, res) => {
  req.resume()
  req.on('end', () => res.end('ok'))
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const base = `http://127.0.0.1:${server.address().port}`

for (const write of [false, true]) {
  seen.length = 0
  const req = http.request(`${base}/upload`, { method: 'POST' })
  req.on('error', () => {})
  if (write) req.write('partial')
  await tick(200)
  console.log(
    `${process.version} node:http POST, ${write ? "write('partial')" : 'nothing written'}, no end(): ` +
      `channels [${seen.join(', ')}]; writableEnded=${req.writableEnded} writableFinished=${req.writableFinished} ` +
      `headersSent=${req.headersSent} socket=${req.socket ? (req.socket.connecting ? 'connecting' : 'connected') : 'none'} res=${req.res ? 'yes' : 'no'}`,
  )
  req.destroy()
}

if (U) {
  seen.length = 0
  const body = new Readable({ read() {} })
  body.push('partial')
  let request
  const onCreate = ({ request: r }) => (request = r)
  dc.subscribe('undici:request:create', onCreate)
  const pending = U.request(`${base}/upload`, { method: 'POST', body }).catch((e) => e)
  await tick(200)
  dc.unsubscribe('undici:request:create', onCreate)
  console.log(
    `${process.version} undici ${U.__version} request, body stream never ended: channels [${seen.join(', ')}]; ` +
      `request.body is ${request?.body?.constructor?.name}, completed=${request?.completed} aborted=${request?.aborted}`,
  )
  body.destroy()
  await pending
  seen.length = 0
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode('partial'))
    },
  })
  const fetching = U.fetch(`${base}/upload`, { method: 'POST', body: stream, duplex: 'half' }).catch((e) => e)
  await tick(200)
  console.log(
    `${process.version} undici ${U.__version} fetch, ReadableStream body never closed: channels [${seen.join(', ')}]`,
  )
  await stream.cancel().catch(() => {})
  await Promise.race([fetching, tick(500)])
}

for (const [name, fn] of subs) dc.unsubscribe(name, fn)
server.closeAllConnections()
server.close()
