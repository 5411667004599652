import type net from 'node:net'
import type tls from 'node:tls'
import type { Resource } from '../resource.ts'
import type { Scope } from '../scope.ts'
import type { Site } from '../stack.ts'

/** Where a pool (undici Agent/Pool/Client, http.Agent) was created, when netsan saw it created. */
export interface PoolOrigin {
  scope: Scope
  site: Site
  label: string
  /** The pool itself, weakly: cleanup closes a leaked pool through its own API. */
  pool: WeakRef<object>
}

/**
 * State the trackers share, keyed by object identity in WeakMaps so that nothing here
 * keeps a closed resource alive.
 */
export const registry = {
  /** `socket` resources, so a pool that claims the socket later can take it over. */
  sockets: new WeakMap<net.Socket, Resource>(),
  /** Sockets that a pool or a WebSocket accounts for. */
  claimed: new WeakSet<net.Socket>(),
  /** Pools created while netsan watched. */
  pools: new WeakMap<object, PoolOrigin>(),
  /** undici's MockAgent, MockPool and MockClient instances created while netsan watched. */
  mocks: new WeakSet<object>(),
  /** Where each server was created (`http.createServer(handler)`), when netsan watched. */
  servers: new WeakMap<object, Site>(),
}

const counted = new WeakMap<net.Socket, { stats: Scope['stats']; origin: string | undefined }>()

/**
 * Counts a connection once in `scope`'s figures, whichever tracker sees it first; a pool that
 * claims the socket later may still add the origin the socket tracker could not know.
 */
export function countConnection(
  socket: net.Socket,
  scope: Scope,
  origin: string | undefined,
  tls: boolean,
): void {
  const seen = counted.get(socket)
  if (seen) {
    if (!seen.origin && origin) {
      seen.origin = origin
      seen.stats.originOf(origin)
    }
    return
  }
  // The figures of the scope that counted it (an ended scope's late work counts in its live ancestor).
  const stats = scope.stats
  counted.set(socket, { stats, origin })
  stats.connectionOpened(origin, tls)
  socket.once('close', () => stats.connectionClosed())
}

/** A socket that a pool or WebSocket now accounts for stops being a plain `socket` resource. */
export function claimSocket(socket: net.Socket): void {
  registry.claimed.add(socket)
  const r = registry.sockets.get(socket)
  if (r) {
    registry.sockets.delete(socket)
    r.release()
  }
}

export const noop = (): void => {}

/** Where a pool was created, as the report of the scope that judges its connections says it. */
export function poolWhere(type: string): string {
  return type === 'test'
    ? 'by this test'
    : type === 'describe'
      ? 'in this describe block'
      : `in ${type} scope`
}

/** A response that cannot carry body bytes is never an unconsumed body (with HEAD and content-length: 0). */
export const NO_BODY_STATUS: ReadonlySet<number> = new Set([101, 103, 204, 205, 304])

export function hostPort(host: unknown, port: unknown): string {
  const h =
    typeof host === 'string' && host.includes(':') && !host.startsWith('[')
      ? `[${host}]`
      : String(host ?? '?')
  return port === undefined || port === null || port === '' ? h : `${h}:${port}`
}

/** A TLSSocket says so itself: no need to load node:tls to ask `instanceof`. */
export function isTls(socket: net.Socket): boolean {
  return (socket as Partial<tls.TLSSocket>).encrypted === true
}

let everySocket: boolean | undefined
/**
 * Whether `net.client.socket` fires for every client socket, TLS included: since nodejs/node#58349
 * (May 2025; Node 22.23, 24 and 26 here) it is published from `Socket#connect`, on Node 20 only from
 * `net.connect()`. Read from the function's source so that node:tls and node:https are loaded only
 * where they must be wrapped; should the name change, netsan falls back to wrapping (seen twice is seen once).
 */
export function publishesEverySocket(): boolean {
  if (everySocket === undefined) {
    try {
      const { Socket } = process.getBuiltinModule('node:net')
      everySocket = Function.prototype.toString
        .call(Socket.prototype.connect)
        .includes('netClientSocketChannel')
    } catch {
      everySocket = false
    }
  }
  return everySocket
}
