import type net from 'node:net'
import { CHANNELS, subscribeTracing } from '../channels.ts'
import type { Engine } from '../engine.ts'
import { Resource } from '../resource.ts'
import { captureSite } from '../stack.ts'
import { hostPort } from './registry.ts'
import { isRunnerSite } from './socket.ts'

function label(server: net.Server): string {
  const name = server.constructor?.name ?? 'Server'
  const http2 = 'setTimeout' in server && /Http2/.test(name)
  if (http2) return 'HTTP/2 server'
  const proto = Object.getPrototypeOf(server)
  if ('closeAllConnections' in server)
    return 'encrypted' in proto || /Https|TLS/i.test(name) ? 'HTTPS server' : 'HTTP server'
  return /TLS/i.test(name) ? 'TLS server' : 'TCP server'
}

function address(server: net.Server): string {
  const a = server.address()
  if (!a) return 'not yet bound'
  return typeof a === 'string' ? a : hostPort(a.address, a.port)
}

/**
 * Listening servers, from the `net.server.listen` tracing channel (http, https, http2, tls, net).
 * @note A failed listen() is seen on `tracing:net.server.listen:error`, never through an 'error'
 * listener: one would swallow the EADDRINUSE that must still fail the test, and one per listen() of a
 * reused server would pile up to a MaxListenersExceededWarning (docs/discoveries/observer.md).
 */
export function installServerTracker(engine: Engine): () => void {
  const tracked = new WeakMap<net.Server, () => void>()
  return subscribeTracing<{ server: net.Server }>(CHANNELS.netServerListen, {
    asyncStart: ({ server }) => {
      if (!server || tracked.has(server)) return
      const site = captureSite()
      if (isRunnerSite(site)) return
      let closed = false
      const owner = engine.current()
      const resource = new Resource({
        kind: 'server',
        checkAt: 'test',
        site,
        owner,
        describe: () => `${label(server)} on ${address(server)}, never closed`,
        isOpen: () => !closed,
        whenClosed: (done) => (closed ? done() : server.once('close', done)),
        close: () => {
          ;(server as { closeAllConnections?: () => void }).closeAllConnections?.()
          server.close()
        },
      })
      const onClose = () => {
        closed = true
        tracked.delete(server)
        server.removeListener('close', onClose)
        resource.release()
      }
      tracked.set(server, onClose)
      server.once('close', onClose)
    },
    // A listen() that failed (EADDRINUSE, EACCES) leaves nothing listening; the server's own 'error'
    // event still reaches the code under test as it would without netsan.
    error: ({ server }) => {
      if (server && !server.listening) tracked.get(server)?.()
    },
  })
}
