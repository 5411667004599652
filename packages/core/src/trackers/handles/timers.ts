import type { Engine } from '../../engine.ts'
import type { HandleLedger, HandleRecord } from './ledger.ts'
import { handleSite } from './ledger.ts'
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
  _onTimeout?: Function
  _onImmediate?: Function
  hasRef?: () => boolean
}

/**
 * One tracked timer, or a chain of them: a timeout or immediate that arms the next one from its own
 * callback (a polling loop, a retry) is one resource that follows the chain, created where user code
 * started it. Holds the current timer weakly: a timer that fired and was dropped is collected.
 */
interface TimerState {
  type: TimerType
  current: WeakRef<NodeTimer>
  /** performance.now() − the timer's _idleStart: Node's loop clock, in netsan's. */
  clockOffset: number
  fn: string
  rearms: number
  record: HandleRecord | undefined
}

const states = new WeakMap<object, TimerState>()

function pending(timer: NodeTimer | undefined): timer is NodeTimer {
  return timer !== undefined && timer._destroyed !== true
}

function refed(timer: NodeTimer): boolean {
  return typeof timer.hasRef === 'function' ? timer.hasRef() : true
}

/** Milliseconds until a timeout fires (0 for an immediate). */
function dueIn(state: TimerState, timer: NodeTimer): number {
  if (state.type === 'setImmediate') return 0
  const start = timer._idleStart
  const after = timer._idleTimeout
  if (typeof start !== 'number' || typeof after !== 'number' || after < 0) return 0
  return Math.max(0, start + after + state.clockOffset - performance.now())
}

function describe(state: TimerState): string {
  const timer = state.current.deref()
  const call = `${state.type}(${state.fn}${state.type === 'setImmediate' ? '' : `, ${delayOf(state, timer)} ms`})`
  const chain =
    state.rearms > 0
      ? `, re-armed ${state.rearms} time${state.rearms === 1 ? '' : 's'} from its own callback`
      : ''
  if (state.type === 'setInterval') return `${call}${chain}, never cleared`
  if (!timer) return `${call}${chain}`
  const due = state.type === 'setTimeout' ? ` (due in ${formatMs(dueIn(state, timer))})` : ''
  return `${call}${chain}, still pending${due}`
}

function delayOf(state: TimerState, timer: NodeTimer | undefined): number | string {
  const ms = state.type === 'setInterval' ? timer?._repeat : timer?._idleTimeout
  return typeof ms === 'number' && ms >= 0 ? ms : '?'
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
    const parent = states.get(running)
    if (parent && parent.type !== 'setInterval' && parent.current.deref() === running && parent.record) {
      if (ledger.records.has(parent.record)) {
        parent.type = type
        parent.current = new WeakRef(timer)
        parent.clockOffset = now - (timer._idleStart ?? now)
        parent.rearms++
        states.set(timer, parent)
        return
      }
    }
    const site = handleSite()
    if (!site) return
    const state: TimerState = {
      type,
      current: new WeakRef(timer),
      clockOffset: now - (timer._idleStart ?? now),
      fn: (typeof callback === 'function' && callback.name) || 'fn',
      rearms: 0,
      record: undefined,
    }
    states.set(timer, state)
    const current = () => state.current.deref()
    state.record = ledger.add({
      kind: 'timer',
      site,
      describe: () => describe(state),
      isOpen: () => {
        const t = current()
        return pending(t) && refed(t)
      },
      isDone: () => !pending(current()),
      keepsAlive: () => {
        const t = current()
        return pending(t) && refed(t)
      },
      whenClosed: (done) => {
        // Waits for a timeout due within the settle window to fire (a chain: for its last link).
        const horizon = performance.now() + engine.options.settleMs + 20
        const check = () => {
          const t = current()
          if (!pending(t)) return done()
          if (state.type === 'setInterval' || performance.now() > horizon) return
          if (state.type === 'setImmediate') realSetImmediate(check)
          else realSetTimeout(check, Math.max(1, dueIn(state, t) + 1)).unref()
        }
        check()
      },
      close: () => {
        const t = current()
        if (!pending(t)) return
        if (state.type === 'setImmediate') timers.clearImmediate(t as never)
        else timers.clearTimeout(t as never)
      },
      fix: () => (state.rearms > 0 ? CHAIN_FIX : FIX[state.type]),
    })
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
  const TYPES: TimerType[] = ['setTimeout', 'setInterval', 'setImmediate']

  for (const type of TYPES) patches.patch(timers, type, wraps[type])
  // Every realm netsan watches: the worker's global, Jest's sandbox, Vitest's vm context.
  const undoGlobals = engine.onGlobal((g) => {
    const undo = TYPES.map((type) => patches.patch(g, type, wraps[type]))
    return () => {
      for (const u of undo) u()
    }
  })
  return () => {
    undoGlobals()
    patches.dispose()
  }
}
