import { allowLeaks, expectNoLeakedConnections, isLeakError, type Session } from 'netsan'
import { API_KEY, type SandboxApi } from './api.ts'

/** Where every copy of netsan finds the process-wide engine (packages/core/src/engine.ts). */
const ENGINE_KEY = Symbol.for('netsan.engine.v1')
/** Where it learns that netsan is off, so that the helpers a test calls do nothing (engine.ts). */
const OFF_KEY = Symbol.for('netsan.off.v1')

/**
 * Test code runs in a vm realm with its own globalThis. Three things make netsan work there:
 * the realm's fetch/WebSocket and its undici global dispatchers are watched; the engine is published
 * on the sandbox global, so a copy of netsan loaded inside the sandbox (ESM tests) reaches the same
 * engine; and the helpers are published for `jest-environment-netsan/api` (CommonJS tests).
 */
export function attachSandbox(session: Session, sandbox: typeof globalThis): () => void {
  const engine = session.engine
  if (!engine) {
    if (session.options.mode !== 'off') return () => {}
    // The copy of netsan a test loads in the sandbox sees this realm's globalThis, not the session's.
    Object.defineProperty(sandbox, OFF_KEY, { value: 1, configurable: true })
    return () => {
      delete (sandbox as unknown as Record<symbol, unknown>)[OFF_KEY]
    }
  }
  // The session's presentation (on the engine) shapes every LeakError for Jest, this copy's and the
  // sandbox's own copy's alike.
  const helpers: SandboxApi = { expectNoLeakedConnections, allowLeaks, isLeakError }
  Object.defineProperty(sandbox, ENGINE_KEY, { value: engine, configurable: true })
  Object.defineProperty(sandbox, API_KEY, { value: helpers, configurable: true })
  const unwatch = engine.watchGlobal(sandbox)
  return () => {
    unwatch()
    for (const key of [ENGINE_KEY, API_KEY]) {
      try {
        delete (sandbox as unknown as Record<symbol, unknown>)[key]
      } catch {}
    }
  }
}
