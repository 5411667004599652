// Node core channels: net, tls, http, https, http2. Which fire, when, with what payload.
// Usage: node docs/discoveries/probes/node-core-channels.mjs   (needs the `openssl` binary for a throwaway cert)
import { execFileSync } from 'node:child_process'
import dc from 'node:diagnostics_channel'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { idOf, sleep } from './_util.mjs'

const require = createRequire(import.meta.url)
const net = require('node:net')
const tls = require('node:tls')
const http = require('node:http')
const https = require('node:https')
const http2 = require('node:http2')

console.log(`# node-core-channels — node ${process.version}`)

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-probe-'))
execFileSync(
  'openssl',
  [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=localhost',
    '-keyout',
    path.join(dir, 'key.pem'),
    '-out',
    path.join(dir, 'cert.pem'),
  ],
  { stdio: 'ignore' },
)
const key = fs.readFileSync(path.join(dir, 'key.pem'))
const cert = fs.readFileSync(path.join(dir, 'cert.pem'))
fs.rmSync(dir, { recursive: true })

const PLAIN = [
  'net.client.socket',
  'net.server.socket',
  'http.client.request.created',
  'http.client.request.start',
  'http.client.response.finish',
  'http.client.request.error',
  'http.server.request.start',
  'http.server.response.created',
  'http.server.response.finish',
  ...['created', 'start', 'bodyChunkSent', 'bodySent', 'finish', 'close', 'error'].map(
    (e) => `http2.client.stream.${e}`,
  ),
  ...['created', 'start', 'finish', 'close', 'error'].map((e) => `http2.server.stream.${e}`),
  // guesses, expected NOT to exist:
  'http2.client.session.created',
  'http2.client.session.close',
  'http2.session.created',
  'tls.client.socket',
  'tls.server.socket',
]
const id = idOf()
let inCall = false
let events = []
const seenKeys = new Map()
const describe = (v) => {
  if (v === null || v === undefined) return String(v)
  if (typeof v !== 'object') return typeof v
  return v.constructor?.name ?? 'Object'
}
const record = (name) => (msg) => {
  const sk = Object.entries(msg ?? {})
    .map(([k, v]) => `${k}:${describe(v)}`)
    .join(', ')
  if (!seenKeys.has(name)) seenKeys.set(name, sk)
  const s = msg.socket
  events.push(
    `${name.padEnd(38)} sync=${inCall}${s ? ` socket=${id(s)}${s.encrypted ? '(TLS)' : ''}` : ''}${msg.server ? ` server=${id(msg.server)}` : ''}${msg.request ? ` req=${id(msg.request)}` : ''}${msg.response ? ` res=${id(msg.response)}` : ''}${msg.stream ? ` stream=${id(msg.stream)}` : ''}${msg.error ? ` error=${msg.error.code}` : ''}`,
  )
}
for (const name of PLAIN) dc.subscribe(name, record(name))
const listen = dc.tracingChannel('net.server.listen')
listen.subscribe({
  start: record('tracing:net.server.listen:start'),
  end: record('tracing:net.server.listen:end'),
  asyncStart: record('tracing:net.server.listen:asyncStart'),
  asyncEnd: record('tracing:net.server.listen:asyncEnd'),
  error: record('tracing:net.server.listen:error'),
})
function flush(title, extra = '') {
  console.log(`\n## ${title}`)
  for (const e of events) console.log(`  ${e}`)
  if (events.length === 0) console.log('  (nothing)')
  if (extra) console.log(`  => ${extra}`)
  events = []
}
const syncCall = (fn) => {
  inCall = true
  try {
    return fn()
  } finally {
    inCall = false
  }
}
const listenOn = (server) =>
  new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server.address().port))
  })
const closeServer = (s) => new Promise((r) => s.close(() => r()))

