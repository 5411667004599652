import type { Engine } from '../../engine.ts'
import type { HandleKind } from '../../types.ts'
import { installChildTracker } from './child.ts'
import { installFileTracker } from './files.ts'
import { HandleLedger } from './ledger.ts'
import { syncBuiltinExports } from './patch.ts'
import { installTimerTracker } from './timers.ts'
import { installWatcherTracker } from './watchers.ts'
import { installWorkerTracker } from './worker.ts'

const INSTALL: Record<HandleKind, (engine: Engine, ledger: HandleLedger) => () => void> = {
  timer: installTimerTracker,
  child: installChildTracker,
  watcher: installWatcherTracker,
  worker: installWorkerTracker,
  file: installFileTracker,
}

const LEDGER = Symbol.for('netsan.handles.ledger.v1')

/**
 * The handles netsan recorded in this process, on the engine so that the exit diagnosis finds them
 * after the trackers are gone (Jest installs and removes them for every file).
 */
export function handleLedger(engine: Engine): HandleLedger | undefined {
  return (engine as unknown as Record<symbol, HandleLedger | undefined>)[LEDGER]
}

/**
 * The opt-in handle kinds named in `kinds`. With none named, nothing here runs: no wrapper, no
 * channel, no builtin module loaded. Returns the undo.
 */
export function installHandleTrackers(engine: Engine): () => void {
  const kinds = (Object.keys(INSTALL) as HandleKind[]).filter((k) => engine.options.kinds.has(k))
  if (kinds.length === 0) return () => {}
  let ledger = handleLedger(engine)
  if (!ledger) {
    ledger = new HandleLedger(engine)
    Object.defineProperty(engine, LEDGER, { value: ledger, configurable: true })
  }
  const undo = kinds.map((kind) => INSTALL[kind](engine, ledger))
  // `import { watch } from 'node:fs'` and the like read the patched functions from now on.
  syncBuiltinExports()
  const unsweep = engine.onScopeEnd(() => ledger.sweep())
  return () => {
    unsweep()
    for (const u of undo.reverse()) u()
    syncBuiltinExports()
  }
}
