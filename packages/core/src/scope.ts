import { ErrorCodes, NetsanError } from './errors.ts'
import { mergeLeaks } from './format.ts'
import { FIXES } from './kinds.ts'
import { DEFAULT_SETTLE_MS } from './options.ts'
import { redactText } from './redact.ts'
import type { OpenedIn, Resource, ResourceOwner } from './resource.ts'
import { settle } from './settle.ts'
import { evaluatingModule, formatFrame, relative, type Site, userFrames } from './stack.ts'
import { Stats } from './stats.ts'
import type { IgnoreRule, Leak, LeakKind, ResolvedOptions, ScopeResult, Suppressed } from './types.ts'

/**
 * run ⊃ worker ⊃ file ⊃ describe ⊃ test. `worker`: what a runner's worker keeps for all the files it
 * runs (Vitest with `isolate: false`: modules imported once and shared by every later file).
 * `describe`: a describe block with its own `beforeAll`/`afterAll`; what those create is judged when
 * the block ends, before an outer `afterAll` tears down what would show the leak.
 */
export type ScopeType = 'run' | 'worker' | 'file' | 'describe' | 'test'

// Requests and bodies are judged once, at their owner's end; a connection can still leak later.
const ONE_SHOT = new Set<LeakKind>(['request', 'body'])
// Below this many resources a scope never sweeps (most tests make a few requests).
const SWEEP_FROM = 64

// A check inside the test (expectNoLeakedConnections) ends this long before the runner's timeout
// fires, so that the test fails with netsan's report rather than with a timeout.
const DEADLINE_MARGIN_MS = 50

/** What a scope needs from the engine that created it. */
export interface ScopeHost {
  readonly options: ResolvedOptions
  enter(scope: Scope): void
  leave(scope: Scope): void
  /** Lets trackers act at a scope's end (the `sharedPools: 'close'` policy). */
  scopeEnded(scope: Scope): void
  /** Runs `fn` with `scope` as the owner of everything it creates, across async hops. */
  runIn<T>(scope: Scope, fn: () => T): T
  enterWith(scope: Scope): void
  /** The one test running now, if exactly one is (the runner runs tests one at a time unless concurrent). */
  runningTest(): Scope | undefined
}

/** Judged at their own end, handing what outlives them (file-level resources) to their parent. */
const NESTED: ReadonlySet<ScopeType> = new Set(['describe', 'test'])

/**
 * A scope owns what is created while it is current; scopes nest run ⊃ worker ⊃ file ⊃ describe ⊃ test.
 * At its end it settles, judges what is still open, reports and cleans up.
 */
export class Scope implements ResourceOwner {
  readonly type: ScopeType
  readonly name: string
  readonly parent: Scope | undefined
  private readonly ownStats = new Stats()
  private readonly host: ScopeHost
  private readonly resources = new Set<Resource>()
  private readonly allowances: { kind: LeakKind; reason: string }[] = []
  /** The LeakErrors `expectNoLeakedConnections()` threw in this scope, and the resources each reported. */
  private readonly thrown: { error: object; resources: Resource[] }[] = []
  /**
   * Set by `finish()`: the leaks a thrown LeakError already showed, because the runner reported that error
   * as the test's failure. The adapter's report at the scope's end leaves them out (the JSON report keeps
   * every leak once).
   */
  shownByRunner: Leak[] = []
  private endedFlag = false
  /** `performance.now()` when it ended: how late its leftover work started. */
  private endedAt = 0
  /** Leaks of work that ended scopes left running, judged while this scope held them (`judgeLate`). */
  private readonly late: { leaks: Leak[]; suppressed: Suppressed[] } = { leaks: [], suppressed: [] }
  /**
   * When the runner's timeout for the code running in this scope fires (`performance.now()` ms), where
   * the runner tells it: the adapters set it as a test's function or a hook starts. Settling never runs
   * past it, so netsan turns no leak into a timeout and makes no run slower than its own timeouts.
   */
  deadline: number | undefined
  /** Set while the file's modules are imported under a worker scope (`importing()`). */
  private perFileModule: ((file: string) => boolean) | undefined