// 1. listen: net, http, https, http2, http2 secure, tls
const servers = {
  net: net.createServer((s) => s.end('hi')),
  http: http.createServer((req, res) =>
    req.url === '/big' ? res.end(Buffer.alloc(1 << 20)) : res.end('ok'),
  ),
  https: https.createServer({ key, cert }, (_req, res) => res.end('ok')),
  http2: http2.createServer(),
  http2secure: http2.createSecureServer({ key, cert }),
  tls: tls.createServer({ key, cert }, (s) => s.end('hi')),
}
const ports = {}
for (const [name, server] of Object.entries(servers)) {
  ports[name] = await syncCall(() => listenOn(server))
  const hasServer = events.some((e) => e.includes(`server=${id(server)}`))
  flush(`${name} server.listen(0)`, `payload.server === the server: ${hasServer}`)
}
servers.http2.on('stream', (stream) => {
  stream.respond({ ':status': 200 })
  stream.end('h2')
})
{
  const dupe = net.createServer()
  dupe.on('error', (e) => events.push(`(error event ${e.code})`))
  syncCall(() => dupe.listen(ports.net, '127.0.0.1'))
  await sleep(50)
  flush('net server.listen(port in use)')
}

// 2. client sockets
const done = (s) => new Promise((r) => s.on('close', r).resume?.())
{
  const s = syncCall(() => net.connect(ports.net, '127.0.0.1'))
  await done(s)
  flush('net.connect()')
  const s2 = new net.Socket()
  syncCall(() => s2.connect(ports.net, '127.0.0.1'))
  await done(s2)
  flush('new net.Socket().connect()')
  const t = syncCall(() => tls.connect(ports.tls, '127.0.0.1', { rejectUnauthorized: false }))
  await done(t)
  flush('tls.connect()')
}

// 3. http client
{
  const agent = new http.Agent({ keepAlive: true })
  let res
  const req = syncCall(() => http.get(`http://127.0.0.1:${ports.http}/big`, { agent }, (r) => (res = r)))
  while (!res) await sleep(5)
  await sleep(200)
  const before = events.some((e) => e.startsWith('http.client.response.finish'))
  res.resume()
  await new Promise((r) => res.on('end', r))
  await sleep(20)
  const after = events.some((e) => e.startsWith('http.client.response.finish'))
  flush(
    'http.get(keepAlive agent) 1 MiB; body unread for 200 ms, then resumed',
    `response.finish before the body was read: ${before}; after: ${after}; req===created.request: ${!!req}`,
  )
  agent.destroy()
  const req2 = syncCall(() => http.get(`http://127.0.0.1:${ports.http}/`, (r) => r.resume()))
  await new Promise((r) => req2.on('close', r))
  flush('http.get() on http.globalAgent, body read')
  const port = await (async () => {
    const s = net.createServer()
    const p = await listenOn(s)
    await closeServer(s)
    return p
  })()
  events = []
  const req3 = syncCall(() => http.get(`http://127.0.0.1:${port}/`))
  await new Promise((r) => req3.on('error', () => r()))
  flush('http.get() to a closed port')
  const req4 = syncCall(() =>
    https.get(`https://127.0.0.1:${ports.https}/`, { rejectUnauthorized: false }, (r) => r.resume()),
  )
  await new Promise((r) => req4.on('close', r))
  flush('https.get()')
}

// 4. http2
for (const [name, url, opts] of [
  ['http2 (h2c)', `http://127.0.0.1:${ports.http2}`, {}],
  ['http2 (TLS)', `https://127.0.0.1:${ports.http2secure}`, { rejectUnauthorized: false }],
]) {
  if (name === 'http2 (TLS)') {
    servers.http2secure.on('stream', (stream) => {
      stream.respond({ ':status': 200 })
      stream.end('h2')
    })
  }
  const session = syncCall(() => http2.connect(url, opts))
  const stream = syncCall(() => session.request({ ':path': '/' }))
  stream.resume()
  await new Promise((r) => stream.on('close', r))
  await new Promise((r) => session.close(r))
  flush(`${name}: http2.connect() + one request + session.close()`)
}

for (const s of Object.values(servers)) await closeServer(s)
events = []

console.log('\n## payload (first message seen on each channel)')
for (const [k, v] of seenKeys) console.log(`  ${k.padEnd(38)} {${v}}`)
const never = PLAIN.filter((n) => !seenKeys.has(n))
console.log(`\n## subscribed but never fired\n  ${never.join('\n  ')}`)
