import type net from 'node:net'
import type tls from 'node:tls'
import { CHANNELS, subscribe } from '../channels.ts'
import { type Engine, siteNow } from '../engine.ts'
import { abortError } from '../errors.ts'
import { noticeOnce } from '../notice.ts'
import { originOf, redactUrl } from '../redact.ts'
import { Resource } from '../resource.ts'
import type { Scope } from '../scope.ts'
import { createdByAppCode, directCreator, type Site } from '../stack.ts'
import { instrumentDispatcher, type MockedDispatch, wrapAssignedDispatch } from './call-sites.ts'
import {
  claimSocket,
  countConnection,
  hostPort,
  isTls,
  NO_BODY_STATUS,
  noop,
  type PoolOrigin,
  poolWhere,
  registry,
} from './registry.ts'
import {
  bodyOf,
  bodyUnfinished,
  handlerOf,
  headerValue,
  isFetchHandler,
  notReadToEnd,
  UNFINISHED_BODY,
  UNFINISHED_BODY_FIX,
} from './undici-bodies.ts'
import {
  abortFetch,
  createFetchLinker,
  type FetchController,
  fetchBodyPending,
  fetchBodyRead,
} from './undici-fetch.ts'
import { observeMockedHandler } from './undici-mock.ts'

/** What netsan knows about one undici request, correlated across channels by the request object. */
export interface UndiciRequestInfo {
  /** undici's core request, the key of this info (for a mocked request, a stand-in with its abort). */
  request: any
  state: 'pending' | 'headers' | 'done'
  method: string
  /** undici's own `scheme://host:port` of the request (through a proxy: the proxy's). */
  origin: string
  /** What the request is for: the target URL, also through a proxy; a tunnel's `host:port`. */
  url: string
  status: number | undefined
  /** The response's content-length header, when it has one. */
  length: string | undefined
  socket: net.Socket | undefined
  site: Site
  owner: Scope
  waiters: (() => void)[] | undefined
  /** The handler user code's call gave `dispatch()` (call-sites.ts), when a wrapper saw that call. */
  handler: any
  /** The `fetch()` of npm undici this request serves, when known (undici-fetch.ts). */
  fetch: FetchController | undefined
  /** The request body was sent whole (`undici:request:bodySent`). */
  bodySent: boolean
  /** Answered by a MockAgent, never on the network. */
  mocked: boolean
  resource?: Resource
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

const UNLINKED_FETCH =
  "a fetch() of npm undici was not seen starting (its controller and its first request were not created together), so whether its Response's body was read is not checked; requests and bodies that still hold a connection still are (docs/discoveries/undici-fetch.md)."

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
    const undo = instrumentDispatcher(engine, dispatcher, wrappedMethods, mockedDispatch)
    if (undo) undoInstrument.push(undo)
    // A MockPool's or MockClient's mock dispatch is its own property, not its prototype's.
    const name = (dispatcher as { constructor?: { name?: string } }).constructor?.name
    if (registry.mocks.has(dispatcher) && (name === 'MockPool' || name === 'MockClient')) {
      const undoOwn = wrapAssignedDispatch(engine, dispatcher, mockedDispatch)
      if (undoOwn) undoInstrument.push(undoOwn)
    }
  }

  /** Pools created under netsan's eye (see agents.ts) report their sockets here. */
  const adoptByPool = (pool: PoolOrigin) => {
    const socket = lastConnected
    const p = socket && pooled.get(socket)
    if (!p || p.shared) return
    // Called once per pool level (Client, Pool, Agent): the last call is the outermost pool.
    p.pool = pool
    const inTest = pool.scope.ownsItsPools
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

  const fetches = createFetchLinker(engine)

  const newInfo = (request: any, site: Site, handler: unknown): UndiciRequestInfo => {
    const owner = engine.current()
    const info: UndiciRequestInfo = {
      request,
      state: 'pending',
      method: String(request.method ?? 'GET').toUpperCase(),
      origin: String(request.origin ?? ''),
      url: requestUrl(request),
      status: undefined,
      length: undefined,
      socket: undefined,
      site,
      owner,
      waiters: undefined,
      handler,
      fetch: undefined,
      bodySent: false,
      mocked: false,
    }
    owner.stats.requestStarted()
    unfinished.set(info.origin, (unfinished.get(info.origin) ?? 0) + 1)
    return info
  }

  const onHeaders = (info: UndiciRequestInfo, status: number | undefined, headers: unknown) => {
    if (info.state !== 'pending') return
    info.status = status
    info.state = 'headers'
    info.length = headerValue(headers, 'content-length')
    if (info.method === 'HEAD' || NO_BODY_STATUS.has(info.status ?? 0) || info.length === '0') finish(info)
    if (info.resource) info.resource.kind = 'body'
    fetches.headers(info)
  }

  /**
   * undici.request / stream / pipeline, npm undici's fetch, and mocked requests: a request, then a body
   * that holds its connection, or that arrived whole and nobody read.
   */
  const trackRequest = (info: UndiciRequestInfo) => {
    fetches.link(info)
    const mocked = info.mocked ? ' (mocked by MockAgent)' : ''
    const what = () => `${info.method} ${describeTarget(info)}`
    // Set once the response ended: a body stream that arrived whole (undici.request() and the like),
    // or the Response of a fetch(), judged from its fetch controller (undici-fetch.ts).
    let buffered: WeakRef<any> | undefined
    let fetchBody = false
    const resource = new Resource({
      kind: 'request',
      checkAt: 'test',
      site: info.site,
      owner: info.owner,
      origin: () => originOf(info.method === 'CONNECT' ? info.origin : info.url),
      describe: () => {
        if (info.state === 'pending')
          return `${what()}${bodyUnfinished(info) ? `, ${UNFINISHED_BODY}` : ''}, no response yet${mocked}`
        if (!buffered && !fetchBody) return `${what()} → ${info.status}, body not read to the end${mocked}`
        if (fetchBody) {
          const size = info.length ? `${info.length}-byte body` : 'body'
          return `${what()} → ${info.status}, ${size} ${fetchBodyRead(info) ? 'read only partly' : 'never read'}${mocked}`
        }
        return buffered?.deref()?.readableDidRead
          ? `${what()} → ${info.status}, body read only partly${mocked}`
          : `${what()} → ${info.status}, body never read${mocked || ' (buffered whole)'}`
      },
      isOpen: () => {
        if (info.state !== 'done') return true
        if (fetchBody) return fetchBodyPending(info) && bodyPolicy(engine, info.site)
        const body = buffered?.deref()
        return body !== undefined && notReadToEnd(body) && bodyPolicy(engine, info.site)
      },
      fix: () => (bodyUnfinished(info) ? UNFINISHED_BODY_FIX : undefined),
      // A body being read when the scope ends (piped, not awaited) is waited for, up to settleMs.
      whenClosed: (done) =>
        whenDone(info, () => {
          const body = buffered?.deref()
          if (body?.readableDidRead && notReadToEnd(body)) body.once('end', done).once('close', done)
          else done()
        }),
      // No response yet: aborted as the caller's AbortSignal would (undici.request rejects with the
      // AbortError, which retry logic leaves alone; a fetch, through its controller, too); a body is drained.
      close: () => {
        if (info.state !== 'pending') return abandon(info)
        const reason = abortError()
        abortFetch(info, reason)
        abortRequest(info, reason)
      },
    })
    // A small body arrives whole and the connection goes back to the pool, yet nobody read it (to its
    // end): the body stream that undici.request() returned still tells (docs/discoveries/undici-channels.md),
    // and for fetch(), its controller (docs/discoveries/undici-fetch.md).
    whenDone(info, () => {
      if (info.status === undefined) return resource.release()
      info.handler ??= handlerOf(info.request)
      if (isFetchHandler(info.handler)) {
        // Without its fetch controller, a cancelled body cannot be told from an unread one.
        if (info.fetch) fetchBody = true
        else {
          noticeOnce('NETSAN_UNSEEN_FETCH_BODY', UNLINKED_FETCH)
          resource.release()
        }
        return
      }
      const body = bodyOf(info)
      if (body && notReadToEnd(body)) buffered = new WeakRef(body)
      else resource.release()
    })
    info.resource = resource
    info.owner = resource.owner as Scope
  }

  /**
   * A dispatch to a MockAgent (call-sites.ts): mocked requests publish no channels and create no socket
   * (docs/discoveries/mocks.md), so the request is tracked from its handler's callbacks, like a real one.
   */
  const mockedDispatch: MockedDispatch = (_dispatcher, opts, handler, call) => {
    if (!opts || typeof opts !== 'object' || opts.upgrade) return handler
    let abort: ((reason: Error) => void) | undefined
    const request = {
      method: opts.method,
      origin: String(opts.origin ?? '').replace(/\/$/, ''),
      path: opts.path,
      body: opts.body,
      // undici 6's mock hands over its abort only with a delayed reply (`err => handler.onError(err)`):
      // before that, the handler is failed the same way, and the late reply no longer reaches it (7 and
      // 8 clear the delay's timer on abort).
      abort: (reason: Error) => {
        if (abort) return abort(reason)
        muted = true
        try {
          if (typeof handler.onError === 'function') handler.onError(reason)
          else handler.onResponseError?.(null, reason)
        } catch {}
        finish(info)
      },
    }
    let muted = false
    const info = newInfo(request, call.site, handler)
    info.mocked = true
    trackRequest(info)
    // A mock that has no reply for it may pass it on to the network: the real request is tracked then.
    call.mocked = {
      passedThrough: () => {
        info.resource?.release()
        finish(info)
      },
    }
    return observeMockedHandler(handler, {
      muted: () => muted,
      connected: (a) => (abort = a),
      headers: (status, headers) => onHeaders(info, status, headers),
      done: () => finish(info),
    })
  }

  const undo = [
    subscribe<{ request: any }>(CHANNELS.undiciRequestCreate, ({ request }) => {
      const call = engine.calls.getStore()
      if (call?.mocked) {
        call.mocked.passedThrough()
        call.mocked = undefined
      }
      const info = newInfo(
        request,
        call?.owned ? call.site : siteNow(engine),
        call?.active ? call.handler : undefined,
      )
      requests.set(request, info)
      if (call?.owned) {
        call.onUndiciRequest?.(info)
        return
      }
      if (request.upgrade) {
        trackUpgrade(request, info)
        return
      }
      trackRequest(info)
    }),
    subscribe<{ request: any; response: any }>(CHANNELS.undiciRequestHeaders, ({ request, response }) => {
      const info = requests.get(request)
      if (info) onHeaders(info, response?.statusCode, response?.headers)
    }),
    subscribe<{ request: any }>(CHANNELS.undiciRequestBodySent, ({ request }) => {
      const info = requests.get(request)
      if (info) info.bodySent = true
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
    /** For pools and mocks seen being created (agents.ts): their Dispatcher API gets call-site wrappers. */
    instrument,
    /** For fetch controllers seen being created (agents.ts): the fetch() whose request comes next. */
    fetchCreated: (controller: object) => fetches.created(controller),
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
  if (pool && typeof pool.destroy === 'function') {
    try {
      Promise.resolve(pool.destroy()).catch(noop)
      return
    } catch {
      // A MockAgent has no destroy() of its own (undici's Dispatcher's throws): its connection then.
    }
  }
  if (!isHttp2(socket)) socket.destroy()
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
 * and would break every other stream of an HTTP/2 session; so the body itself is dumped (it is found
 * on the handler user code's call passed, whatever wraps it below: undici-bodies.ts). A fetch body is
 * ended as a cancel of it would (it errors the Response's stream, whose fetch listens), and only
 * while it holds its connection: one that arrived whole holds nothing.
 */
function abandon(info: UndiciRequestInfo): void {
  const handler = info.handler ?? handlerOf(info.request)
  if (isFetchHandler(handler)) {
    if (info.state !== 'done' && !abortFetch(info, abortError())) abortRequest(info, abortError())
    return
  }
  const body = bodyOf(info)
  if (body) {
    body.on?.('error', noop)
    if (typeof body.dump === 'function') body.dump().catch(noop)
    else body.destroy()
    return
  }
  abortRequest(info, abortError())
}

/** The `bodies` policy for a fully buffered body that was not read to its end. */
export function bodyPolicy(engine: Engine, site: Site): boolean {
  const policy = engine.options.bodies
  return policy === 'all' || (policy === 'app' && createdByAppCode(site))
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
  return `${entry.pool.label} created ${poolWhere(entry.pool.scope.type)} and never closed`
}
