import type http from 'node:http'
import type net from 'node:net'
import { CHANNELS, subscribe } from '../channels.ts'
import { type Engine, siteNow } from '../engine.ts'
import { abortError } from '../errors.ts'
import { noticeOnce } from '../notice.ts'
import { originOf, redactUrl } from '../redact.ts'
import { Resource } from '../resource.ts'
import type { Scope } from '../scope.ts'
import type { Site } from '../stack.ts'
import { callSiteWrapper } from './call-sites.ts'
import {
  claimSocket,
  countConnection,
  isTls,
  noop,
  poolWhere,
  publishesEverySocket,
  registry,
} from './registry.ts'

// node:timers' own, taken at load: fake timers a test installs replace only the globals.
const { setImmediate } = process.getBuiltinModule('node:timers')

const BODY_FIX = 'consume the response (res.resume(), or read it to the end) or destroy it (res.destroy())'
const AGENT_FIX = 'call agent.destroy() when done, or share one http.Agent across requests'
const UNENDED_FIX = 'finish the request with req.end() once its body is written, or abort it (req.destroy())'
const UNSEEN_REQUEST =
  "a node:http request was made through an http.request()/http.get() taken before netsan was installed. This Node publishes no channel when a request is created, so such requests are seen only from their end() on: one whose req.end() is never called is not reported, and its creation stack is its socket's. Call http.request() through the module at call time, or start netsan before that module loads (docs/discoveries/unfinished-request-body.md)."

interface RequestInfo {
  site: Site
  owner: Scope
  url: string
  /** A response arrived, or the request closed. */
  done: boolean
  waiters: (() => void)[] | undefined
  resource?: Resource
}

