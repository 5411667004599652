import { type LeakKind, NETWORK_KINDS } from './types.ts'

/** The kind in plain words, as printed. */
export const KIND_WORDS: Record<LeakKind, string> = {
  body: 'unconsumed response body',
  request: 'in-flight request',
  socket: 'open socket',
  idle: 'idle keep-alive connection',
  server: 'listening server',
  http2: 'open HTTP/2 session',
  websocket: 'open WebSocket',
  // Handle kinds (opt-in): trackers/handles/.
  timer: 'active timer',
  child: 'running child process',
  watcher: 'active file watcher',
  worker: 'running worker thread',
  file: 'open file',
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
  timer:
    'clear it when done (clearInterval/clearTimeout in afterEach or a finally block), or .unref() a background timer',
  child: "kill it (child.kill()) and wait for its 'exit' event, or await the command to its end",
  watcher: 'call watcher.close() (fs.unwatchFile() for fs.watchFile; abort the signal of fs.promises.watch)',
  worker: 'await worker.terminate(), or let the worker finish its work and exit',
  file: 'await handle.close() (fs.closeSync(fd) for a descriptor) in a finally block',
}

/** Whether `kind` is one of the network kinds (a report's heading says "network resource" for those). */
export function isNetworkKind(kind: LeakKind): boolean {
  return (NETWORK_KINDS as readonly LeakKind[]).includes(kind)
}
