import type { Engine } from '../engine.ts'
import { installPoolCreationTracker } from './agents.ts'
import { installFetchTracker } from './fetch.ts'
import { installHandleTrackers } from './handles/index.ts'
import { installHttpClientTracker } from './http-client.ts'
import { installServerTracker } from './server.ts'
import { installSocketTracker } from './socket.ts'
import { installUndiciTracker } from './undici.ts'

/** Installs every tracker; returns one undo that removes them in reverse order. */
export function installTrackers(engine: Engine): () => void {
  const undici = installUndiciTracker(engine)
  const undo = [
    undici.undo,
    installSocketTracker(engine, () => undici.isConnecting()),
    installHttpClientTracker(engine),
    installPoolCreationTracker(engine, {
      adopt: (origin) => undici.adoptByPool(origin),
      dispatcher: (dispatcher) => undici.instrument(dispatcher),
      fetchController: (controller) => undici.fetchCreated(controller),
    }),
    installServerTracker(engine),
    installFetchTracker(engine),
    // Opt-in handle kinds (timer, child, watcher, worker, file): nothing is installed unless `kinds` names one.
    installHandleTrackers(engine),
  ]
  undici.watchGlobalDispatchers()
  return () => {
    for (const u of undo.reverse()) u()
  }
}
