import type net from 'node:net'
import { CHANNELS, subscribe } from '../channels.ts'
import { type Engine, siteNow } from '../engine.ts'
import { Resource } from '../resource.ts'
import { directCreator, type Site } from '../stack.ts'
import { countConnection, hostPort, isTls, publishesEverySocket, registry } from './registry.ts'

// Runner frames (Vitest's and Jest's own connections) never make a resource.
const RUNNER = /[\\/]node_modules[\\/](vitest|@vitest|vite|jest-[^\\/]+|@jest|jest)[\\/]/

// A mocking layer's passthrough socket (nock's @mswjs/interceptors): the mock socket the code holds stands for it.
const MOCK_LAYER = /[\\/]node_modules[\\/]@mswjs[\\/]interceptors[\\/]/

export function isRunnerSite(site: Site): boolean {
  const creator = directCreator(site)
  return creator !== undefined && RUNNER.test(creator.file)
}

function remoteOf(socket: net.Socket, intended: string | undefined): string {
  return socket.remoteAddress ? hostPort(socket.remoteAddress, socket.remotePort) : (intended ?? '?')
}

/** The socket's state in words, from `readyState` and who ended which side. */
function stateWords(socket: net.Socket): string {
  if (socket.connecting) return 'connecting'
  switch (socket.readyState) {
    case 'open':
      return 'connected'
    case 'readOnly':
      return 'half-closed: end() called, the peer has not ended its side'
    case 'writeOnly':
      return 'half-closed: the peer ended its side, end() never called'
    default:
      return 'both sides ended'
  }
}

/**
 * `TCP socket to 127.0.0.1:4000 (connected), never destroyed`. Where the peer's address can no longer be
 * read (the peer reset a socket nobody reads: getpeername fails), what is known instead: the target it
 * connected to, and its own address.
 */
function describeSocket(socket: net.Socket, intended: string | undefined): string {
  const kind = isTls(socket) ? 'TLS' : 'TCP'
  const state = stateWords(socket)
  if (socket.remoteAddress)
    return `${kind} socket to ${remoteOf(socket, undefined)} (${state}), never destroyed`
  const local = socket.localAddress ? ` from ${hostPort(socket.localAddress, socket.localPort)}` : ''
  const target = intended && intended !== '?' ? ` to ${intended}` : ''
  const peer = socket.connecting ? '' : '; peer address unreadable: reset or gone'
  return `${kind} socket${local}${target} (${state}${peer}), never destroyed`
}

// The socket http2.connect() opens is the session's: it lives and dies with the session. Node publishes no
// session channel (docs/discoveries/node-net-http-channels.md), and tracking the socket spares every worker
// loading node:http2 to wrap http2.connect.
const HTTP2_CORE = 'node:internal/http2/core'

interface SessionState {
  closed: boolean
  destroyed: boolean
}
const sessions = new WeakMap<net.Socket, SessionState>()

/**
 * The ClientHttp2Session riding on `socket`. Node keeps it on the socket under a key of its own (the
 * property "undefined" in Node 20 and 24: docs/discoveries/http2-goaway.md), so it is found by what it
 * is, not by the key; and it is taken as soon as http2.connect() has returned, because Node removes it
 * from the socket when the session is destroyed.
 */
function sessionOf(socket: net.Socket): SessionState | undefined {
  let session = sessions.get(socket)
  if (session) return session
  for (const key of Reflect.ownKeys(socket)) {
    const value = (socket as unknown as Record<PropertyKey, unknown>)[key]
    if (typeof value === 'object' && value !== null && value.constructor?.name === 'ClientHttp2Session') {
      session = value as SessionState
      sessions.set(socket, session)
      return session
    }
  }
  return undefined
}

/**
 * A session is open until the client has closed it. Once `close()` was called (or a GOAWAY made Node
 * call it) and its streams have ended, Node destroys it and ends the socket, which then waits for the
 * server to end its side: nothing is left for the client to do, so that is not a leak.
 */
function sessionOpen(socket: net.Socket): boolean {
  return !socket.destroyed && !sessionOf(socket)?.destroyed
}

/** Closed by the client (or a GOAWAY) but kept alive by a stream that has not ended. */
function sessionClosing(socket: net.Socket): boolean {
  const session = sessionOf(socket)
  return session?.closed === true && !session.destroyed
}

const CLOSING_FIX =
  'end or cancel the streams still open on it (read each response to its end, or stream.close()), or session.destroy() to drop them'

