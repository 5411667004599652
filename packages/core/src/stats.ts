import type { ConnectionStats } from './types.ts'

/** Connection figures of one scope: the observability an avalanche needs, even when nothing leaks. */
export class Stats {
  socketsOpened = 0
  requests = 0
  tlsHandshakes = 0
  private open = 0
  private peak = 0
  private carrying = 0
  private readonly byOrigin = new Map<string, number>()

  connectionOpened(origin: string | undefined, tls: boolean): void {
    this.socketsOpened++
    if (tls) this.tlsHandshakes++
    if (++this.open > this.peak) this.peak = this.open
    if (origin) this.originOf(origin)
  }

  /** Attributes an already counted connection to its origin. */
  originOf(origin: string): void {
    this.byOrigin.set(origin, (this.byOrigin.get(origin) ?? 0) + 1)
  }

  connectionClosed(): void {
    if (this.open > 0) this.open--
  }

  /** A connection carried its first request. */
  connectionUsed(): void {
    this.carrying++
  }

  requestStarted(): void {
    this.requests++
  }

  connectionsTo(origin: string): number {
    return this.byOrigin.get(origin) ?? 0
  }

  /**
   * Figures of several scopes as one (a file and its describe blocks, which the report does not list
   * apart): counts add up, the peak is the largest, requests per connection is recomputed.
   */
  static combine(all: ConnectionStats[]): ConnectionStats {
    let carrying = 0
    const total: ConnectionStats = {
      socketsOpened: 0,
      requests: 0,
      requestsPerConnection: 0,
      tlsHandshakes: 0,
      peakOpenConnections: 0,
      connectionsByOrigin: {},
    }
    for (const s of all) {
      total.socketsOpened += s.socketsOpened
      total.requests += s.requests
      total.tlsHandshakes += s.tlsHandshakes
      total.peakOpenConnections = Math.max(total.peakOpenConnections, s.peakOpenConnections)
      if (s.requestsPerConnection > 0) carrying += Math.round(s.requests / s.requestsPerConnection)
      for (const [origin, n] of Object.entries(s.connectionsByOrigin))
        total.connectionsByOrigin[origin] = (total.connectionsByOrigin[origin] ?? 0) + n
    }
    total.requestsPerConnection = carrying === 0 ? 0 : Math.round((total.requests / carrying) * 100) / 100
    return total
  }

  snapshot(): ConnectionStats {
    return {
      socketsOpened: this.socketsOpened,
      requests: this.requests,
      requestsPerConnection:
        this.carrying === 0 ? 0 : Math.round((this.requests / this.carrying) * 100) / 100,
      tlsHandshakes: this.tlsHandshakes,
      peakOpenConnections: this.peak,
      connectionsByOrigin: Object.fromEntries(this.byOrigin),
    }
  }
}