  constructor(host: ScopeHost, type: ScopeType, name: string, parent: Scope | undefined) {
    this.host = host
    this.type = type
    this.name = name
    this.parent = parent
    host.enter(this)
  }

  get ended(): boolean {
    return this.endedFlag
  }

  /**
   * A test or a describe block that is running: the connections of a pool it created are its own,
   * judged at its end (a pool created by the file outlives its tests and blocks: judged at the file's).
   */
  get ownsItsPools(): boolean {
    return NESTED.has(this.type) && !this.endedFlag
  }

  /** Connection figures; once the scope has ended, its leftover work counts in its live ancestor. */
  get stats(): Stats {
    return this.endedFlag ? this.live().ownStats : this.ownStats
  }

  /** A nested scope: a file inside the run, a describe block or a test inside a file or a block. */
  child(type: ScopeType, name: string): Scope {
    return new Scope(this.host, type, name, this)
  }

  /**
   * The innermost scope that has not ended: where a late resource belongs. Never a worker: only what
   * its shared modules make belongs there (`ownerFor`), not what a finished file leaves behind.
   */
  live(): Scope {
    let s: Scope = this
    while ((s.endedFlag || s.type === 'worker') && s.parent) s = s.parent
    return s
  }

  /**
   * While a file is being imported into a worker that keeps its modules for later files (Vitest's
   * `isolate: false`), what a module other than the per-file ones (`perFile`: the test file, setup
   * files) creates at its top level is the worker's: that module is evaluated once and its
   * singletons serve every later file. Called with no argument when the import is over.
   */
  importing(perFile?: (file: string) => boolean): void {
    this.perFileModule = perFile
  }

  /**
   * Who holds what is created at `site` in this scope's async context: itself; once it has ended, its
   * live ancestor (the resource remembers this scope as `openedIn`, with how late: `origin()`); while a
   * file is imported under a worker, the worker for what shared modules make.
   */
  ownerFor(site: Site): Scope {
    if (this.endedFlag) return this.live()
    const perFile = this.perFileModule
    if (!perFile || this.parent?.type !== 'worker') return this
    const module = evaluatingModule(site)
    return module === undefined || perFile(module) ? this : this.parent
  }

  /** How a resource handed to another scope remembers this one; after its end, with how late. */
  origin(): OpenedIn {
    if (!this.endedFlag) return { name: this.name, type: this.type }
    const running = this.host.runningTest()
    const during = running && running !== this ? running.name : undefined
    const ms = Math.max(0, Math.round(performance.now() - this.endedAt))
    return { name: this.name, type: this.type, late: { ms, ...(during !== undefined && { during }) } }
  }

  /** A nested scope that owns what the current async flow creates from now on. */
  track(name = 'scope'): Scope {
    const scope = this.child(this.type === 'run' ? 'file' : 'test', name)
    this.host.enterWith(scope)
    return scope
  }

  run<T>(fn: () => T): T {
    return this.host.runIn(this, fn)
  }

  add(resource: Resource): void {
    this.resources.add(resource)
    if (this.resources.size >= this.sweepAt) this.sweepFinished()
  }

  /** The size at which `add` next lets go of finished requests and bodies. */
  private sweepAt = SWEEP_FROM

  /**
   * A finished request or read body stays finished, and is let go at the scope's end anyway; a scope
   * that makes many (a test looping over an API) would hold each one's stack and response until then,
   * which the GC pays for on every request. Swept when the count has doubled: O(1) per `add`.
   */
  private sweepFinished(): void {
    for (const r of this.resources) if (ONE_SHOT.has(r.kind) && !r.reported && !r.isOpen()) r.release()
    this.sweepAt = Math.max(SWEEP_FROM, 2 * this.resources.size)
  }

