import dc from 'node:diagnostics_channel'

/** Every diagnostics channel netsan listens to, in one place. See docs/discoveries/. */
export const CHANNELS = {
  undiciRequestCreate: 'undici:request:create',
  undiciRequestHeaders: 'undici:request:headers',
  undiciRequestBodySent: 'undici:request:bodySent',
  undiciRequestTrailers: 'undici:request:trailers',
  undiciRequestError: 'undici:request:error',
  undiciBeforeConnect: 'undici:client:beforeConnect',
  undiciConnected: 'undici:client:connected',
  undiciConnectError: 'undici:client:connectError',
  undiciSendHeaders: 'undici:client:sendHeaders',
  netClientSocket: 'net.client.socket',
  netServerListen: 'net.server.listen',
  netServerSocket: 'net.server.socket',
  httpServerRequestStart: 'http.server.request.start',
  httpClientRequestCreated: 'http.client.request.created',
  httpClientRequestStart: 'http.client.request.start',
  httpClientResponseFinish: 'http.client.response.finish',
  // Handle kinds (opt-in): published synchronously in the creator's context, Node 20 and 24 alike.
  childProcess: 'child_process',
  workerThreads: 'worker_threads',
} as const

let reportedInternalError = false

/** A subscriber must never throw into user code: its errors are printed once and swallowed. */
function guard<T>(name: string, fn: (message: T) => void): (message: unknown) => void {
  return (message) => {
    try {
      fn(message as T)
    } catch (error) {
      if (!reportedInternalError) {
        reportedInternalError = true
        process.emitWarning(
          `netsan: internal error in the ${name} subscriber: ${(error as Error)?.stack ?? error}`,
        )
      }
    }
  }
}

/** Subscribes and returns the matching unsubscribe. */
export function subscribe<T>(name: string, fn: (message: T) => void): () => void {
  const handler = guard(name, fn)
  dc.subscribe(name, handler)
  return () => {
    dc.unsubscribe(name, handler)
  }
}

/** Subscribes to some events of a tracing channel (`tracing:<name>:<event>`). */
export function subscribeTracing<T>(
  name: string,
  handlers: Partial<Record<'start' | 'end' | 'asyncStart' | 'asyncEnd' | 'error', (message: T) => void>>,
): () => void {
  const undo = Object.entries(handlers).map(([event, fn]) =>
    subscribe(`tracing:${name}:${event}`, fn as (m: T) => void),
  )
  return () => {
    for (const u of undo) u()
  }
}
