import EventEmitter from 'node:events'
import type { Engine } from '../engine.ts'
import { captureSite, type Site } from '../stack.ts'
import { type PoolOrigin, registry } from './registry.ts'

// undici's pool classes, by name: every copy of undici (Node's bundled one, npm undici, a copy
// loaded in Jest's sandbox) has its own classes, but all of them are EventEmitters.
const UNDICI_POOLS = new Set([
  'Agent',
  'Pool',
  'Client',
  'BalancedPool',
  'RetryAgent',
  'EnvHttpProxyAgent',
  'ProxyAgent',
])
// undici's mocks: MockAgent dispatches to MockPool/MockClient, which answer without a connection.
const UNDICI_MOCKS = new Set(['MockAgent', 'MockPool', 'MockClient'])
const WRAPPED = Symbol.for('netsan.emitter-init.v1')

type Init = ((this: EventEmitter, opts?: unknown) => void) & { [WRAPPED]?: true }

/** The MockAgent a MockPool or MockClient belongs to (undici keeps it under its `mock agent` symbol). */
function mockAgentOf(pool: object): PoolOrigin | undefined {
  const key = Object.getOwnPropertySymbols(pool).find((k) => k.description === 'mock agent')
  const agent = key ? (pool as Record<symbol, unknown>)[key] : undefined
  return agent && typeof agent === 'object' ? registry.pools.get(agent) : undefined
}

/** What the undici tracker learns from emitters being created. */
export interface EmitterHooks {
  /** A pool's new connection (undici re-emits a Client's 'connect' on its Pool and Agent). */
  adopt: (origin: PoolOrigin) => void
  /** An undici dispatcher (pool or mock): its Dispatcher API gets call-site wrappers. */
  dispatcher: (dispatcher: object) => void
  /** The controller of one `fetch()` of some copy of undici (its `Fetch` class), as it is created. */
  fetchController: (controller: object) => void
}

/**
 * Learns where each pool (undici Agent/Pool/Client, http.Agent) is created, so that a pool created
 * inside a test is that test's to close; where each server is created (its report names that line,
 * where its handler is, when listen() is called elsewhere); and sees undici's mocks and fetch
 * controllers being made. Every EventEmitter runs `EventEmitter.init` from its constructor, whichever
 * realm or copy of undici it comes from: one narrow, reversible wrapper sees them all, and costs a
 * few property reads for every other emitter.
 *
 * undici re-emits a Client's 'connect' on its Pool and then its Agent, so the last pool to adopt a
 * new connection is the outermost one: the dispatcher user code created.
 */
export function installPoolCreationTracker(engine: Engine, hooks: EmitterHooks): () => void {
  const emitter = EventEmitter as unknown as { init: Init }
  const original = emitter.init
  if (original[WRAPPED]) return () => {}
  // The last undici pool of each class seen created: while its constructor runs, the pools it makes
  // for itself (ProxyAgent: an Agent and a Pool) are its own.
  const lastOfClass = new Map<string, PoolOrigin>()
  const init: Init = function (this: EventEmitter, opts?: unknown) {
    original.call(this, opts)
    // Every stream and socket is an EventEmitter: two property reads tell nearly all of them apart.
    const self = this as {
      dispatch?: unknown
      addRequest?: unknown
      createSocket?: unknown
      terminate?: unknown
    }
    const ctor = (this as { constructor?: { name?: string } }).constructor
    // @note undici's fetch() makes one `Fetch` controller (an EventEmitter) per call, synchronously
    // before it dispatches the request (docs/discoveries/undici-fetch.md).
    if (typeof self.terminate === 'function' && ctor?.name === 'Fetch') {
      try {
        hooks.fetchController(this)
      } catch {}
      return
    }
    const isDispatcher = typeof self.dispatch === 'function' && ctor?.name !== undefined
    // A mock is a pool too: a request it passes through to the network opens real connections.
    const isMock = isDispatcher && UNDICI_MOCKS.has(ctor.name!)
    if (isMock) registry.mocks.add(this)
    const isUndici = isMock || (isDispatcher && UNDICI_POOLS.has(ctor.name!))
    // http.Agent by its own methods, not `instanceof`: asking node:http for its Agent from here would
    // load it in the middle of node:_http_agent's own loading (which makes http.globalAgent) and
    // leave node:http with a half-made copy of that module.
    const isHttpAgent =
      !isUndici && typeof self.addRequest === 'function' && typeof self.createSocket === 'function'
    if (!isHttpAgent && !isUndici) {
      // A server (net, tls, http, https, http2): where it was created, with its handler, for its report.
      const server = this as { listen?: unknown; getConnections?: unknown }
      if (typeof server.getConnections === 'function' && typeof server.listen === 'function') {
        try {
          registry.servers.set(this, captureSite())
        } catch {}
      }
      return
    }
    try {
      const site = captureSite()
      const outer = isUndici ? outerPool(engine, this, site, lastOfClass) : undefined
      const origin: PoolOrigin = outer ?? {
        // A pool a shared module makes at its top level is the worker's (Scope.ownerFor).
        scope: engine.current().ownerFor(site),
        site,
        pool: new WeakRef(this),
        label: isHttpAgent
          ? // https.Agent alone caches TLS sessions.
            typeof (this as { _cacheSession?: unknown })._cacheSession === 'function'
            ? 'an https.Agent'
            : 'an http.Agent'
          : `an undici ${ctor?.name}`,
      }
      registry.pools.set(this, origin)
      if (isUndici) {
        lastOfClass.set(ctor!.name!, origin)
        // A MockPool's connections (requests passed through) are its MockAgent's, which made it
        // lazily and which the user closes; that agent does not re-emit the pool's 'connect'.
        this.on('connect', () => hooks.adopt((isMock && mockAgentOf(this)) || origin))
        hooks.dispatcher(this)
      }
    } catch {}
  }
  init[WRAPPED] = true
  emitter.init = init
  return () => {
    if (emitter.init === init) emitter.init = original
  }
}

/**
 * The pool user code created that `pool` serves, when undici made `pool` for it: inside the outer
 * pool's constructor (its class on the stack), or inside a call of the outer pool's Dispatcher API (an
 * Agent's per-origin Pool, ProxyAgent's per-request dispatchers). That one is where the fix goes.
 */
function outerPool(
  engine: Engine,
  pool: object,
  site: Site,
  lastOfClass: Map<string, PoolOrigin>,
): PoolOrigin | undefined {
  const own = new Set<string>()
  for (let p = Object.getPrototypeOf(pool); p && p !== Object.prototype; p = Object.getPrototypeOf(p))
    own.add(p.constructor?.name)
  const outer = site.constructorMatching((name) => !own.has(name) && lastOfClass.has(name))
  if (outer !== undefined) return lastOfClass.get(outer)
  const call = engine.calls.getStore()
  const dispatcher = call?.active ? call.dispatcher : undefined
  return dispatcher && dispatcher !== pool ? registry.pools.get(dispatcher) : undefined
}
