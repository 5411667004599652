import assert from 'node:assert/strict'
import fs from 'node:fs'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import tls from 'node:tls'
import { WebSocketServer, WebSocket as WsClient } from 'ws'
import { track } from '../src/index.ts'
import { assertCreatedAt, only, ROOT } from './helpers.ts'

const cert = fs.readFileSync(new URL('../fixtures/tls-cert.pem', import.meta.url))
const key = fs.readFileSync(new URL('../fixtures/tls-key.pem', import.meta.url))

const listen = async <S extends { listen: (...a: any[]) => unknown; address: () => unknown }>(server: S) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

describe('TLS sockets', () => {
  let server: tls.Server
  let port: number
  before(async () => {
    server = tls.createServer({ cert, key }, (s) => s.on('error', () => {}))
    port = await listen(server)
  })
  after(() => new Promise((r) => server.close(r)))

  test('a TLS socket left open is a socket leak', async () => {
    const scope = track({ root: ROOT })
    const socket = tls.connect({ port, host: '127.0.0.1', ca: cert }) // MARK:tls
    await new Promise((r) => socket.once('secureConnect', r))
    const leak = only(await scope.end(), 'socket')
    assert.match(leak.description, /^TLS socket to 127\.0\.0\.1:\d+/)
    assertCreatedAt(leak, import.meta.url, 'MARK:tls')
  })

  test('fixed: TLS socket destroyed', async () => {
    const scope = track({ root: ROOT })
    const socket = tls.connect({ port, host: '127.0.0.1', ca: cert })
    await new Promise((r) => socket.once('secureConnect', r))
    socket.destroy()
    assert.deepEqual(await scope.end(), [])
  })
})

describe('HTTP/2 sessions', () => {
  let server: http2.Http2Server
  let url: string
  before(async () => {
    server = http2.createServer()
    server.on('stream', (stream) => {
      stream.respond({ ':status': 200 })
      stream.end('ok')
    })
    url = `http://127.0.0.1:${await listen(server)}`
  })
  after(() => new Promise((r) => server.close(r)))

  const get = (session: http2.ClientHttp2Session) =>
    new Promise<void>((resolve) => {
      const req = session.request({ ':path': '/' })
      req.resume()
      req.on('end', resolve)
    })

  test('an HTTP/2 session never closed is an http2 leak', async () => {
    const scope = track({ root: ROOT })
    const session = http2.connect(url) // MARK:h2
    await get(session)
    const leak = only(await scope.end(), 'http2')
    assert.match(leak.description, /session to http:\/\/127\.0\.0\.1:\d+/)
    assertCreatedAt(leak, import.meta.url, 'MARK:h2')
  })

  test('fixed: session closed', async () => {
    const scope = track({ root: ROOT })
    const session = http2.connect(url)
    await get(session)
    session.close()
    assert.deepEqual(await scope.end(), [])
  })
})

describe('WebSockets', () => {
  let wss: WebSocketServer
  let url: string
  before(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise((r) => wss.once('listening', r))
    url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`
  })
  after(() => new Promise((r) => wss.close(r)))

  test('a global WebSocket never closed is a websocket leak', async () => {
    const scope = track({ root: ROOT })
    const ws = new WebSocket(url) // MARK:global-ws
    await new Promise((r) => ws.addEventListener('open', r, { once: true }))
    const leak = only(await scope.end(), 'websocket')
    assertCreatedAt(leak, import.meta.url, 'MARK:global-ws')
  })

  test('fixed: global WebSocket closed', async () => {
    const scope = track({ root: ROOT })
    const ws = new WebSocket(url)
    await new Promise((r) => ws.addEventListener('open', r, { once: true }))
    ws.close()
    await new Promise((r) => ws.addEventListener('close', r, { once: true }))
    assert.deepEqual(await scope.end(), [])
  })

  test('a global WebSocket whose handshake never completes is a websocket leak, ended by cleanup', async () => {
    // A server that accepts the connection and never answers the upgrade.
    const held = new Set<import('node:net').Socket>()
    const silent = (await import('node:net')).createServer((s) => held.add(s.on('error', () => {})))
    const port = await listen(silent)
    try {
      const scope = track({ root: ROOT })
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`) // MARK:pending-ws
      const closed = new Promise((r) => ws.addEventListener('close', r, { once: true }))
      await new Promise((r) => setTimeout(r, 50))
      const leak = only(await scope.end(), 'websocket')
      assert.match(leak.description, /^ws:\/\/127\.0\.0\.1:\d+\/ \((connecting|open)\)$/)
      assertCreatedAt(leak, import.meta.url, 'MARK:pending-ws')
      await closed // cleanup destroyed its socket: the WebSocket closes instead of hanging
    } finally {
      for (const s of held) s.destroy()
      await new Promise((r) => silent.close(r))
    }
  })

  test('fixed: a refused global WebSocket leaves nothing open', async () => {
    const refused = (await import('node:net')).createServer()
    const port = await listen(refused)
    await new Promise((r) => refused.close(r))
    const scope = track({ root: ROOT })
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`)
    await new Promise((r) => ws.addEventListener('close', r, { once: true }))
    assert.deepEqual(await scope.end(), [])
  })

  test('a ws-package client never closed is a websocket leak', async () => {
    const scope = track({ root: ROOT })
    const ws = new WsClient(url) // MARK:ws-package
    await new Promise((r) => ws.once('open', r))
    const leak = only(await scope.end(), 'websocket')
    assertCreatedAt(leak, import.meta.url, 'MARK:ws-package')
  })

  test('fixed: ws-package client closed', async () => {
    const scope = track({ root: ROOT })
    const ws = new WsClient(url)
    await new Promise((r) => ws.once('open', r))
    ws.close()
    await new Promise((r) => ws.once('close', r))
    assert.deepEqual(await scope.end(), [])
  })
})
