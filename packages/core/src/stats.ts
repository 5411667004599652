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
