import { createRequire } from 'node:module'
import path from 'node:path'
import type { Engine } from '../engine.ts'
import { installHttpAgentTracker, instrumentUndiciModule } from './agents.ts'
import { installFetchTracker } from './fetch.ts'
import { installHttpClientTracker } from './http-client.ts'
import { installHttp2Tracker } from './http2.ts'
import { registry } from './registry.ts'
import { installServerTracker } from './server.ts'
import { installSocketTracker } from './socket.ts'
import { installUndiciTracker } from './undici.ts'
import { installWebSocketTracker } from './websocket.ts'

let undiciTracker: ReturnType<typeof installUndiciTracker> | undefined

/** Installs every tracker; returns one undo that removes them in reverse order. */
export function installTrackers(engine: Engine): () => void {
  const undici = installUndiciTracker(engine)
  undiciTracker = undici
  const undo = [
    undici.undo,
    installSocketTracker(engine, () => undici.isConnecting()),
    installHttpClientTracker(engine),
    installHttpAgentTracker(engine),
    installServerTracker(engine),
    installHttp2Tracker(engine),
    installFetchTracker(engine),
    installWebSocketTracker(engine),
    instrumentProjectUndici(engine, engine.options.root),
  ]
  return () => {
    undiciTracker = undefined
    for (const u of undo.reverse()) u()
  }
}

/** Instruments an npm undici module object (adapters call this for copies loaded in a sandbox). */
export function instrumentUndici(engine: Engine, mod: Record<string, any>): () => void {
  return instrumentUndiciModule(engine, mod, (origin) => undiciTracker?.adoptByPool(origin))
}

/** The undici the project itself would load, if installed: so `new Agent()` in a test is seen. */
function instrumentProjectUndici(engine: Engine, root: string): () => void {
  try {
    const require = createRequire(path.join(root, 'package.json'))
    const mod = require(require.resolve('undici'))
    return instrumentUndici(engine, mod)
  } catch {
    return () => {}
  }
}

export { registry }
