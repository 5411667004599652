import type net from 'node:net'
import type tls from 'node:tls'
import { CHANNELS, subscribe } from '../channels.ts'
import { type Engine, siteNow } from '../engine.ts'
import { abortError } from '../errors.ts'
import { originOf, redactUrl } from '../redact.ts'
import { Resource } from '../resource.ts'
import type { Scope } from '../scope.ts'
import { createdByAppCode, directCreator, type Site } from '../stack.ts'
import { instrumentDispatcher } from './call-sites.ts'
import {
  claimSocket,
  countConnection,
  hostPort,
  isTls,
  NO_BODY_STATUS,
  noop,
  type PoolOrigin,
} from './registry.ts'

/** What netsan knows about one undici request, correlated across channels by the request object. */
export interface UndiciRequestInfo {
  /** undici's core request, the key of this info. */
  request: any
  state: 'pending' | 'headers' | 'done'
  method: string
  /** undici's own `scheme://host:port` of the request (through a proxy: the proxy's). */
  origin: string
  /** What the request is for: the target URL, also through a proxy; a tunnel's `host:port`. */
  url: string
  status: number | undefined
  socket: net.Socket | undefined
  site: Site
  owner: Scope
  waiters: (() => void)[] | undefined
}

export function whenDone(info: UndiciRequestInfo, done: () => void): void {
  if (info.state === 'done') done()
  else (info.waiters ??= []).push(done)
}

interface PooledSocket {
  resource: Resource
  active: number
  shared: boolean
  pool: PoolOrigin | undefined
  used: boolean
}

const POOL_FIX = 'await agent.close() when done, or share one agent across requests'

const GLOBAL_DISPATCHERS = [Symbol.for('undici.globalDispatcher.1'), Symbol.for('undici.globalDispatcher.2')]

/**
 * undici requests, held bodies and pooled connections, for Node's bundled undici and any npm
 * undici at once: they publish on the same named channels.
 */
