import type { LeakKind } from './types.ts'

/** The kind in plain words, as printed. */
export const KIND_WORDS: Record<LeakKind, string> = {
  body: 'unconsumed response body',
  request: 'in-flight request',
  socket: 'open socket',
  idle: 'idle keep-alive connection',
  server: 'listening server',
  http2: 'open HTTP/2 session',
  websocket: 'open WebSocket',
}

/** One fix per kind; trackers may pass a more specific one (node:http bodies, http.Agent pools). */
export const FIXES: Record<LeakKind, string> = {
  body: 'read the body (await res.arrayBuffer(), await body.dump()) or cancel it (await res.body?.cancel())',
  request: 'give it a deadline (signal: AbortSignal.timeout(ms)) and await it, or abort it',
  socket: 'call socket.destroy() in a finally block',
  idle: 'await agent.close() when done (http.Agent: agent.destroy()), or share one agent across requests',
  server: 'await its close() (call closeAllConnections() first)',
  http2: 'call session.close() when done',
  websocket: "call ws.close() and wait for its 'close' event",
}
