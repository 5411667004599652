import type { Engine } from '../../engine.ts'
import type { HandleKind } from '../../types.ts'
import type { HandleLedger, HandleResource, HandleSpec } from './ledger.ts'
import { siteOfHandle } from './ledger.ts'
import { Patches, type Wrap } from './patch.ts'

// Node's own functions, for netsan's checks: a test's fake timers never reach them, and netsan's
// timers are never tracked.
const timers = process.getBuiltinModule('node:timers')
const { setTimeout: realSetTimeout, setImmediate: realSetImmediate } = timers
const { executionAsyncResource } = process.getBuiltinModule('node:async_hooks')

type TimerType = 'setTimeout' | 'setInterval' | 'setImmediate'

/** The fields of Node's Timeout and Immediate that say whether one is still pending. @note docs/discoveries/handles.md */
interface NodeTimer {
  _destroyed?: boolean
  _idleStart?: number
  _idleTimeout?: number
  _repeat?: number | null
  hasRef?: () => boolean
}

function pending(timer: NodeTimer | undefined): timer is NodeTimer {
  return timer !== undefined && timer._destroyed !== true
}

function refed(timer: NodeTimer): boolean {
  return typeof timer.hasRef === 'function' ? timer.hasRef() : true
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`
}

const FIX: Record<TimerType, string> = {
  setInterval:
    'clearInterval() it when done (in afterEach or a finally block), or .unref() a background timer that must not hold the process',
  setTimeout: 'clearTimeout() it when done, or await what it schedules before the test ends',
  setImmediate: 'clearImmediate() it, or await what it schedules before the test ends',
}
const CHAIN_FIX =
  'stop the loop: keep the handle of each re-armed timer and clear it when done (afterEach), or check a stop flag in the callback'

/**
 * One tracked timer, or a chain of them: a timeout or immediate that arms the next one from its own
 * callback (a polling loop, a retry) is one resource that follows the chain, created where user code
 * started it. Holds the current timer weakly: a timer that fired and was dropped is collected.
 */
class TimerSpec implements HandleSpec {
  readonly kind: HandleKind = 'timer'
  type: TimerType
  current: WeakRef<NodeTimer>
  /** performance.now() − the timer's _idleStart: Node's loop clock, in netsan's. */
  clockOffset: number
  rearms = 0
  record: HandleResource | undefined
  private readonly fn: string
  private readonly engine: Engine

  constructor(engine: Engine, type: TimerType, timer: NodeTimer, fn: string, now: number) {
    this.engine = engine
    this.type = type
    this.current = new WeakRef(timer)
    this.clockOffset = now - (timer._idleStart ?? now)
    this.fn = fn
  }

  /** The callback of the current timer armed `timer`: the chain goes on with it. */
  follow(type: TimerType, timer: NodeTimer, now: number): void {
    this.type = type
    this.current = new WeakRef(timer)
    this.clockOffset = now - (timer._idleStart ?? now)
    this.rearms++
  }

  /** Milliseconds until a timeout fires (0 for an immediate). */
  private dueIn(timer: NodeTimer): number {
    if (this.type === 'setImmediate') return 0
    const start = timer._idleStart
    const after = timer._idleTimeout
    if (typeof start !== 'number' || typeof after !== 'number' || after < 0) return 0
    return Math.max(0, start + after + this.clockOffset - performance.now())
  }

  describe(): string {
    const timer = this.current.deref()
    const ms = this.type === 'setInterval' ? timer?._repeat : timer?._idleTimeout
    const delay = typeof ms === 'number' && ms >= 0 ? ms : '?'
    const call = `${this.type}(${this.fn}${this.type === 'setImmediate' ? '' : `, ${delay} ms`})`
    const n = this.rearms
    const chain = n > 0 ? `, re-armed ${n} time${n === 1 ? '' : 's'} from its own callback` : ''
    if (this.type === 'setInterval') return `${call}${chain}, never cleared`
    if (!timer) return `${call}${chain}`
    const due = this.type === 'setTimeout' ? ` (due in ${formatMs(this.dueIn(timer))})` : ''
    return `${call}${chain}, still pending${due}`
  }

  isOpen(): boolean {
    const t = this.current.deref()
    return pending(t) && refed(t)
  }

  isDone(): boolean {
    return !pending(this.current.deref())
  }

  keepsAlive(): boolean {
    return this.isOpen()
  }

  /** Waits for a timeout due within the settle window to fire (a chain: for its last link). */
  whenClosed(done: () => void): void {
    const horizon = performance.now() + this.engine.options.settleMs + 20
    const check = () => {
      const t = this.current.deref()
      if (!pending(t)) return done()
      if (this.type === 'setInterval' || performance.now() > horizon) return
      if (this.type === 'setImmediate') realSetImmediate(check)
      else realSetTimeout(check, Math.max(1, this.dueIn(t) + 1)).unref()
    }
    check()
  }

  close(): void {
    const t = this.current.deref()
    if (!pending(t)) return
    if (this.type === 'setImmediate') timers.clearImmediate(t as never)
    else timers.clearTimeout(t as never)
  }

  fix(): string {
    return this.rearms > 0 ? CHAIN_FIX : FIX[this.type]
  }
}

const specs = new WeakMap<object, TimerSpec>()

/**
 * `timer`: intervals never cleared; timeouts and immediates still pending when their scope ends, after
 * the settle wait (which waits for those due within settleMs). An unref'd timer is not a leak until
 * it is ref()'d again. Timers come from the realm's global functions and node:timers, wrapped; a fake
 * timer (vi/jest.useFakeTimers) never reaches them.
 */
export function installTimerTracker(engine: Engine, ledger: HandleLedger): () => void {
  const onTimer = (type: TimerType, timer: NodeTimer, callback: unknown) => {
    if (typeof timer !== 'object' || timer === null) return
    const now = performance.now()
    // Armed from the callback of a tracked timeout or immediate: the same chain.
    const running = executionAsyncResource() as NodeTimer
    const parent = specs.get(running)
    if (
      parent?.record &&
      parent.type !== 'setInterval' &&
      parent.current.deref() === running &&
      ledger.records.has(parent.record) &&
      !parent.record.byRunner()
    ) {
      parent.follow(type, timer, now)
      specs.set(timer, parent)
      return
    }
    const fn = (typeof callback === 'function' && callback.name) || 'fn'
    const spec = new TimerSpec(engine, type, timer, fn, now)
    specs.set(timer, spec)
    spec.record = ledger.add(spec, siteOfHandle())
  }

  const patches = new Patches()
  const wraps = {} as Record<TimerType, Wrap>
  for (const type of ['setTimeout', 'setInterval', 'setImmediate'] as const) {
    wraps[type] = patches.wrapper(
      (original) =>
        function (this: unknown, ...args: unknown[]) {
          const timer = Reflect.apply(original, this, args)
          try {
            onTimer(type, timer, args[0])
          } catch {}
          return timer
        },
    )
  }
  // A cleared timer is forgotten at once, before its record can outlive a young-generation collection:
  // a test that creates timers by the thousand then costs the garbage collector little more than without netsan.
  const clear = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const result = Reflect.apply(original, this, args)
        const timer = args[0]
        if (typeof timer === 'object' && timer !== null) {
          const spec = specs.get(timer)
          if (spec?.record && spec.current.deref() === timer && !pending(timer as NodeTimer))
            ledger.done(spec.record)
        }
        return result
      },
  )
  const TYPES: TimerType[] = ['setTimeout', 'setInterval', 'setImmediate']
  const CLEARS = ['clearTimeout', 'clearInterval', 'clearImmediate']

  for (const type of TYPES) patches.patch(timers, type, wraps[type])
  for (const name of CLEARS) patches.patch(timers, name, clear)
  // Every realm netsan watches: the worker's global, Jest's sandbox, Vitest's vm context.
  const undoGlobals = engine.onGlobal((g) => {
    const undo = [
      ...TYPES.map((type) => patches.patch(g, type, wraps[type])),
      ...CLEARS.map((name) => patches.patch(g, name, clear)),
    ]
    return () => {
      for (const u of undo) u()
    }
  })
  return () => {
    undoGlobals()
    patches.dispose()
  }
}