export function installUndiciTracker(engine: Engine) {
  const requests = new WeakMap<object, UndiciRequestInfo>()
  const pooled = new WeakMap<net.Socket, PooledSocket>()
  const watchedDispatchers = new WeakSet<object>()
  let connecting: { origin: string } | undefined
  let lastConnected: net.Socket | undefined

  // Unfinished requests per origin (see the HTTP/2 note in the pooled connection's isOpen).
  const unfinished = new Map<string, number>()
  const finish = (info: UndiciRequestInfo) => {
    if (info.state === 'done') return
    info.state = 'done'
    const n = (unfinished.get(info.origin) ?? 1) - 1
    if (n > 0) unfinished.set(info.origin, n)
    else unfinished.delete(info.origin)
    if (info.socket) {
      const p = pooled.get(info.socket)
      if (p && p.active > 0) p.active--
    }
    const waiters = info.waiters
    info.waiters = undefined
    if (waiters) for (const w of waiters) w()
  }

  // Shared pools: the global dispatcher of each watched realm. undici re-emits a Client's 'connect'
  // on its Pool and Agent right after publishing client:connected, so a listener tells whose socket it is.
  const listening: { off?: (e: string, fn: () => void) => void }[] = []
  const markShared = () => {
    const socket = lastConnected
    const p = socket && pooled.get(socket)
    if (p) p.shared = true
  }
  const watchGlobalDispatchers = () => {
    for (const g of engine.globals) {
      for (const key of GLOBAL_DISPATCHERS) {
        const d = (g as unknown as Record<symbol, any>)[key]
        if (!d || typeof d.on !== 'function' || watchedDispatchers.has(d)) continue
        watchedDispatchers.add(d)
        d.on('connect', markShared)
        listening.push(d)
        instrument(d)
      }
    }
  }

  // Call sites captured where user code calls the Dispatcher API (call-sites.ts).
  const wrappedMethods = new WeakSet<object>()
  const undoInstrument: (() => void)[] = []
  const instrument = (dispatcher: object) => {
    const undo = instrumentDispatcher(engine, dispatcher, wrappedMethods)
    if (undo) undoInstrument.push(undo)
  }

  /** Pools created under netsan's eye (see agents.ts) report their sockets here. */
  const adoptByPool = (pool: PoolOrigin) => {
    const socket = lastConnected
    const p = socket && pooled.get(socket)
    if (!p || p.shared) return
    // Called once per pool level (Client, Pool, Agent): the last call is the outermost pool.
    p.pool = pool
    const inTest = pool.scope.type === 'test' && !pool.scope.ended
    p.resource.checkAt = inTest ? 'test' : 'file'
    // A worker's pool (a shared module's, under isolate: false) keeps its connections past any file.
    const keeper = inTest || (pool.scope.type === 'worker' && !pool.scope.ended)
    if (keeper && p.resource.owner !== pool.scope) p.resource.moveTo(pool.scope)
  }

  // WebSocket handshakes (the global WebSocket and npm undici's): a normal undici request with
  // `upgrade` set, then the socket it upgrades is the resource. Tracked from the channels rather than
  // by wrapping the global WebSocket: reading that lazy global loads Node's bundled undici, ≈ 30 ms
  // in every Vitest worker (docs/discoveries/websocket.md).
  const upgrades = new WeakMap<object, (socket: net.Socket) => void>()
  const trackUpgrade = (request: object, info: UndiciRequestInfo) => {
    const url = redactUrl(info.url.replace(/^http/, 'ws'))
    let socket: net.Socket | undefined
    const resource = new Resource({
      kind: 'websocket',
      checkAt: 'test',
      site: info.site,
      owner: info.owner,
      origin: () => originOf(info.url),
      describe: () => `${url} (${socket ? 'open' : 'connecting'})`,
      isOpen: () => (socket ? !socket.destroyed : info.state !== 'done'),
      whenClosed: (done) =>
        whenDone(info, () => (socket && !socket.destroyed ? socket.once('close', done) : done())),
      close: () => socket?.destroy(),
    })
    // Refused or failed before it had a socket: nothing is left open.
    whenDone(info, () => {
      if (!socket) resource.release()
    })
    upgrades.set(request, (upgraded) => {
      socket = upgraded
      socket.once('close', () => resource.release())
      // The handshake is on its socket: from here the socket is what stays open.
      finish(info)
    })
  }

  const undo = [
    subscribe<{ request: any }>(CHANNELS.undiciRequestCreate, ({ request }) => {
      const call = engine.calls.getStore()
      const owner = engine.current()
      const info: UndiciRequestInfo = {
        request,
        state: 'pending',
        method: String(request.method ?? 'GET'),
        origin: String(request.origin ?? ''),
        url: requestUrl(request),
        status: undefined,
        socket: undefined,
        site: call?.owned ? call.site : siteNow(engine),
        owner,
        waiters: undefined,
      }
      requests.set(request, info)
      owner.stats.requestStarted()
      unfinished.set(info.origin, (unfinished.get(info.origin) ?? 0) + 1)
      if (call?.owned) {
        call.onUndiciRequest?.(info)
        return
      }
      if (request.upgrade) {
        trackUpgrade(request, info)
        return
      }
      // undici.request / stream / pipeline: a request, then a body that holds its connection.
      const resource = new Resource({
        kind: 'request',
        checkAt: 'test',
        site: info.site,
        owner,
        origin: () => originOf(info.method === 'CONNECT' ? info.origin : info.url),
        describe: () => {
          const what = `${info.method} ${describeTarget(info)}`
          return info.state === 'pending'
            ? `${what}, no response yet`
            : buffered
              ? `${what} → ${info.status}, body never read (buffered whole)`
              : `${what} → ${info.status}, body not read to the end`
        },
        isOpen: () => {
          if (info.state !== 'done') return true
          const body = buffered?.deref()
          return body !== undefined && unread(body) && bodyPolicy(engine, info.site)
        },
        whenClosed: (done) => whenDone(info, done),
        // No response yet: aborted as the caller's AbortSignal would (undici.request rejects with the
        // AbortError, which retry logic leaves alone); a body is drained.
        close: () => (info.state === 'pending' ? abortRequest(info, abortError()) : abandon(request, info)),
      })
      // A small body arrives whole and the connection goes back to the pool, yet nobody read it: the
      // body stream that undici.request() returned still tells (docs/discoveries/undici-channels.md).
      let buffered: WeakRef<any> | undefined
      whenDone(info, () => {
        const body = info.status !== undefined ? handlerBody(request) : undefined
        if (body && unread(body)) buffered = new WeakRef(body)
        else resource.release()
      })
      ;(info as UndiciRequestInfo & { resource?: Resource }).resource = resource
      info.owner = resource.owner as Scope
    }),
    subscribe<{ request: any; response: any }>(CHANNELS.undiciRequestHeaders, ({ request, response }) => {
      const info = requests.get(request)
      if (!info) return
      info.status = response?.statusCode
      info.state = 'headers'
      const length = headerValue(response?.headers, 'content-length')
      if (info.method === 'HEAD' || NO_BODY_STATUS.has(info.status ?? 0) || length === '0') finish(info)
      const resource = (info as UndiciRequestInfo & { resource?: Resource }).resource
      if (resource) resource.kind = 'body'
    }),
    subscribe<{ request: any }>(CHANNELS.undiciRequestTrailers, ({ request }) => {
      const info = requests.get(request)
      if (info) finish(info)
    }),
    subscribe<{ request: any }>(CHANNELS.undiciRequestError, ({ request }) => {
      const info = requests.get(request)
      if (info) finish(info)
    }),
    subscribe<{ connectParams: any }>(CHANNELS.undiciBeforeConnect, ({ connectParams }) => {
      // @note undici's connector calls net.connect / tls.connect synchronously after this
      // (docs/discoveries/undici-channels.md): that socket is the pool's, not a user socket.
      connecting = {
        origin: `${connectParams?.protocol ?? 'http:'}//${hostPort(connectParams?.hostname, connectParams?.port)}`,
      }
      queueMicrotask(() => {
        connecting = undefined
      })
    }),
    subscribe<{ socket: net.Socket; connectParams: any }>(
      CHANNELS.undiciConnected,
      ({ socket, connectParams }) => {
        watchGlobalDispatchers()
        claimSocket(socket)
        lastConnected = socket
        queueMicrotask(() => {
          if (lastConnected === socket) lastConnected = undefined
        })
        if (pooled.has(socket)) return
        const owner = engine.current()
        const origin = `${connectParams?.protocol ?? 'http:'}//${hostPort(connectParams?.hostname, connectParams?.port)}`
        const entry: PooledSocket = {
          resource: undefined as unknown as Resource,
          active: 0,
          shared: false,
          pool: undefined,
          used: false,
        }
        const site = siteNow(engine)
        entry.resource = new Resource({
          kind: 'idle',
          checkAt: 'file',
          site,
          owner,
          origin: () => originOf(origin),
          // A ProxyAgent's connections go to its proxy (tunnels too): say so, or the address reads as the target's.
          describe: () =>
            `${/Proxy/.test(entry.pool?.label ?? '') ? 'to the proxy ' : ''}${originOf(origin).replace(/^\w+:\/\//, '')}, in ${describePool(entry)}`,
          isOpen: () =>
            !socket.destroyed &&
            entry.active === 0 &&
            // undici 6 publishes no sendHeaders for HTTP/2 streams: an unfinished request to the
            // origin may be riding on this connection.
            !(isHttp2(socket) && (unfinished.get(origin) ?? 0) > 0) &&
            (!entry.shared || engine.options.sharedPools === 'fail'),
          whenClosed: (done) => (socket.destroyed ? done() : socket.once('close', done)),
          close: () => closePool(entry, socket),
          fix: () => (entry.shared ? undefined : POOL_FIX),
          // The pool's line is where the fix goes; the request's says where it was used from.
          sites: () =>
            entry.pool && [
              { title: 'pool created', site: entry.pool.site },
              { title: entry.used ? 'first request' : 'connected', site: entry.resource.site },
            ],
        })
        pooled.set(socket, entry)
        countConnection(socket, owner, originOf(origin), isTls(socket))
        socket.once('close', () => {
          entry.resource.release()
        })
      },
    ),
    subscribe<{ request: any; socket: net.Socket }>(CHANNELS.undiciSendHeaders, ({ request, socket }) => {
      const info = requests.get(request)
      if (!info) return
      info.socket = socket
      const p = pooled.get(socket)
      if (p) {
        p.active++
        if (!p.used) {
          p.used = true
          info.owner.stats.connectionUsed()
          // Name the request that first used a connection: that is where its pool was used from.
          p.resource.site = info.site
        }
      }
      if (request.upgrade) {
        // An upgraded connection (WebSocket) leaves the pool and becomes the WebSocket's. The socket
        // may be a keep-alive connection that opened before netsan was installed.
        p?.resource.release()
        pooled.delete(socket)
        upgrades.get(request)?.(socket)
      }
    }),
  ]

  // Shared-pool policy 'close': close the idle connections of shared pools after each test, like Go's tests do.
  const undoEndHook = engine.onScopeEnd((scope) => {
    if (scope.type !== 'test' || engine.options.sharedPools !== 'close') return
    for (const socket of sharedIdle) {
      const p = pooled.get(socket)
      if (p?.shared && p.active === 0 && !socket.destroyed) socket.destroy()
    }
  })
  const sharedIdle = new Set<net.Socket>()
  const undoTrackShared = subscribe<{ socket: net.Socket }>(CHANNELS.undiciConnected, ({ socket }) => {
    queueMicrotask(() => {
      if (pooled.get(socket)?.shared) {
        sharedIdle.add(socket)
        socket.once('close', () => sharedIdle.delete(socket))
      }
    })
  })

  return {
    undo: () => {
      for (const u of undo) u()
      for (const u of undoInstrument.splice(0).reverse()) u()
      for (const d of listening) d.off?.('connect', markShared)
      undoEndHook()
      undoTrackShared()
    },
    /** For pools seen being created (agents.ts): their Dispatcher API gets call-site wrappers. */
    instrument,
    /** Watches the global dispatchers that exist already (created before netsan was installed). */
    watchGlobalDispatchers,
    /** For the socket tracker: true when undici's connector is creating this socket. */
    isConnecting: () => connecting !== undefined,
    adoptByPool,
    requests,
  }
}

