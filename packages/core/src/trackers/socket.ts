import type net from 'node:net'
import tls from 'node:tls'
import { CHANNELS, subscribe } from '../channels.ts'
import { type Engine, siteNow } from '../engine.ts'
import { Resource } from '../resource.ts'
import { directCreator, type Site } from '../stack.ts'
import { countConnection, hostPort, registry } from './registry.ts'

// Runner frames (Vitest's and Jest's own connections) never make a resource.
const RUNNER = /[\\/]node_modules[\\/](vitest|@vitest|vite|jest-[^\\/]+|@jest|jest)[\\/]/

// A mocking layer's passthrough socket (nock's @mswjs/interceptors): the mock socket the code holds stands for it.
const MOCK_LAYER = /[\\/]node_modules[\\/]@mswjs[\\/]interceptors[\\/]/

export function isRunnerSite(site: Site): boolean {
  const creator = directCreator(site)
  return creator !== undefined && RUNNER.test(creator.file)
}

function describeSocket(socket: net.Socket, intended: string | undefined): string {
  const tlsSocket = socket instanceof tls.TLSSocket
  const remote = socket.remoteAddress ? hostPort(socket.remoteAddress, socket.remotePort) : (intended ?? '?')
  const state = socket.connecting
    ? 'connecting'
    : socket.readyState === 'open'
      ? 'connected'
      : socket.readyState
  return `${tlsSocket ? 'TLS' : 'TCP'} socket to ${remote} (${state}), never destroyed`
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
    if (target) targets.set(socket, target)
    if (seen.has(socket)) return
    seen.add(socket)
    // A pool (undici's connector) or an HTTP/2 session is creating it: they account for it.
    if (registry.claimDepth > 0 || onPoolSocket(socket) || registry.claimed.has(socket)) return
    const site = siteNow(engine)
    if (isRunnerSite(site)) return
    const creator = directCreator(site)
    if (creator && MOCK_LAYER.test(creator.file)) return
    const owner = engine.current()
    const resource = new Resource({
      kind: 'socket',
      // A socket a library opened for itself (a database driver connecting lazily) is judged at the file end.
      checkAt: creator?.kind === 'user' ? 'test' : 'file',
      site,
      owner,
      describe: () => describeSocket(socket, targets.get(socket)),
      isOpen: () => !socket.destroyed,
      whenClosed: (done) => (socket.destroyed ? done() : socket.once('close', done)),
      close: () => socket.destroy(),
    })
    countConnection(socket, owner, undefined, socket instanceof tls.TLSSocket)
    registry.sockets.set(socket, resource)
    socket.once('close', () => {
      registry.sockets.delete(socket)
      resource.release()
    })
  }

  const unsubscribe = subscribe<{ socket: net.Socket }>(CHANNELS.netClientSocket, ({ socket }) =>
    onSocket(socket, '?'),
  )

  // @note Node 20 publishes no net.client.socket for tls.connect (22.23, 24 and 26 do:
  // docs/discoveries/node-net-http-channels.md); a narrow, reversible patch covers it. Seen twice is seen once.
  const originalConnect = tls.connect
  const patchedConnect = function (this: unknown, ...args: unknown[]) {
    const socket = (originalConnect as (...a: unknown[]) => tls.TLSSocket).apply(this, args)
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
