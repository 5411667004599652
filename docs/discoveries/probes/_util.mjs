// Shared helpers for the discovery probes. Plain JS, no dependencies.
import { createRequire } from 'node:module'
import path from 'node:path'

// NOT `import http from 'node:http'`: in an ES module that evaluates http's lazy WebSocket getter,
// which loads Node's bundled undici and installs its global dispatcher (see global-dispatcher.md).
const http = createRequire(import.meta.url)('node:http')

Error.stackTraceLimit = 50

// Which undici to load: argv[2] or $UNDICI, a directory that has node_modules/undici
// (e.g. /tmp/u7) or the package directory itself. Empty => Node's bundled undici (globals only).
export function loadUndici() {
  const where = process.argv[2] || process.env.UNDICI
  if (!where) return null
  const req = createRequire(path.join(path.resolve(where), 'noop.js'))
  let file
  try {
    file = req.resolve('undici')
  } catch {
    file = req.resolve(path.resolve(where))
  }
  const mod = req(file)
  let dir = path.dirname(file)
  while (true) {
    try {
      mod.__version = req(path.join(dir, 'package.json')).version
      break
    } catch {
      const up = path.dirname(dir)
      if (up === dir) break
      dir = up
    }
  }
  return mod
}

export function label(u) {
  return `node ${process.version}, ${u ? `npm undici ${u.__version}` : `bundled undici ${process.versions.undici}`}`
}

// Stable small ids for objects (sockets, connectors, requests).
export function idOf() {
  const map = new WeakMap()
  let n = 0
  return (o) => {
    if (o === null || o === undefined || (typeof o !== 'object' && typeof o !== 'function')) return String(o)
    if (!map.has(o)) map.set(o, ++n)
    return `#${map.get(o)}`
  }
}

export function keys(o) {
  if (!o || typeof o !== 'object') return String(o)
  return Object.keys(o).join(',')
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export async function withServer(handler, fn) {
  const server = http.createServer(handler)
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const origin = `http://127.0.0.1:${server.address().port}`
  try {
    return await fn(origin, server)
  } finally {
    server.closeAllConnections()
    await new Promise((r) => server.close(r))
  }
}

export async function freePort() {
  const s = http.createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

// A handler with a few fixed routes.
export function routes(req, res) {
  const u = new URL(req.url, 'http://x')
  const p = u.pathname
  if (p === '/small') return res.end('x'.repeat(2048))
  if (p === '/big') return res.end(Buffer.alloc(1024 * 1024, 120))
  if (p === '/204') {
    res.statusCode = 204
    return res.end()
  }
  if (p === '/slow') return setTimeout(() => res.end('late'), Number(u.searchParams.get('ms') || 300))
  if (p === '/slowbody') {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.write('first chunk\n')
    return setTimeout(() => res.end('last chunk\n'), 400)
  }
  if (p === '/post') {
    req.resume()
    return req.on('end', () => res.end('ok'))
  }
  if (p === '/trailers') {
    res.writeHead(200, { trailer: 'x-t' })
    res.write('body')
    res.addTrailers({ 'x-t': 'v' })
    return res.end()
  }
  res.end('ok')
}