/**
 * Cleanup of a leaked pool connection: through the pool's own `destroy()` where netsan knows the
 * pool, since undici 6/7 crash when the TLS socket under an HTTP/2 session is destroyed from outside.
 */
function closePool(entry: PooledSocket, socket: net.Socket): void {
  // Only a pool that user code created: destroying the inner pool of an Agent would break the
  // Agent's own close() later.
  const userMade = entry.pool && directCreator(entry.pool.site)?.kind === 'user'
  const pool = userMade
    ? (entry.pool?.pool.deref() as { destroy?: () => Promise<void> } | undefined)
    : undefined
  if (pool && typeof pool.destroy === 'function') Promise.resolve(pool.destroy()).catch(noop)
  else if (!isHttp2(socket)) socket.destroy()
}

/**
 * undici 6 and 7 throw an uncaught TypeError when the TLS socket under their HTTP/2 session is
 * destroyed from outside (docs/compatibility.md): such a connection is left to its pool.
 */
export function isHttp2(socket: net.Socket | undefined): boolean {
  return (socket as tls.TLSSocket | undefined)?.alpnProtocol === 'h2'
}

/**
 * Aborts an in-flight request the way undici does itself: through the abort function its connection
 * gave it (HTTP/1: the socket; HTTP/2: only its stream), or, while it still waits for a connection,
 * as the error it fails with on reaching one (undici 6, 7 and 8 alike).
 */