  remove(resource: Resource): void {
    this.resources.delete(resource)
  }

  /** Resources this scope holds right now (for tests and `expectNoLeakedConnections`). */
  size(): number {
    return this.resources.size
  }

  allow(kind: LeakKind, reason: string): void {
    if (typeof reason !== 'string' || reason.trim() === '') {
      throw new NetsanError(
        ErrorCodes.MISSING_REASON,
        `netsan: allowLeaks('${kind}') needs a reason; received ${JSON.stringify(reason)}`,
      )
    }
    this.allowances.push({ kind, reason })
  }

  /** What this scope would be blamed for right now; `all` includes file-level resources. */
  private candidates(all: boolean, kinds?: ReadonlySet<LeakKind>): Resource[] {
    const enabled = kinds ?? this.host.options.kinds
    const out: Resource[] = []
    for (const r of this.resources) {
      if (r.reported || !enabled.has(r.kind)) continue
      if (!all && r.checkAt !== 'test') continue
      out.push(r)
    }
    return out
  }

  /**
   * Settles and lists current leaks without ending the scope (`expectNoLeakedConnections`); `leaked`: the
   * resources behind `leaks`, for `thrownFor()`.
   */
  async check(
    kinds?: ReadonlySet<LeakKind>,
    settleMs = this.host.options.settleMs,
  ): Promise<{ leaks: Leak[]; suppressed: Suppressed[]; leaked: Resource[] }> {
    const left = this.timeLeft() - DEADLINE_MARGIN_MS
    const open = await settle(this.candidates(this.type !== 'test', kinds), clamp(settleMs, left))
    return this.judge(open)
  }

  /** `expectNoLeakedConnections()` threw `error` for the `leaked` resources of a `check()`. */
  thrownFor(error: object, leaked: Resource[]): void {
    this.thrown.push({ error, resources: leaked })
  }

  /** `const leaks = await scope.end()` */
  async end(): Promise<Leak[]> {
    return (await this.finish()).leaks
  }

  /**
   * Ends the scope: settle, judge, clean up what leaked, hand file-level resources to the parent. A
   * test's end also judges what work that ended scopes left running has made since (`lateCandidates`):
   * before an `afterAll` tears down what would show the leak, and without blaming this test.
   * `reportedByRunner` tells whether the runner reported a LeakError this scope threw as the test's
   * failure: its leaks then go to `shownByRunner`.
   */
  async finish(options: { reportedByRunner?: (error: object) => boolean } = {}): Promise<ScopeResult> {
    if (this.endedFlag) {
      throw new NetsanError(ErrorCodes.SCOPE_ENDED, `netsan: scope "${this.name}" has already ended`)
    }
    this.endedFlag = true
    this.endedAt = performance.now()
    this.perFileModule = undefined
    this.host.leave(this)
    const judgedHere = !NESTED.has(this.type) || !this.parent
    if (!judgedHere) {
      for (const r of [...this.resources]) {
        if (r.checkAt === 'file' || (r.checkAt === 'block' && this.type === 'test')) {
          r.openedIn ??= { name: this.name, type: this.type }
          r.moveTo(this.parent!)
        }
      }
    }
    const own = this.candidates(true)
    const late = this.type === 'test' ? this.lateCandidates() : []
    // No runner timer runs on this wait, but a slow test must not wait past its timeout either; it keeps
    // the few ms that closing takes on loopback (docs/discoveries/settle.md), so no false leak appears.
    const { settleMs } = this.host.options
    const floor = Math.min(settleMs, DEFAULT_SETTLE_MS)
    const budget = clamp(settleMs, Math.max(this.timeLeft(), floor))
    const stillOpen = new Set(await settle([...own, ...late.map((l) => l.resource)], budget))
    const open = own.filter((r) => stillOpen.has(r))
    const { leaks, suppressed } = this.judge(open)
    const shown = new Set<Resource>()
    for (const t of this.thrown) {
      if (options.reportedByRunner?.(t.error)) for (const r of t.resources) shown.add(r)
    }
    this.shownByRunner = shown.size > 0 ? this.judge(open.filter((r) => shown.has(r))).leaks : []
    this.thrown.length = 0
    const leakedSet = new Set<Resource>()
    for (const r of open) {
      if (!this.isSuppressedResource(r, suppressed)) leakedSet.add(r)
      r.reported = true
    }
    for (const { holder, resource } of late) {
      if (stillOpen.has(resource) && holder.judgeLate(resource)) leakedSet.add(resource)
    }
    // Cleanup changes what later code sees: `warn` promises to change no outcome, so it only reports.
    // A worker's resources are left to the worker's exit (nothing of the runner runs after them).
    if (this.host.options.cleanup && this.host.options.mode !== 'warn' && this.type !== 'worker') {
      for (const r of leakedSet) {
        try {
          r.close?.()
        } catch {}
      }
    }
    // What is neither leaked nor closed yet may still close or leak later: the parent judges it. A
    // worker judges only what its shared modules made: a file's remains go past it, as before.
    const heir = this.type === 'file' && this.parent?.type === 'worker' ? this.parent.parent : this.parent
    for (const r of [...this.resources]) {
      if (leakedSet.has(r) || (ONE_SHOT.has(r.kind) && !r.isOpen())) r.release()
      else if (heir) {
        r.openedIn ??= { name: this.name, type: this.type }
        r.moveTo(heir.live())
      }
    }
    for (const { resource } of late) if (leakedSet.has(resource)) resource.release()
    this.host.scopeEnded(this)
    return {
      owner: this.name,
      leaks: mergeLeaks([...this.late.leaks, ...leaks]),
      suppressed: [...this.late.suppressed, ...suppressed],
      stats: this.ownStats.snapshot(),
    }
  }

