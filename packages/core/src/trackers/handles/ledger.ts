import type { Engine } from '../../engine.ts'
import { type CheckAt, Resource } from '../../resource.ts'
import type { Scope } from '../../scope.ts'
import { CALL_SITE_LIMIT, captureSite, directCreator, type Site } from '../../stack.ts'
import type { HandleKind } from '../../types.ts'
import { isRunnerSite } from '../socket.ts'

// Fake-timer libraries create real timers for the runner (shouldAdvanceTime, feature probes).
const RUNNER_TOOLS = /[\\/]node_modules[\\/]@sinonjs[\\/]fake-timers[\\/]/

/** Whether the runner (or its fake-timer library) created it: its own timers, RPC, workers. */
function byRunner(site: Site): boolean {
  if (isRunnerSite(site)) return true
  const creator = directCreator(site)
  return creator !== undefined && RUNNER_TOOLS.test(creator.file)
}

/**
 * Where a handle is created now. Captured at the call (the wrapper or the channel's publisher is one
 * or two frames down); who created it (user code, a library, the runner) is read only for a handle
 * still open when a scope ends: most timers and files are closed long before, and reading a stack's
 * frames costs several times more than capturing it (docs/discoveries/handles.md).
 */
export function siteOfHandle(): Site {
  return captureSite(CALL_SITE_LIMIT)
}

/** Where a handle is created now, unless the runner is creating it (for the rarer kinds: children, workers, watchers). */
export function handleSite(): Site | undefined {
  const site = siteOfHandle()
  return byRunner(site) ? undefined : site
}

/** One kind's view of one handle. A class per kind, not closures: a test may create timers by the thousand. */
export interface HandleSpec {
  readonly kind: HandleKind
  describe(): string
  /** Would be a leak if its scope ended now. */
  isOpen(): boolean
  /** Closed for good (fired, cleared, exited, closed, collected): the ledger forgets it. */
  isDone(): boolean
  /** Keeps the event loop alive right now (for the exit diagnosis). */
  keepsAlive(): boolean
  /** Resolves a scope's settle wait early; without it, a handle is judged by its state. */
  whenClosed?(done: () => void): void
  close(): void
  /** A fix more specific than the kind's. */
  fix?(): string | undefined
}

// The Resource's functions, shared by every handle: scopes call them as methods of the resource.
function describeHandle(this: HandleResource): string {
  return this.spec.describe()
}
function isOpenHandle(this: HandleResource): boolean {
  return this.spec.isOpen() && !this.byRunner()
}
function whenHandleClosed(this: HandleResource, done: () => void): void {
  this.spec.whenClosed!(done)
}
function closeHandle(this: HandleResource): void {
  this.spec.close()
}
function fixOfHandle(this: HandleResource): string | undefined {
  return this.spec.fix?.()
}

// What a library opened for itself (a pool's timer, a logger's file) is judged at the file end. Read
// when a scope asks, and not for a handle already closed, which no scope judges.
const CHECK_AT: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: HandleResource): CheckAt {
    if (this.checkAtMemo === undefined && this.spec.isDone()) return 'test'
    this.checkAtMemo ??= directCreator(this.site)?.kind === 'user' ? 'test' : 'file'
    return this.checkAtMemo
  },
  set(this: HandleResource, value: CheckAt) {
    this.checkAtMemo = value
  },
}

/** A handle as a scope sees it. */
export class HandleResource extends Resource {
  readonly spec: HandleSpec
  /** The scope that was current when it was created (a test, its file, or the run), for the exit diagnosis. */
  readonly createdIn: Scope
  checkAtMemo: CheckAt | undefined
  private runner: boolean | undefined

  constructor(spec: HandleSpec, site: Site, owner: Scope) {
    super({
      kind: spec.kind,
      checkAt: 'test',
      site,
      owner,
      describe: describeHandle,
      isOpen: isOpenHandle,
      whenClosed: spec.whenClosed ? whenHandleClosed : undefined,
      close: closeHandle,
      fix: spec.fix ? fixOfHandle : undefined,
    })
    this.spec = spec
    this.createdIn = owner
    Object.defineProperty(this, 'checkAt', CHECK_AT)
  }

  /** Made by the runner: never a leak, never named by the exit diagnosis. Read lazily, then remembered. */
  byRunner(): boolean {
    this.runner ??= byRunner(this.site)
    return this.runner
  }

  keepsAlive(): boolean {
    return this.spec.keepsAlive() && !this.byRunner()
  }
}

const SWEEP_EVERY = 1024

// Node's own setImmediate: the ledger's sweep of new records must not be a tracked handle.
const { setImmediate: realSetImmediate } = process.getBuiltinModule('node:timers')

/**
 * Handles that no close event reports cheaply (a timer fires, a FileHandle is collected) are judged by
 * their state. The ledger forgets those that are done: the new ones at the next turn of the event loop
 * (most immediates and short timers are done by then, and their records, stacks included, die young,
 * which the garbage collector pays little for), all of them at every scope end and every SWEEP_EVERY
 * new handles.
 */
export class HandleLedger {
  readonly records = new Set<HandleResource>()
  private readonly engine: Engine
  private added = 0
  private young: HandleResource[] = []

  constructor(engine: Engine) {
    this.engine = engine
  }

  add(spec: HandleSpec, site: Site, owner?: Scope): HandleResource {
    const record = new HandleResource(spec, site, owner ?? this.engine.current())
    this.records.add(record)
    if (this.young.push(record) === 1) realSetImmediate(() => this.sweepYoung()).unref()
    if (++this.added % SWEEP_EVERY === 0) this.sweep()
    return record
  }

  private sweepYoung(): void {
    const young = this.young
    this.young = []
    for (const record of young) {
      let done = true
      try {
        done = record.spec.isDone()
      } catch {}
      if (done) this.done(record)
    }
  }

  /** Forgets `record` now (a close event, an fd closed). */
  done(record: HandleResource): void {
    if (this.records.delete(record)) record.release()
  }

  sweep(): void {
    for (const record of this.records) {
      let done = true
      try {
        done = record.spec.isDone()
      } catch {}
      if (done) this.done(record)
    }
  }

  /** Open handles that keep the event loop alive, for the exit diagnosis. */
  alive(): HandleResource[] {
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
