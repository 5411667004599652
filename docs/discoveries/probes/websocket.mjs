// WebSocket (undici / Node's global WebSocket): channels around the handshake, open and close.
// Usage: node docs/discoveries/probes/websocket.mjs [/tmp/u7]   (no arg => Node's global WebSocket)
import { createHash } from 'node:crypto'
import dc from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { idOf, label, loadUndici, sleep } from './_util.mjs'

const http = createRequire(import.meta.url)('node:http')
const u = loadUndici()
const WS = u ? u.WebSocket : globalThis.WebSocket
console.log(`# websocket — ${label(u)} (${u ? 'undici.WebSocket' : 'global WebSocket'})`)

const id = idOf()
const describe = (v) => (v === null || typeof v !== 'object' ? typeof v : (v.constructor?.name ?? 'Object'))
const events = []
for (const name of [
  'undici:request:create',
  'undici:request:headers',
  'undici:request:error',
  'undici:request:trailers',
  'undici:client:beforeConnect',
  'undici:client:connected',
  'undici:client:sendHeaders',
  'undici:websocket:open',
  'undici:websocket:close',
  'undici:websocket:socket_error',
]) {
  dc.subscribe(name, (msg) => {
    const fields = Object.entries(msg)
      .map(([k, v]) => `${k}:${describe(v)}${v && typeof v === 'object' && k !== 'request' ? id(v) : ''}`)
      .join(', ')
    let extra = ''
    if (msg.request && name.endsWith('create')) {
      const h = msg.request.headers
      extra = ` upgrade=${JSON.stringify(msg.request.upgrade)} headers=${Array.isArray(h) ? 'Array' : typeof h} hasUpgradeHeader=${/upgrade/i.test(String(h))}`
    }
    if (name.endsWith('websocket:open')) extra = ` websocket===ws: ${msg.websocket === globalThis.__ws}`
    events.push(`${name.replace('undici:', '').padEnd(22)} {${fields}}${extra}`)
  })
}

const server = http.createServer((_req, res) => res.end('no'))
server.on('upgrade', (req, socket) => {
  const accept = createHash('sha1')
    .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest('base64')
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  )
  socket.on('data', (buf) => {
    // echo a close frame back when the client sends one (opcode 8)
    if ((buf[0] & 0x0f) === 8) socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe8]))
  })
  socket.on('error', () => {})
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const ws = new WS(`ws://127.0.0.1:${server.address().port}/`)
globalThis.__ws = ws
console.log(`  ws object ${id(ws)}`)
await new Promise((resolve, reject) => {
  ws.onopen = resolve
  ws.onerror = reject
})
events.push(`(open event; readyState=${ws.readyState})`)
ws.close()
await new Promise((r) => {
  ws.onclose = r
})
events.push(`(close event; readyState=${ws.readyState})`)
await sleep(50)
for (const e of events) console.log(`  ${e}`)
server.close()