  /**
   * What work left running by scopes that have ended made (a retry loop between its attempts, an
   * un-awaited chain; `openedIn.late`) and the enclosing blocks and file now hold: judged at the next
   * test's end, the first moment after it was made, so that an outer `afterAll` closing a shared server
   * does not hide it first. Only what a test would have been checked for at its own end.
   */
  private lateCandidates(): { holder: Scope; resource: Resource }[] {
    const out: { holder: Scope; resource: Resource }[] = []
    const enabled = this.host.options.kinds
    for (let s = this.parent; s && (s.type === 'describe' || s.type === 'file'); s = s.parent) {
      if (s.endedFlag) continue
      for (const r of s.resources) {
        if (r.openedIn?.late && r.checkAt === 'test' && !r.reported && enabled.has(r.kind))
          out.push({ holder: s, resource: r })
      }
    }
    return out
  }

  /**
   * Judges a late resource this scope holds and that is still open: its leak (named after the scope that
   * left the work running) is reported when this scope ends. True when it leaked (not allowed, not ignored).
   */
  private judgeLate(r: Resource): boolean {
    const { leaks, suppressed } = this.judge([r])
    r.reported = true
    this.late.leaks.push(...leaks)
    this.late.suppressed.push(...suppressed)
    return leaks.length > 0
  }

  /** A runner's timeout of `ms` starts now (a test's function, a hook); 0, Infinity or undefined: none. */
  deadlineIn(ms: number | undefined): void {
    this.deadline = ms !== undefined && ms > 0 && Number.isFinite(ms) ? performance.now() + ms : undefined
  }

  /** Milliseconds until `deadline`; Infinity without one. */
  private timeLeft(): number {
    return this.deadline === undefined ? Number.POSITIVE_INFINITY : this.deadline - performance.now()
  }

  private isSuppressedResource(r: Resource, suppressed: Suppressed[]): boolean {
    return suppressed.some((s) => (s as Suppressed & { resource?: Resource }).resource === r)
  }

