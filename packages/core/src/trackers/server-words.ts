/**
 * What a leaked server report says: pure functions of a snapshot that server.ts takes from the live
 * server, so each wording is tested without a network (test/server-words.test.ts).
 */

/** The server classes of node:net, node:tls, node:http, node:https and node:http2. */
export type ServerType = 'net' | 'tls' | 'http' | 'https' | 'http2' | 'http2-tls'

const LABELS: Record<ServerType, string> = {
  net: 'TCP server',
  tls: 'TLS server',
  http: 'HTTP server',
  https: 'HTTPS server',
  http2: 'HTTP/2 server (cleartext)',
  'http2-tls': 'HTTP/2 server (TLS)',
}

/**
 * The class of a server, from the methods it has: `addContext` is tls.Server's (https.Server and
 * Http2SecureServer extend it), `updateSettings` is on both HTTP/2 server classes, and
 * `closeAllConnections` on http.Server and https.Server (Node 18.2+). Neither the class name (all
 * four of net, tls, http and https call theirs `Server`) nor `instanceof` (which would load
 * node:https and node:http2 to ask) tells them apart.
 */
export function serverType(server: object): ServerType {
  const s = server as Record<string, unknown>
  const tls = typeof s.addContext === 'function'
  if (typeof s.updateSettings === 'function') return tls ? 'http2-tls' : 'http2'
  if (typeof s.closeAllConnections === 'function') return tls ? 'https' : 'http'
  return tls ? 'tls' : 'net'
}

/** One connection the server accepted and that is still open, as a closing server waits for it. */
export type ConnectionState =
  /** HTTP: a request whose response the handler never ended. */
  | { kind: 'serving'; method: string; url: string }
  /** HTTP: handed to an 'upgrade' or 'connect' listener (a WebSocket, a proxy tunnel). */
  | { kind: 'upgraded' }
  /** HTTP: between requests. */
  | { kind: 'idle' }
  /** net: neither side ended it. */
  | { kind: 'open' }
  /** net: the server ended its side; the client never ended its own. */
  | { kind: 'server-ended' }
  /** net: the client ended its side; the server never ended its own. */
  | { kind: 'client-ended' }
  /** TLS: the TLS socket on it was never destroyed (its ends are not visible from the TCP socket). */
  | { kind: 'tls-open' }
  /** HTTP/2: the session on it is open, or closing but held by a stream. */
  | { kind: 'session'; closing: boolean }

export interface Connection {
  /** The client's address and port, as the server sees it. */
  remote: string | undefined
  state: ConnectionState
}

export interface ServerSnapshot {
  type: ServerType
  /** Where it listened (`127.0.0.1:4000`, a pipe's path); recorded at listen, as close() forgets it. */
  address: string | undefined
  /** How long ago close() was called; undefined while it was never called. */
  closeCalledMsAgo: number | undefined
  /** Connections the server still counts (it emits 'close' once this is 0). */
  connectionCount: number
  /** The ones netsan saw it accept, still open. */
  connections: Connection[]
}

/** At most this many connections are named; the rest are counted. */
export const CONNECTIONS_SHOWN = 3

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

function connectionWords(c: Connection): string {
  const from = `from ${c.remote ?? 'an unknown address'}`
  const s = c.state
  switch (s.kind) {
    case 'serving':
      return `${from}, serving ${s.method} ${s.url} (response not ended)`
    case 'upgraded':
      return `${from}, upgraded (a WebSocket or CONNECT tunnel) and never closed`
    case 'idle':
      return `${from}, idle keep-alive`
    case 'open':
      return `${from}, never ended by the handler (socket.end()) nor by the client`
    case 'server-ended':
      return `${from}, ended by the server; the client never ended its side`
    case 'client-ended':
      return `${from}, ended by the client; the handler never ended its side (socket.end())`
    case 'tls-open':
      return `${from}, its TLS socket never ended or destroyed`
    case 'session':
      return s.closing
        ? `${from}, an HTTP/2 session closing but held open by a stream that never ended`
        : `${from}, an HTTP/2 session never closed`
  }
}

/** `HTTP server on 127.0.0.1:4000, never closed`, or what a closing server still waits for. */
export function describeServer(s: ServerSnapshot): string {
  const head = s.address
    ? `${LABELS[s.type]} on ${s.address}`
    : `${LABELS[s.type]} (listen() called, not bound yet)`
  if (s.closeCalledMsAgo === undefined) return `${head}, never closed`
  const waiting = Math.max(s.connectionCount, s.connections.length)
  const ago = `close() called ${Math.round(s.closeCalledMsAgo)} ms ago`
  if (waiting === 0) return `${head}, ${ago}, still closing`
  const named = s.connections.slice(0, CONNECTIONS_SHOWN).map(connectionWords)
  const rest = waiting - named.length
  if (named.length === 0) return `${head}, ${ago} but still waiting for ${plural(waiting, 'connection')}`
  if (rest > 0) named.push(`and ${rest} more`)
  return `${head}, ${ago} but still waiting for ${plural(waiting, 'connection')}: ${named.join('; ')}`
}

/** The fix, by class, for a server never closed and for one whose close() still waits. */
export function serverFix(s: ServerSnapshot): string {
  const closing = s.closeCalledMsAgo !== undefined
  switch (s.type) {
    case 'http':
    case 'https':
      return closing
        ? 'end the response each handler leaves open (res.end()), or call server.closeAllConnections() to drop it (Node 18.2+)'
        : 'await its close(), after server.closeAllConnections(): close() waits for requests in progress (closeIdleConnections() ends only the idle ones; both Node 18.2+)'
    case 'net':
    case 'tls':
      return closing
        ? "end the socket its handler keeps (socket.end()) or destroy the client's; to force it, keep the accepted sockets (its 'connection' event) in a Set and destroy them"
        : "await its close(); it waits for the connections it accepted, and net and tls servers have no closeAllConnections(): keep the sockets from its 'connection' event in a Set and destroy them first"
    case 'http2':
    case 'http2-tls':
      return closing
        ? "end the streams a handler leaves open (stream.end()), close the client's session (session.close()), or destroy the server's sessions (from its 'session' event: session.destroy())"
        : "await its close(); it waits for open sessions, and HTTP/2 servers have no closeAllConnections(): close the client sessions (session.close()), or keep the server's from its 'session' event and session.destroy() each first"
  }
}
