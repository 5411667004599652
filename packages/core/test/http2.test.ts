// HTTP/2 sessions after a GOAWAY or a close(): netsan tracks a session by its socket, and tells a session
// the client closed (waiting for the server, or for its own open streams) from one never closed.
import assert from 'node:assert/strict'
import http2 from 'node:http2'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { FIXES, track } from '../src/index.ts'
import { assertCreatedAt, only, ROOT } from './helpers.ts'

// `/goaway`: the server answers, then sends GOAWAY and keeps the connection open (as a server that
// drains does); `/hang`: never answered.
let server: http2.Http2Server
let url: string
const serverSessions = new Set<http2.ServerHttp2Session>()
let hangArrived: (() => void) | undefined
before(async () => {
  server = http2.createServer()
  server.on('session', (s) => {
    serverSessions.add(s)
    s.on('close', () => serverSessions.delete(s))
  })
  server.on('stream', (stream, headers) => {
    const path = headers[':path']
    if (path === '/hang') return hangArrived?.()
    stream.respond({ ':status': 200 })
    stream.end('ok')
    if (path === '/goaway') stream.session?.goaway(0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(async () => {
  for (const s of serverSessions) s.destroy()
  await new Promise((resolve) => server.close(resolve))
})

function request(session: http2.ClientHttp2Session, path: string): http2.ClientHttp2Stream {
  const req = session.request({ ':path': path })
  req.on('error', () => {})
  req.resume()
  return req
}

const goaway = (session: http2.ClientHttp2Session) =>
  new Promise((resolve) => session.once('goaway', resolve))

describe('HTTP/2 sessions the client closed', () => {
  test('after a server GOAWAY, a client that calls session.close() is not reported', async () => {
    const scope = track({ root: ROOT })
    const session = http2.connect(url)
    const away = goaway(session)
    request(session, '/goaway')
    await away
    session.close()
    assert.deepEqual(await scope.end(), [])
  })

  test('after a server GOAWAY, Node closes an idle session itself: not reported either', async () => {
    const scope = track({ root: ROOT })
    const session = http2.connect(url)
    const away = goaway(session)
    request(session, '/goaway')
    await away
    // By now Node has destroyed the session and taken it off its socket.
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.deepEqual(await scope.end(), [])
  })

  test('close() called while a stream is still open: reported as closing, with advice it has not followed yet', async () => {
    const scope = track({ root: ROOT })
    const arrived = new Promise<void>((resolve) => (hangArrived = resolve))
    const session = http2.connect(url) // MARK:h2-closing
    request(session, '/hang')
    await arrived
    session.close()
    const leak = only(await scope.end(), 'http2')
    assert.match(
      leak.description,
      /^session to http:\/\/127\.0\.0\.1:\d+, closing \(close\(\) called or GOAWAY received\) but a stream is still open$/,
    )
    assert.notEqual(leak.fix, FIXES.http2)
    assert.match(leak.fix, /stream/)
    assertCreatedAt(leak, import.meta.url, 'MARK:h2-closing')
  })

  test('the twin: a session never closed is still reported "never closed", with close() as the fix', async () => {
    const scope = track({ root: ROOT })
    const session = http2.connect(url)
    await new Promise((resolve) => request(session, '/').once('end', resolve))
    const leak = only(await scope.end(), 'http2')
    assert.match(leak.description, /^session to http:\/\/127\.0\.0\.1:\d+, never closed$/)
    assert.equal(leak.fix, FIXES.http2)
  })
})