function describeSession(socket: net.Socket, intended: string | undefined): string {
  // `_host` is the name the caller connected to (net.Socket keeps it for its DNS lookup).
  const host = (socket as { _host?: unknown })._host
  const where =
    typeof host === 'string' && socket.remotePort !== undefined
      ? hostPort(host, socket.remotePort)
      : remoteOf(socket, intended)
  const state = sessionClosing(socket)
    ? 'closing (close() called or GOAWAY received) but a stream is still open'
    : 'never closed'
  return `session to ${isTls(socket) ? 'https' : 'http'}://${where}${socket.connecting ? ' (connecting)' : ''}, ${state}`
}

function intendedTarget(args: unknown[]): string {
  const [a, b] = args
  if (typeof a === 'object' && a !== null) {
    const o = a as { host?: string; port?: number; path?: string; servername?: string }
    if (o.path) return o.path
    return hostPort(o.host ?? o.servername ?? 'localhost', o.port)
  }
  if (typeof a === 'number' || (typeof a === 'string' && /^\d+$/.test(a)))
    return hostPort(b ?? 'localhost', a)
  return String(a ?? '?')
}

/** Tracks client sockets: `net.client.socket`, plus `tls.connect` where that channel misses TLS. */
export function installSocketTracker(
  engine: Engine,
  onPoolSocket: (socket: net.Socket) => boolean,
): () => void {
  const seen = new WeakSet<net.Socket>()
  const targets = new WeakMap<net.Socket, string>()

  const onSocket = (socket: net.Socket, target: string | undefined) => {
    if (target && target !== '?') targets.set(socket, target)
    if (seen.has(socket)) return
    seen.add(socket)
    // A pool (undici's connector) is creating it, or a pool or WebSocket holds it: they account for it.
    if (onPoolSocket(socket) || registry.claimed.has(socket)) return
    const site = siteNow(engine)
    if (isRunnerSite(site)) return
    const creator = directCreator(site)
    if (creator && MOCK_LAYER.test(creator.file)) return
    const owner = engine.current()
    const session = site.files().some((f) => f.file === HTTP2_CORE)
    // http2.connect() creates the socket, then the session: it is on the socket once connect() returns.
    if (session) queueMicrotask(() => sessionOf(socket))
    const resource = new Resource({
      kind: session ? 'http2' : 'socket',
      // A socket a library opened for itself (a database driver connecting lazily) is judged at the file end.
      checkAt: creator?.kind === 'user' ? 'test' : 'file',
      site,
      owner,
      describe: () => (session ? describeSession : describeSocket)(socket, targets.get(socket)),
      isOpen: session ? () => sessionOpen(socket) : () => !socket.destroyed,
      fix: session ? () => (sessionClosing(socket) ? CLOSING_FIX : undefined) : undefined,
      whenClosed: (done) => (socket.destroyed ? done() : socket.once('close', done)),
      close: () => socket.destroy(),
    })
    countConnection(socket, owner, undefined, isTls(socket))
    registry.sockets.set(socket, resource)
    // The address each connection attempt goes to (Node 20.12+), for when the peer's can no longer be
    // read; `_host` is the name the caller gave (net.Socket keeps it for its DNS lookup).
    if (!targets.has(socket))
      socket.on('connectionAttempt', (ip: string, port: number) => {
        const host = (socket as { _host?: unknown })._host
        const address = hostPort(ip, port)
        targets.set(
          socket,
          typeof host === 'string' && host !== ip ? `${hostPort(host, port)} (${ip})` : address,
        )
      })
    socket.once('close', () => {
      registry.sockets.delete(socket)
      resource.release()
    })
  }

  const unsubscribe = subscribe<{ socket: net.Socket }>(CHANNELS.netClientSocket, ({ socket }) =>
    onSocket(socket, '?'),
  )

  if (publishesEverySocket()) return unsubscribe

  // @note Node 20 publishes no net.client.socket for tls.connect (22.23, 24 and 26 do:
  // docs/discoveries/node-net-http-channels.md); a narrow, reversible patch covers it. Seen twice is seen once.
  const tls = process.getBuiltinModule('node:tls')
  const originalConnect = tls.connect
  const patchedConnect = function (this: unknown, ...args: unknown[]) {
    const socket = (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args)
    try {
      onSocket(socket, intendedTarget(args))
    } catch {}
    return socket
  } as typeof tls.connect
  tls.connect = patchedConnect

  return () => {
    unsubscribe()
    if (tls.connect === patchedConnect) tls.connect = originalConnect
  }
}
