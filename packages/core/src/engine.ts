import { AsyncLocalStorage } from 'node:async_hooks'
import type { Presentation } from './format.ts'
import { DEFAULT_OPTIONS } from './options.ts'
import { Scope, type ScopeHost } from './scope.ts'
import { captureSite, type Site } from './stack.ts'
import { installTrackers } from './trackers/index.ts'
import type { ResolvedOptions } from './types.ts'

/** Carried through a wrapped call (fetch, a Dispatcher API method, http.request) so channel events fired later know their call site. */
export interface CallContext {
  site: Site
  /** Set by a wrapper that reports the call's request itself (fetch); told its undici request. */
  onUndiciRequest?: (request: object) => void
  /** The wrapper reports what the call creates (fetch): channel trackers stay out. */
  owned?: boolean
  /** The undici dispatcher whose API method user code called: the pools it creates inside are its own. */
  dispatcher?: object
  /**
   * True while the wrapped call runs synchronously. Its async continuations keep the context, but
   * what they create later is not this call's doing: they capture a stack of their own.
   */
  active?: boolean
  /**
   * The handler user code's call gave undici's `dispatch()` (a `request()`'s RequestHandler, a
   * `fetch()`'s handler): the one that holds the response body, before any layer wraps it.
   */
  handler?: object
  /** A mocked request tracked from its handler; dropped if the mock passes it through to the network. */
  mocked?: { passedThrough(): void }
}

/** The call site for something being created now: the wrapped call's, or a fresh capture. */
export function siteNow(engine: Engine): Site {
  const call = engine.calls.getStore()
  return call?.active ? call.site : captureSite()
}

/**
 * The process-wide tracker set. One per process even with two copies of netsan loaded:
 * it lives under a versioned global symbol, and installation is reference-counted.
 */
export class Engine implements ScopeHost {
  options: ResolvedOptions
  /** Set by the adapter's session: how reports look in this runner, for every copy of netsan that reports. */
  presentation: Presentation = {}
  readonly owners = new AsyncLocalStorage<Scope>()
  readonly calls = new AsyncLocalStorage<CallContext>()
  readonly runScope: Scope
  /** Extra realms whose globals (fetch, WebSocket, dispatchers) are watched: Jest's sandbox. */
  readonly globals = new Set<typeof globalThis>([globalThis])
  private readonly active: Scope[] = []
  private readonly endHooks = new Set<(scope: Scope) => void>()
  private readonly globalHooks = new Set<(g: typeof globalThis) => () => void>()
  private readonly globalUndo = new Map<typeof globalThis, (() => void)[]>()
  private undo: (() => void) | undefined
  private users = 0

  constructor(options: ResolvedOptions) {
    this.options = options
    this.runScope = new Scope(this, 'run', 'run', undefined)
  }

  /**
   * The scope in whose async context something is being created now. It may have ended: work a test
   * left running (a retry loop, an un-awaited chain) is still that test's, and a resource made there
   * goes to the test's live ancestor, remembering the test (`Scope.ownerFor`, `Scope.origin`).
   * @note docs/discoveries/scopes.md: event callbacks of a connection run in its creator's context too.
   */
  current(): Scope {
    return this.owners.getStore() ?? this.active.at(-1) ?? this.runScope
  }

  runningTest(): Scope | undefined {
    let found: Scope | undefined
    for (const s of this.active) {
      if (s.type !== 'test' || s.ended) continue
      if (found) return undefined
      found = s
    }
    return found
  }

  enter(scope: Scope): void {
    // A worker owns only what its shared modules make (Scope.ownerFor), never what is made between files.
    if (scope.type !== 'run' && scope.type !== 'worker') this.active.push(scope)
  }

  leave(scope: Scope): void {
    const i = this.active.lastIndexOf(scope)
    if (i !== -1) this.active.splice(i, 1)
    if (this.owners.getStore() === scope && scope.parent) this.owners.enterWith(scope.parent.live())
  }

  runIn<T>(scope: Scope, fn: () => T): T {
    return this.owners.run(scope, fn)
  }

  enterWith(scope: Scope): void {
    this.owners.enterWith(scope)
  }

  scopeEnded(scope: Scope): void {
    for (const hook of this.endHooks) hook(scope)
  }

  onScopeEnd(hook: (scope: Scope) => void): () => void {
    this.endHooks.add(hook)
    return () => this.endHooks.delete(hook)
  }

  /** Trackers that patch per-realm globals register here; they run for every watched realm. */
  onGlobal(hook: (g: typeof globalThis) => () => void): () => void {
    this.globalHooks.add(hook)
    for (const g of this.globals) this.applyGlobalHook(g, hook)
    return () => this.globalHooks.delete(hook)
  }

  private applyGlobalHook(g: typeof globalThis, hook: (g: typeof globalThis) => () => void): void {
    const list = this.globalUndo.get(g) ?? []
    list.push(hook(g))
    this.globalUndo.set(g, list)
  }

  /** Watches another realm's globals (Jest's vm context); returns the undo. */
  watchGlobal(g: typeof globalThis): () => void {
    if (this.globals.has(g)) return () => {}
    this.globals.add(g)
    for (const hook of this.globalHooks) this.applyGlobalHook(g, hook)
    return () => {
      this.globals.delete(g)
      for (const u of (this.globalUndo.get(g) ?? []).reverse()) u()
      this.globalUndo.delete(g)
    }
  }

  acquire(): void {
    if (this.users++ === 0) this.undo = installTrackers(this)
  }

  release(): void {
    if (this.users === 0) return
    if (--this.users === 0) {
      this.undo?.()
      this.undo = undefined
      for (const [g, list] of this.globalUndo) {
        for (const u of list.reverse()) u()
        if (g !== globalThis) this.globals.delete(g)
      }
      this.globalUndo.clear()
    }
  }

  get installed(): boolean {
    return this.users > 0
  }
}

const KEY = Symbol.for('netsan.engine.v1')

/**
 * Where every copy of netsan (Jest's sandbox has its own) learns that a session runs with mode 'off': a
 * count of such sessions, so that the helpers a test calls do nothing then, as the rest of netsan does.
 */
export const OFF_KEY = Symbol.for('netsan.off.v1')

/** Counts a session with mode 'off' in (+1) or out (-1) of `realm`. */
export function markOff(realm: object, delta: 1 | -1): void {
  const g = realm as Record<symbol, number | undefined>
  const n = (g[OFF_KEY] ?? 0) + delta
  if (n > 0) g[OFF_KEY] = n
  else delete g[OFF_KEY]
}

/** Whether a session with mode 'off' runs in this realm. */
export function isOff(): boolean {
  return ((globalThis as Record<symbol, unknown>)[OFF_KEY] ?? 0) !== 0
}

/** The one engine of this process, shared by every copy of netsan. */
export function getEngine(): Engine {
  const g = globalThis as unknown as Record<symbol, Engine | undefined>
  let engine = g[KEY]
  if (!engine) {
    engine = new Engine({ ...DEFAULT_OPTIONS, root: process.cwd() })
    Object.defineProperty(g, KEY, { value: engine, configurable: true })
  }
  return engine
}
