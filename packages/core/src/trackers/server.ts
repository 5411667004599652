import type net from 'node:net'
import { CHANNELS, subscribe, subscribeTracing } from '../channels.ts'
import type { Engine } from '../engine.ts'
import { Resource } from '../resource.ts'
import { captureSite } from '../stack.ts'
import { hostPort, isTls, registry } from './registry.ts'
import {
  type Connection,
  type ConnectionState,
  describeServer,
  type ServerSnapshot,
  type ServerType,
  serverFix,
  serverType,
} from './server-words.ts'
import { isRunnerSite } from './socket.ts'

interface TrackedServer {
  type: ServerType
  address: string | undefined
  /** `performance.now()` when close() was first called. */
  closeCalledAt: number | undefined
  /** Sockets it accepted that are still open (`net.server.socket`). */
  accepted: Set<net.Socket>
  release: () => void
}

function addressOf(server: net.Server): string | undefined {
  const a = server.address()
  if (!a) return undefined
  return typeof a === 'string' ? a : hostPort(a.address, a.port)
}

type Session = { closed?: boolean; destroyed?: boolean; destroy?: () => void; socket?: net.Socket }

/** The HTTP/2 session Node keeps on a socket under a key of its own (as on the client side, socket.ts). */
function sessionOn(socket: net.Socket): Session | undefined {
  for (const key of Reflect.ownKeys(socket)) {
    const value = (socket as unknown as Record<PropertyKey, unknown>)[key]
    if (typeof value === 'object' && value !== null && value.constructor?.name === 'ServerHttp2Session')
      return value as Session
  }
  return undefined
}

/**
 * The session of an HTTP/2 server on the TCP socket it accepted. Over TLS the session sits on the
 * TLSSocket, which the TCP socket does not point to; Node 24 and 26 list a server's sessions (a Set
 * under its `sessions` symbol; not 20 or 22.23), matched here by the client's port
 * (docs/discoveries/server-close.md).
 */
function serverSession(server: net.Server, socket: net.Socket): Session | undefined {
  const direct = sessionOn(socket)
  if (direct) return direct
  const key = Object.getOwnPropertySymbols(server).find((k) => k.description === 'sessions')
  const sessions = key && (server as unknown as Record<symbol, unknown>)[key]
  if (!(sessions instanceof Set)) return undefined
  for (const session of sessions as Set<Session>) {
    const s = session.socket
    if (s && s.remotePort === socket.remotePort && s.remoteAddress === socket.remoteAddress) return session
  }
  return undefined
}

function connectionState(
  server: net.Server,
  socket: net.Socket,
  type: ServerType,
  upper: WeakMap<net.Socket, net.Socket>,
): ConnectionState {
  if (type === 'http2' || type === 'http2-tls') {
    const session = serverSession(server, socket)
    if (session) return { kind: 'session', closing: session.closed === true }
  }
  if (type === 'http' || type === 'https' || type === 'http2-tls') {
    // Node's http server keeps the response in progress on its socket (the TLSSocket over this one, for
    // https), and the parser until the socket is handed to an 'upgrade' or 'connect' listener.
    const http = (upper.get(socket) ?? socket) as {
      _httpMessage?: { req?: { method?: string; url?: string } } | null
      parser?: unknown
    }
    const req = http._httpMessage?.req
    if (req) return { kind: 'serving', method: req.method ?? 'GET', url: req.url ?? '/' }
    if (type === 'http' || upper.has(socket)) return http.parser ? { kind: 'idle' } : { kind: 'upgraded' }
  }
  // A TLS server's TLSSocket wraps this TCP socket and is not reachable from it.
  if (type !== 'net' || isTls(socket)) return { kind: 'tls-open' }
  if (socket.writableEnded) return { kind: 'server-ended' }
  if (socket.readableEnded) return { kind: 'client-ended' }
  return { kind: 'open' }
}

function snapshot(
  server: net.Server,
  t: TrackedServer,
  upper: WeakMap<net.Socket, net.Socket>,
): ServerSnapshot {
  const connections: Connection[] = []
  for (const socket of t.accepted) {
    if (socket.destroyed) continue
    connections.push({
      remote: socket.remoteAddress ? hostPort(socket.remoteAddress, socket.remotePort) : undefined,
      state: connectionState(server, socket, t.type, upper),
    })
  }
  return {
    type: t.type,
    address: t.address ?? addressOf(server),
    closeCalledMsAgo: t.closeCalledAt === undefined ? undefined : performance.now() - t.closeCalledAt,
    connectionCount: (server as { _connections?: number })._connections ?? connections.length,
    connections,
  }
}

