// What an HTTP/2 client session and its socket look like after a GOAWAY or a close(), and where Node
// keeps the session on its socket. Run: node docs/discoveries/probes/http2-goaway.mjs
import { subscribe } from 'node:diagnostics_channel'
import http2 from 'node:http2'

let lastSocket
subscribe('net.client.socket', ({ socket }) => {
  lastSocket = socket
})

const server = http2.createServer()
const serverSessions = new Set()
let arrived
server.on('session', (s) => serverSessions.add(s))
server.on('stream', (stream, headers) => {
  arrived?.()
  if (headers[':path'] === '/hang') return
  stream.respond({ ':status': 200 })
  stream.end('ok')
})
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const url = `http://127.0.0.1:${server.address().port}`
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function scenario(label, { stream, goaway, clientClose }) {
  const session = http2.connect(url)
  const socket = lastSocket
  const got = new Promise((r) => (arrived = r))
  const req = session.request({ ':path': stream ? '/hang' : '/' })
  req.on('error', () => {})
  req.resume()
  await got
  if (!stream) await new Promise((r) => req.once('end', r))
  const [serverSession] = [...serverSessions].slice(-1)
  if (goaway) {
    const away = new Promise((r) => session.once('goaway', r))
    serverSession.goaway(0)
    await away
  }
  if (clientClose) session.close()
  await sleep(100)
  const key = Reflect.ownKeys(socket).find((k) => socket[k] === session)
  console.log(
    `| ${label} | ${session.closed} | ${session.destroyed} | ${socket.destroyed} | ${socket.writableEnded} | ${typeof key === 'symbol' ? key.toString() : JSON.stringify(key)} |`,
  )
  session.destroy()
  serverSession.destroy()
}

console.log(`Node ${process.version}\n`)
console.log(
  '| 100 ms after | session.closed | session.destroyed | socket.destroyed | socket.writableEnded | key of the session on the socket |',
)
console.log('|---|---|---|---|---|---|')
await scenario('server GOAWAY, idle, client close()', { goaway: true, clientClose: true })
await scenario('server GOAWAY, idle, client does nothing', { goaway: true })
await scenario('server GOAWAY, a stream still open, client close()', {
  goaway: true,
  stream: true,
  clientClose: true,
})
await scenario('client close(), a stream still open', { stream: true, clientClose: true })
await scenario('client close(), idle', { clientClose: true })
await scenario('never closed, idle', {})
server.close()