export function abortRequest(info: UndiciRequestInfo, reason: Error): void {
  const request = info.request
  try {
    if (typeof request.abort === 'function') request.abort(reason)
    else if (!request.aborted && !request.completed && !request.error) request.error = reason
  } catch {}
}

/**
 * Cleanup of a request or body the test left open. Destroying the socket under it would make the
 * client emit 'error' on a stream nobody listens to (an uncaught exception, even in mode 'warn'),
 * and would break every other stream of an HTTP/2 session; so the body itself is dumped where
 * undici's request handler exposes it, and only otherwise the socket is destroyed.
 */
function abandon(request: any, info: UndiciRequestInfo): void {
  const body = handlerBody(request)
  if (body) {
    body.on?.('error', noop)
    if (typeof body.dump === 'function') body.dump().catch(noop)
    else body.destroy()
    return
  }
  if (!isHttp2(info.socket)) info.socket?.destroy()
}

/** A body stream nobody has read from, consumed, or destroyed. */
function unread(body: any): boolean {
  return !body.destroyed && !body.readableEnded && !body.readableDidRead && !body.bodyUsed
}

/** The `bodies` policy for a fully buffered, unread body. */
export function bodyPolicy(engine: Engine, site: Site): boolean {
  const policy = engine.options.bodies
  return policy === 'all' || (policy === 'app' && createdByAppCode(site))
}

