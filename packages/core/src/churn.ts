import type { ChurnOptions, ConnectionStats } from './types.ts'

/**
 * Most requests per connection that still counts as "about one": a client that reuses connections
 * makes several requests per connection; one that builds a new Agent per request makes exactly one.
 */
export const CHURN_MAX_REQUESTS_PER_CONNECTION = 1.5

/**
 * The churn check (option `churn: { maxConnectionsPerOrigin }`): a test that opened more connections
 * to one origin than the maximum, at about one request each, is most likely creating an Agent (or a
 * client) per request. That is a warning, not a failure: nothing leaked, every connection may have been
 * closed, but in production the same code pays a TCP/TLS handshake per request and can exhaust ports.
 *
 * Pure: the message for a test's connection figures, or undefined when the pattern is absent.
 */
export function checkChurn(
  stats: ConnectionStats,
  options: ChurnOptions | false | undefined,
  subject?: string,
): string | undefined {
  if (!options) return undefined
  const rpc = stats.requestsPerConnection
  // 0 means no connection carried a request (raw sockets, servers): nothing to say about reuse.
  if (rpc <= 0 || rpc > CHURN_MAX_REQUESTS_PER_CONNECTION) return undefined
  const over = Object.entries(stats.connectionsByOrigin)
    .filter(([, n]) => n > options.maxConnectionsPerOrigin)
    .sort((a, b) => b[1] - a[1])
  if (over.length === 0) return undefined
  const who = subject ? `test "${subject}"` : 'this test'
  const where = over.map(([origin, n]) => `${n} connections to ${origin}`).join(', ')
  return [
    `netsan: ${who} opened ${where} (more than maxConnectionsPerOrigin ${options.maxConnectionsPerOrigin}) for ${stats.requests} request${stats.requests === 1 ? '' : 's'}: ${rpc} request${rpc === 1 ? '' : 's'} per connection`,
    '  a new Agent (or client) per request? every request pays a new TCP/TLS handshake and no connection is reused',
    '  fix: create one agent and share it (undici: one Agent/Pool, or the global dispatcher; node:http: one http.Agent({ keepAlive: true })), and close it when done',
  ].join('\n')
}