  private judge(open: Resource[]): { leaks: Leak[]; suppressed: Suppressed[]; leaked: Resource[] } {
    const { options } = this.host
    const leaks: Leak[] = []
    const suppressed: Suppressed[] = []
    const leaked: Resource[] = []
    for (const r of open) {
      const leak = toLeak(r, options.root, this.name, this.type)
      const allowance = this.allowances.find((a) => a.kind === r.kind)
      const rule = allowance ? undefined : options.ignore.find((rule) => matchesRule(rule, leak))
      if (allowance)
        suppressed.push(withResource({ leak, by: 'allowLeaks', reason: redactText(allowance.reason) }, r))
      else if (rule) suppressed.push(withResource({ leak, by: 'ignore', reason: describeRule(rule) }, r))
      else {
        leaks.push(leak)
        leaked.push(r)
      }
    }
    return { leaks: mergeLeaks(leaks), suppressed, leaked }
  }
}

function clamp(ms: number, max: number): number {
  return Math.max(0, Math.min(ms, max))
}

function withResource(s: Suppressed, resource: Resource): Suppressed {
  // Not enumerable: reports serialize suppressions, and a resource must not end up in JSON.
  Object.defineProperty(s, 'resource', { value: resource, enumerable: false })
  return s
}

const STACK_SHOWN = 6

export function toLeak(r: Resource, root: string, scopeName: string, scopeType?: ScopeType): Leak {
  // Labelled sites (an idle connection: its pool's creation, its first request) that hold user code;
  // the first leads, the others follow with their titles, a repeat of the same line dropped.
  const labelled = (r.sites?.() ?? [])
    .map(({ title, site }) => ({ title, frames: userFrames(site) }))
    .filter((l) => l.frames.length > 0)
  const lead = labelled[0]
  const frames = lead ? lead.frames : userFrames(r.site)
  const stack = frames.slice(0, STACK_SHOWN).map((f) => formatFrame(f, root))
  const related = labelled
    .slice(1)
    .map((l) => ({ title: l.title, stack: l.frames.slice(0, STACK_SHOWN).map((f) => formatFrame(f, root)) }))
    .filter((l) => l.stack[0] !== stack[0])
  const first = frames[0]
  const origin = r.origin
  // Trackers redact their URLs; this is the one door every leak passes on its way to any output.
  return {
    kind: r.kind,
    description: redactText(r.describe()),
    ...(origin !== undefined && { origin: redactText(origin) }),
    stack,
    ...(first && {
      frame: {
        ...(first.fn !== undefined && { fn: first.fn }),
        file: relative(root, first.file),
        line: first.line,
        column: first.column,
      },
    }),
    ...(lead && related.length > 0 && { stackTitle: lead.title, related }),
    fix: (typeof r.fix === 'function' ? r.fix() : r.fix) ?? FIXES[r.kind],
    owner: r.openedIn?.name ?? scopeName,
    ...((r.openedIn ? r.openedIn.type : scopeType) === 'describe' && { ownerType: 'describe' as const }),
    ...(r.openedIn?.late && { late: r.openedIn.late }),
    count: 1,
  }
}

function test(m: string | RegExp, value: string): boolean {
  if (typeof m === 'string') return value.includes(m)
  // Resolved rules hold netsan's own copy of the user's RegExp (options.ts): `g`/`y` state is reset here.
  m.lastIndex = 0
  return m.test(value)
}

export function matchesRule(rule: IgnoreRule, leak: Leak): boolean {
  if (rule.kind !== undefined && rule.kind !== leak.kind) return false
  if (rule.origin !== undefined && !test(rule.origin, `${leak.origin ?? ''} ${leak.description}`))
    return false
  if (rule.stack !== undefined && !leak.stack.some((f) => test(rule.stack!, f))) return false
  return true
}

function describeRule(rule: IgnoreRule): string {
  const parts = Object.entries(rule).map(
    ([k, v]) => `${k}: ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`,
  )
  return redactText(`ignore rule { ${parts.join(', ')} }`)
}
