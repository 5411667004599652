import type net from 'node:net'
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
  /** Sockets that a pool, an HTTP/2 session or a WebSocket accounts for. */
  claimed: new WeakSet<net.Socket>(),
  /** Pools created while netsan watched. */
  pools: new WeakMap<object, PoolOrigin>(),
  /** Non-zero while a library creates a socket it manages itself (undici's connector, http2.connect). */
  claimDepth: 0,
}

const counted = new WeakMap<net.Socket, { scope: Scope; origin: string | undefined }>()

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
      seen.scope.stats.originOf(origin)
    }
    return
  }
  counted.set(socket, { scope, origin })
  scope.stats.connectionOpened(origin, tls)
  socket.once('close', () => scope.stats.connectionClosed())
}

/** A socket that a pool or session now accounts for stops being a plain `socket` resource. */
export function claimSocket(socket: net.Socket): void {
  registry.claimed.add(socket)
  const r = registry.sockets.get(socket)
  if (r) {
    registry.sockets.delete(socket)
    r.release()
  }
}

/** Runs a library's socket-creating call with its sockets marked as claimed. */
export function claimingSockets<T>(fn: () => T): T {
  registry.claimDepth++
  try {
    return fn()
  } finally {
    registry.claimDepth--
  }
}

export const noop = (): void => {}

/** A response that cannot carry body bytes is never an unconsumed body (with HEAD and content-length: 0). */
export const NO_BODY_STATUS: ReadonlySet<number> = new Set([101, 103, 204, 205, 304])

export function hostPort(host: unknown, port: unknown): string {
  const h =
    typeof host === 'string' && host.includes(':') && !host.startsWith('[')
      ? `[${host}]`
      : String(host ?? '?')
  return port === undefined || port === null || port === '' ? h : `${h}:${port}`
}