/** undici's private `handler` symbol, per copy of undici (one per Request prototype). */
const handlerKeys = new WeakMap<object, symbol>()

/** `undici.request()`'s body stream, held by its handler under undici's private `handler` symbol. */
function handlerBody(request: any): any {
  try {
    const proto = Object.getPrototypeOf(request) as object
    let key = handlerKeys.get(proto)
    if (!key) {
      key = Object.getOwnPropertySymbols(request).find((k) => k.description === 'handler')
      if (key) handlerKeys.set(proto, key)
    }
    const res = key ? request[key]?.res : undefined
    return res && typeof res.destroy === 'function' && !res.destroyed ? res : undefined
  } catch {}
  return undefined
}

const ABSOLUTE = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * The URL a request is for. Through an HTTP proxy undici sends the target in absolute form
 * (`GET http://target/p`: ProxyAgent for http: targets, EnvHttpProxyAgent), to the proxy's origin, so
 * origin + path would glue two URLs together; a proxy tunnel is a CONNECT to `host:port`.
 */
export function requestUrl(request: { origin?: unknown; path?: unknown; method?: unknown }): string {
  const path = String(request.path ?? '')
  if (ABSOLUTE.test(path) || request.method === 'CONNECT') return path
  return `${request.origin ?? ''}${path}`
}

/** `http://target/p`, `http://target/p through the proxy http://proxy:3128`, `host:443 (a tunnel through …)`. */
function describeTarget(info: UndiciRequestInfo): string {
  if (info.method === 'CONNECT') return `${info.url} (a tunnel through the proxy ${redactUrl(info.origin)})`
  const proxied = ABSOLUTE.test(info.url) && originOf(info.url) !== originOf(info.origin)
  return proxied ? `${redactUrl(info.url)} through the proxy ${redactUrl(info.origin)}` : redactUrl(info.url)
}

function describePool(entry: PooledSocket): string {
  if (entry.shared) return "undici's global dispatcher (a shared pool; sharedPools: 'fail')"
  if (!entry.pool) return 'an undici pool, never closed'
  const where = entry.pool.scope.type === 'test' ? 'by this test' : `in ${entry.pool.scope.type} scope`
  return `${entry.pool.label} created ${where} and never closed`
}

function headerValue(headers: unknown, name: string): string | undefined {
  // undici publishes raw headers as [name, value, name, value, …] of Buffers or strings.
  if (!Array.isArray(headers)) return undefined
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (String(headers[i]).toLowerCase() === name) return String(headers[i + 1])
  }
  return undefined
}
