import type { Engine } from '../../engine.ts'
import { Resource } from '../../resource.ts'
import type { Scope } from '../../scope.ts'
import { CALL_SITE_LIMIT, captureSite, directCreator, type Site } from '../../stack.ts'
import type { HandleKind } from '../../types.ts'
import { isRunnerSite } from '../socket.ts'

// Fake-timer libraries create real timers for the runner (shouldAdvanceTime, feature probes).
const RUNNER_TOOLS = /[\\/]node_modules[\\/]@sinonjs[\\/]fake-timers[\\/]/

/** Where a handle is created now, unless the runner is creating it (its own timers, RPC, workers). */
export function handleSite(): Site | undefined {
  // Captured at the call (the wrapper or the channel's publisher is one or two frames down).
  const site = captureSite(CALL_SITE_LIMIT)
  if (isRunnerSite(site)) return undefined
  const creator = directCreator(site)
  if (creator && RUNNER_TOOLS.test(creator.file)) return undefined
  return site
}

export interface HandleInit {
  kind: HandleKind
  site: Site
  describe: () => string
  /** Would be a leak if its scope ended now. */
  isOpen: () => boolean
  /** Closed for good (fired, cleared, exited, closed, collected): the ledger forgets it. */
  isDone: () => boolean
  /** Keeps the event loop alive right now (for the exit diagnosis). */
  keepsAlive: () => boolean
  whenClosed?: (done: () => void) => void
  close: () => void
  fix?: string | (() => string | undefined)
  /** The scope to own it; the current one by default. */
  owner?: Scope
}

export interface HandleRecord {
  resource: Resource
  /** The scope that was current when it was created (a test, its file, or the run), for the exit diagnosis. */
  createdIn: Scope
  isDone: () => boolean
  keepsAlive: () => boolean
}

const SWEEP_EVERY = 1024

/**
 * Handles that no close event reports cheaply (a timer fires, a FileHandle is collected) are judged by
 * their state. The ledger forgets those that are done: at every scope end and every SWEEP_EVERY new
 * handles, so that a test creating many short-lived timers holds no record of them for long.
 */
export class HandleLedger {
  readonly records = new Set<HandleRecord>()
  private readonly engine: Engine
  private added = 0

  constructor(engine: Engine) {
    this.engine = engine
  }

  add(init: HandleInit): HandleRecord {
    const site = init.site
    const creator = directCreator(site)
    const owner = init.owner ?? this.engine.current()
    const resource = new Resource({
      kind: init.kind,
      // What a library opened for itself (a pool's timer, a logger's file) is judged at the file end.
      checkAt: creator?.kind === 'user' ? 'test' : 'file',
      site,
      owner,
      describe: init.describe,
      isOpen: init.isOpen,
      whenClosed: init.whenClosed,
      close: init.close,
      fix: init.fix,
    })
    const record = { resource, createdIn: owner, isDone: init.isDone, keepsAlive: init.keepsAlive }
    this.records.add(record)
    if (++this.added % SWEEP_EVERY === 0) this.sweep()
    return record
  }

  /** Forgets `record` now (a close event, an fd closed). */
  done(record: HandleRecord): void {
    if (this.records.delete(record)) record.resource.release()
  }

  sweep(): void {
    for (const record of this.records) {
      let done = true
      try {
        done = record.isDone()
      } catch {}
      if (done) this.done(record)
    }
  }

  /** Open handles that keep the event loop alive, for the exit diagnosis. */
  alive(): HandleRecord[] {
    this.sweep()
    return [...this.records].filter((r) => {
      try {
        return r.keepsAlive()
      } catch {
        return false
      }
    })
  }
}