function requestUrl(req: http.ClientRequest): string {
  // A request through an HTTP proxy carries its target in absolute form (`GET http://target/p HTTP/1.1`).
  if (/^https?:\/\//i.test(req.path ?? '')) return req.path
  const protocol = req.protocol ?? 'http:'
  const host = req.host ?? req.getHeader('host') ?? 'localhost'
  const hostHeader = String(req.getHeader('host') ?? host)
  return `${protocol}//${hostHeader}${req.path ?? '/'}`
}

/**
 * A flowing response (resumed, a 'data' listener, piped) is being consumed, unless all it is piped into
 * are streams nobody reads: node-fetch pipes each response into a PassThrough, its Response's body, and
 * the response flows only until that fills up (a test that never reads the body ends while it still flows).
 */
function beingConsumed(res: http.IncomingMessage): boolean {
  if (res.readableFlowing !== true) return false
  const pipes: unknown = (res as { _readableState?: { pipes?: unknown } })._readableState?.pipes
  if (!Array.isArray(pipes) || pipes.length === 0) return true
  return pipes.some((dest) => !unreadReadable(dest))
}

/** A stream with a readable side that nothing has read or made flow yet. */
function unreadReadable(stream: unknown): boolean {
  const s = stream as { read?: unknown; readableFlowing?: boolean | null; readableDidRead?: boolean }
  return typeof s?.read === 'function' && s.readableFlowing !== true && s.readableDidRead === false
}

function isFree(agent: http.Agent, socket: net.Socket): boolean {
  for (const list of Object.values(agent.freeSockets ?? {})) if (list?.includes(socket as never)) return true
  return false
}

/**
 * node:http/https clients: in-flight ClientRequests, unconsumed IncomingMessages, http.Agent
 * keep-alive sockets, and `ws` upgrades.
 */
export function installHttpClientTracker(engine: Engine): () => void {
  // Builtins through getBuiltinModule, and only once a request shows they are loaded: an ESM import of
  // node:http also loads Node's bundled undici (its namespace reads every lazy export), node:https
  // brings node:tls, and a test file that makes no request should pay for neither.
  const isGlobalAgent = (agent: http.Agent) =>
    agent === process.getBuiltinModule('node:http').globalAgent ||
    // Only an https.Agent has protocol 'https:', so node:https is loaded already when this is asked.
    ((agent as { protocol?: string }).protocol === 'https:' &&
      agent === process.getBuiltinModule('node:https').globalAgent)
  const infos = new WeakMap<http.ClientRequest, RequestInfo>()
  const agentSockets = new WeakSet<net.Socket>()

  // @note Invisible observer: no 'response', 'upgrade' or 'error' listener on a ClientRequest. Node
  // dumps a response nobody listens to, and destroys an upgraded socket nobody takes; a listener of
  // netsan's would stop both, and the code under test would keep a socket it never held without
  // netsan. The response comes from http.client.response.finish; 'close' and 'socket' listeners
  // change nothing (docs/discoveries/observer.md).
  const onRequest = (req: http.ClientRequest) => {
    if (infos.has(req)) return
    if (!wrapped) wrapCallSites()
    const site = siteNow(engine)
    const owner = engine.current()
    const info: RequestInfo = { site, owner, url: requestUrl(req), done: false, waiters: undefined }
    infos.set(req, info)
    owner.stats.requestStarted()
    const method = req.method ?? 'GET'
    // A request whose socket is destroyed is over: Node destroys it as that socket closes. Its own
    // 'close' may never reach netsan: a test that replaced its emit (emit = jest.fn()) swallows it.
    const open = () => !info.done && !req.destroyed && !req.socket?.destroyed
    const resource = new Resource({
      kind: 'request',
      checkAt: 'test',
      site,
      owner,
      origin: () => originOf(info.url),
      describe: () =>
        `${method} ${redactUrl(info.url)}${req.writableEnded ? '' : ', request body never finished (req.end() never called)'}, no response yet`,
      fix: () => (req.writableEnded ? undefined : UNENDED_FIX),
      isOpen: open,
      whenClosed: (done) => {
        if (!open()) return done()
        ;(info.waiters ??= []).push(done)
        const onSocket = () => (req.socket?.destroyed ? done() : req.socket?.once('close', done))
        // Node hands a new request its socket on the next tick: a test that ends at once ends before.
        if (req.socket) onSocket()
        else setImmediate(onSocket)
      },
      // Ended as a caller's AbortSignal ends it (Node destroys the request with an AbortError): retry
      // logic keyed on error codes (got, undici's RetryAgent) treats it as the caller's own abort,
      // where 'socket hang up' (ECONNRESET) would be retried.
      close: () => {
        // Nobody may listen for 'error' on a request the test forgot: the abort must not crash the run.
        if (req.listenerCount('error') === 0) req.on('error', noop)
        req.destroy(abortError('node'))
      },
    })
    info.resource = resource
    // Its response and socket go where the request went (a shared module's: the worker).
    info.owner = resource.owner as Scope
    const upgrade = String(req.getHeader('upgrade') ?? '').toLowerCase() === 'websocket'
    req.once('close', () => {
      // Node emits 'close' right after handing an upgraded socket to an 'upgrade' listener (it
      // destroys the socket when there is none): the socket is the WebSocket's now.
      const socket = req.socket
      if (upgrade && (req as { upgradeOrConnect?: boolean }).upgradeOrConnect && socket && !socket.destroyed)
        trackUpgradedSocket(socket, info)
      finished(info)
    })
    const onSocket = (socket: net.Socket) => {
      if (upgrade) return claimSocket(socket)
      const agent = (req as { agent?: http.Agent | false }).agent
      if (agent && typeof agent === 'object' && 'freeSockets' in agent) trackAgentSocket(socket, agent, info)
    }
    // Where only the late http.client.request.start exists (Node 20), the socket may be assigned already.
    if (req.socket) onSocket(req.socket)
    else req.once('socket', onSocket)
  }

  const finished = (info: RequestInfo) => {
    if (info.done) return
    info.done = true
    info.resource?.release()
    const waiters = info.waiters
    info.waiters = undefined
    if (waiters) for (const w of waiters) w()
  }

  const trackUpgradedSocket = (socket: net.Socket, info: RequestInfo) => {
    claimSocket(socket)
    const resource = new Resource({
      kind: 'websocket',
      checkAt: 'test',
      site: info.site,
      owner: info.owner,
      origin: () => originOf(info.url),
      describe: () => `${redactUrl(info.url.replace(/^http/, 'ws'))} (ws package)`,
      isOpen: () => !socket.destroyed,
      whenClosed: (done) => (socket.destroyed ? done() : socket.once('close', done)),
      close: () => socket.destroy(),
    })
    socket.once('close', () => resource.release())
  }

  const trackAgentSocket = (socket: net.Socket, agent: http.Agent, info: RequestInfo) => {
    // Node 20 has no synchronous request channel, but its net.client.socket is synchronous in http.get().
    const socketSite = registry.sockets.get(socket)?.site
    if (socketSite && !info.site.files().some((f) => f.kind === 'user')) info.site = socketSite
    claimSocket(socket)
    if (agentSockets.has(socket)) return
    agentSockets.add(socket)
    const shared = isGlobalAgent(agent)
    // A global agent is nobody's pool, even where a test happened to load node:http(s) and create it.
    const pool = shared ? undefined : registry.pools.get(agent)
    const inTest = pool?.scope.ownsItsPools === true
    // A worker's agent (a shared module's, under isolate: false) keeps its sockets past any file.
    const keeper = inTest || (pool?.scope.type === 'worker' && !pool.scope.ended)
    const owner = keeper ? pool!.scope : info.owner.live()
    countConnection(socket, owner, originOf(info.url), isTls(socket))
    owner.stats.connectionUsed()
    const resource = new Resource({
      kind: 'idle',
      checkAt: inTest ? 'test' : 'file',
      site: info.site,
      owner,
      origin: () => originOf(info.url),
      describe: () =>
        `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}, in ${shared ? 'http.globalAgent' : `an http.Agent${pool ? ` created ${poolWhere(pool.scope.type)}` : ''}`} and never destroyed`,
      isOpen: () =>
        !socket.destroyed && isFree(agent, socket) && (!shared || engine.options.sharedPools === 'fail'),
      whenClosed: (done) => (socket.destroyed ? done() : socket.once('close', done)),
      close: () => socket.destroy(),
      fix: AGENT_FIX,
      sites: pool
        ? () => [
            { title: 'pool created', site: pool.site },
            { title: 'first request', site: info.site },
          ]
        : undefined,
    })
    socket.once('close', () => resource.release())
  }

  const onResponse = (req: http.ClientRequest, res: http.IncomingMessage) => {
    const info = infos.get(req)
    if (!info) return
    finished(info)
    const method = req.method ?? 'GET'
    const status = res.statusCode ?? 0
    // An upgrade (101) is handed over on 'upgrade', never as a response.
    if (status === 101) return
    const length = res.headers['content-length']
    // @note A response with no body bytes (HEAD, 204, 304, content-length: 0, chunked with no chunk)
    // still keeps its socket until it is read, resumed or destroyed: the agent's next request waits
    // for it (docs/discoveries/http-empty-bodies.md). It holds nothing once that socket is closed.
    const empty = () => res.complete && res.readableLength === 0 && !res.readableDidRead
    const socket = res.socket
    const resource = new Resource({
      kind: 'body',
      checkAt: 'test',
      site: info.site,
      owner: info.owner,
      origin: () => originOf(info.url),
      describe: () =>
        `${method} ${redactUrl(info.url)} → ${status}, ${
          empty()
            ? 'empty body never consumed, holding its socket'
            : `${length ? `${length}-byte body` : 'body'} ${res.readableDidRead ? 'read only partly' : 'never read'}`
        }`,
      // A response nobody listened to is dumped by Node itself (after this channel fired): not a leak. One
      // that is being consumed (flowing: see `beingConsumed`) is not either, however long the rest of its
      // body takes to arrive on a loaded machine. Paused again after a partial read, it is open.
      isOpen: () =>
        !res.readableEnded &&
        !res.destroyed &&
        !(res as { _dumped?: boolean })._dumped &&
        !beingConsumed(res) &&
        !(empty() && (!socket || socket.destroyed)),
      whenClosed: (done) => {
        if (res.readableEnded || res.destroyed) return done()
        res.once('end', done).once('close', done)
        if (socket && !socket.destroyed) socket.once('close', done)
      },
      // Drained rather than destroyed: a destroyed response makes the client (got, axios…) emit
      // 'error' on a stream nobody listens to any more.
      // IncomingMessage emits 'error' only to listeners it already has, so draining needs no listener of netsan's.
      close: () => {
        res.resume()
      },
      fix: BODY_FIX,
    })
    const release = () => resource.release()
    res.once('end', release).once('close', release)
  }

  // @note http.client.request.created is synchronous in http.request() where Node has it (user frame on the
  // stack); http.client.request.start comes later and is the fallback (docs/discoveries/node-net-http-channels.md).
  const undo = [
    subscribe<{ request: http.ClientRequest }>(CHANNELS.httpClientRequestCreated, ({ request }) =>
      onRequest(request),
    ),
    subscribe<{ request: http.ClientRequest }>(CHANNELS.httpClientRequestStart, ({ request }) => {
      // Created unseen: no http.client.request.created here (Node 20), and made through a function
      // taken before the wrappers went in. Such a request shows up only at its end().
      if (!infos.has(request)) noticeOnce('NETSAN_UNSEEN_HTTP_REQUEST', UNSEEN_REQUEST)
      onRequest(request)
    }),
    subscribe<{ request: http.ClientRequest; response: http.IncomingMessage }>(
      CHANNELS.httpClientResponseFinish,
      ({ request, response }) => onResponse(request, response),
    ),
  ]
  // The creation stack is captured where user code calls http.request()/get(): cheaper than inside
  // Node's ClientRequest, and the same user frames (call-sites.ts). The wrappers go in at the first
  // request, which itself is seen by the synchronous http.client.request.created; as are https requests,
  // except where Node lacks that channel (Node 20, which needs node:tls wrapped anyway): there both
  // modules are wrapped at once.
  let wrapped = false
  const wrapCallSites = () => {
    wrapped = true
    const http = process.getBuiltinModule('node:http')
    const modules = publishesEverySocket() ? [http] : [http, process.getBuiltinModule('node:https')]
    for (const mod of modules as unknown as Record<string, any>[]) {
      for (const name of ['request', 'get']) {
        const original = mod[name]
        // Where no channel fires at creation (Node 20), the request is registered as it is returned:
        // one whose body is never ended (no req.end()) publishes nothing at all
        // (docs/discoveries/unfinished-request-body.md).
        const wrapper = callSiteWrapper(engine, original, undefined, {
          onReturn: (req: http.ClientRequest) => {
            if (req && typeof req === 'object' && !infos.has(req)) onRequest(req)
          },
        })
        mod[name] = wrapper
        undo.push(() => {
          if (mod[name] === wrapper) mod[name] = original
        })
      }
    }
  }
  if (!publishesEverySocket()) wrapCallSites()
  return () => {
    for (const u of undo.reverse()) u()
  }
}