/** Cleanup: the connections first (close() would wait for them), each the way its server would end it. */
function closeServer(server: net.Server, t: TrackedServer): void {
  for (const socket of t.accepted) {
    const session = t.type === 'http2' || t.type === 'http2-tls' ? serverSession(server, socket) : undefined
    if (session && typeof session.destroy === 'function' && !session.destroyed) session.destroy()
    else socket.destroy()
  }
  // Harmless when close() was called already: no callback, so no ERR_SERVER_NOT_RUNNING.
  server.close()
}

/**
 * Listening servers, from the `net.server.listen` tracing channel (http, https, http2, tls, net), and
 * the connections they accept (`net.server.socket`), which a closing server waits for.
 * @note A failed listen() is seen on `tracing:net.server.listen:error`, never through an 'error'
 * listener: one would swallow the EADDRINUSE that must still fail the test, and one per listen() of a
 * reused server would pile up to a MaxListenersExceededWarning (docs/discoveries/observer.md).
 * @note Node publishes nothing when close() is called (docs/discoveries/server-close.md): a narrow,
 * reversible wrapper of net.Server.prototype.close, which every server class calls, notes the time.
 */
export function installServerTracker(engine: Engine): () => void {
  const tracked = new WeakMap<net.Server, TrackedServer>()
  // https: the TLSSocket that carries HTTP over each accepted TCP socket, as http.server.request.start tells.
  const upper = new WeakMap<net.Socket, net.Socket>()

  // Subscribed at the first https (or HTTP/2 TLS) server, so plain http servers pay nothing per request.
  let undoRequest: (() => void) | undefined
  const watchRequests = () => {
    undoRequest ??= subscribe<{ socket: net.Socket; server: net.Server }>(
      CHANNELS.httpServerRequestStart,
      ({ socket, server }) => {
        const raw = (socket as { _parent?: net.Socket })._parent
        if (raw && server && tracked.has(server)) upper.set(raw, socket)
      },
    )
  }

  const undoListen = subscribeTracing<{ server: net.Server }>(CHANNELS.netServerListen, {
    asyncStart: ({ server }) => {
      if (!server || tracked.has(server)) return
      const site = captureSite()
      if (isRunnerSite(site)) return
      let closed = false
      const t: TrackedServer = {
        type: serverType(server),
        address: undefined,
        closeCalledAt: undefined,
        accepted: new Set(),
        release: () => {},
      }
      const resource = new Resource({
        kind: 'server',
        // A server often outlives the test that started it (used by the next tests, closed in afterAll):
        // judged at the end of the block or file around that test, naming the test that opened it.
        checkAt: 'block',
        site,
        owner: engine.current(),
        describe: () => describeServer(snapshot(server, t, upper)),
        isOpen: () => !closed,
        whenClosed: (done) => (closed ? done() : server.once('close', done)),
        close: () => closeServer(server, t),
        fix: () => serverFix(snapshot(server, t, upper)),
        // Where it was created, with its handler, when that is not where listen() was called.
        sites: () => {
          const created = registry.servers.get(server)
          return (
            created && [
              { title: 'listen() called', site },
              { title: 'server created (its handler)', site: created },
            ]
          )
        },
      })
      const onClose = () => {
        closed = true
        tracked.delete(server)
        server.removeListener('close', onClose)
        resource.release()
      }
      t.release = onClose
      tracked.set(server, t)
      server.once('close', onClose)
      if (t.type === 'https' || t.type === 'http2-tls') watchRequests()
    },
    asyncEnd: ({ server }) => {
      const t = server && tracked.get(server)
      if (t) t.address = addressOf(server)
    },
    // A listen() that failed (EADDRINUSE, EACCES) leaves nothing listening; the server's own 'error'
    // event still reaches the code under test as it would without netsan.
    error: ({ server }) => {
      if (server && !server.listening) tracked.get(server)?.release()
    },
  })

  const undoAccept = subscribe<{ socket: net.Socket }>(CHANNELS.netServerSocket, ({ socket }) => {
    const server = (socket as { server?: net.Server }).server
    const t = server && tracked.get(server)
    if (!t) return
    t.accepted.add(socket)
    socket.once('close', () => t.accepted.delete(socket))
  })

  const { Server } = process.getBuiltinModule('node:net')
  const originalClose = Server.prototype.close
  const close = function (this: net.Server, ...args: unknown[]) {
    const t = tracked.get(this)
    if (t && t.closeCalledAt === undefined) t.closeCalledAt = performance.now()
    return (originalClose as (...a: unknown[]) => net.Server).apply(this, args)
  } as typeof originalClose
  Object.defineProperty(close, 'name', { value: originalClose.name })
  Object.defineProperty(close, 'length', { value: originalClose.length })
  Server.prototype.close = close

  return () => {
    undoListen()
    undoAccept()
    undoRequest?.()
    if (Server.prototype.close === close) Server.prototype.close = originalClose
  }
}
