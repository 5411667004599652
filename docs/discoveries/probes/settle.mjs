// How long after a close call does each resource report closed on loopback? This sizes `settleMs`.
// Run: node docs/discoveries/probes/settle.mjs   (prints the max and median over N rounds, in ms)
import http from 'node:http'
import http2 from 'node:http2'
import net from 'node:net'
import { performance } from 'node:perf_hooks'

const ROUNDS = Number(process.argv[2] ?? 50)
const once = (emitter, event) => new Promise((resolve) => emitter.once(event, resolve))

const server = http.createServer((_req, res) => res.end('x'.repeat(1024)))
await new Promise((r) => server.listen(0, '127.0.0.1', r))
const port = server.address().port
const h2 = http2.createServer()
h2.on('stream', (stream) => {
  stream.respond({ ':status': 200 })
  stream.end('ok')
})
await new Promise((r) => h2.listen(0, '127.0.0.1', r))

async function time(label, setup, close, closed) {
  const samples = []
  for (let i = 0; i < ROUNDS; i++) {
    const thing = await setup()
    const t0 = performance.now()
    const done = closed(thing)
    close(thing)
    await done
    samples.push(performance.now() - t0)
  }
  samples.sort((a, b) => a - b)
  const median = samples[Math.floor(samples.length / 2)]
  console.log(`${label.padEnd(44)} median ${median.toFixed(3)} ms  max ${samples.at(-1).toFixed(3)} ms`)
}

const connected = async () => {
  const s = net.connect(port, '127.0.0.1')
  await once(s, 'connect')
  return s
}
await time(
  'socket.destroy() → close',
  connected,
  (s) => s.destroy(),
  (s) => once(s, 'close'),
)
await time(
  'socket.end() → close (server ends too)',
  connected,
  (s) => s.end(),
  (s) => once(s, 'close'),
)
await time(
  'server.close() idle server → close',
  async () => {
    const s = http.createServer()
    await new Promise((r) => s.listen(0, '127.0.0.1', r))
    return s
  },
  (s) => s.close(),
  (s) => once(s, 'close'),
)
await time(
  'http.Agent keep-alive: agent.destroy() → socket close',
  async () => {
    const agent = new http.Agent({ keepAlive: true })
    const res = await new Promise((r) => http.get({ port, host: '127.0.0.1', agent }, r))
    res.resume()
    await once(res, 'end')
    await new Promise((r) => setImmediate(r))
    return { agent, socket: Object.values(agent.freeSockets)[0][0] }
  },
  ({ agent }) => agent.destroy(),
  ({ socket }) => once(socket, 'close'),
)
await time(
  'http2 session.close() → close',
  async () => {
    const session = http2.connect(`http://127.0.0.1:${h2.address().port}`)
    const req = session.request({ ':path': '/' })
    req.resume()
    await once(req, 'end')
    return session
  },
  (s) => s.close(),
  (s) => once(s, 'close'),
)
await time(
  'global WebSocket ws.close() → close event',
  async () => {
    const { WebSocketServer } = await import('ws')
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await once(wss, 'listening')
    const ws = new WebSocket(`ws://127.0.0.1:${wss.address().port}`)
    await new Promise((r) => ws.addEventListener('open', r, { once: true }))
    return { ws, wss }
  },
  ({ ws }) => ws.close(),
  ({ ws, wss }) => new Promise((r) => ws.addEventListener('close', () => wss.close(r), { once: true })),
)
server.closeAllConnections()
server.close()
h2.close()
