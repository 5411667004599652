import type { CallContext, Engine } from '../engine.ts'
import { CALL_SITE_LIMIT, captureSite } from '../stack.ts'
import { registry } from './registry.ts'

// undici's Dispatcher API: the methods user code calls on a dispatcher. The module-level `request()`,
// `stream()`… call the same functions with the global dispatcher as `this`, past any wrapper on its
// prototype, but all of them end in `dispatch()`: that wrapper catches those, and a WebSocket
// handshake, whose user frame lies deeper (≈ 12 frames), hence its larger limit.
const DISPATCHER_API = ['request', 'stream', 'pipeline', 'upgrade', 'connect', 'dispatch'] as const
const DISPATCH_LIMIT = 24
const WRAPPED = Symbol.for('netsan.call-site.v1')

/**
 * Captures the call site where user code enters a library, so that channel events deep inside it
 * need no stack of their own: a stack captured inside undici walks a dozen internal frames and
 * costs several times more (bench/README.md). The wrappers only set an AsyncLocalStorage value.
 */
export function callSiteWrapper<F extends (...args: any[]) => any>(
  engine: Engine,
  original: F,
  limit = CALL_SITE_LIMIT,
  how: {
    /** Sees what the call returned, still in its context (the call site is its site). */
    onReturn?: (result: ReturnType<F>) => void
    /** `this` is an undici dispatcher: the pools it makes inside the call are its own (agents.ts). */
    dispatcher?: boolean
  } = {},
): F {
  if ((original as any)[WRAPPED]) return original
  const wrapped = function (this: unknown, ...args: unknown[]) {
    // Nested in another wrapped call (request() calling dispatch(), an Agent's dispatch() its Pool's)
    // or in a wrapped fetch: one site.
    const outer = engine.calls.getStore()
    if (outer?.active || outer?.owned) return original.apply(this, args)
    const call: CallContext = { site: captureSite(limit), active: true }
    if (how.dispatcher && typeof this === 'object' && this !== null) call.dispatcher = this
    const { onReturn } = how
    try {
      return engine.calls.run(call, () => {
        const result = original.apply(this, args)
        if (onReturn) {
          try {
            onReturn(result)
          } catch {}
        }
        return result
      })
    } finally {
      call.active = false
    }
  } as unknown as F
  Object.defineProperty(wrapped, WRAPPED, { value: original })
  Object.defineProperty(wrapped, 'name', { value: original.name })
  Object.defineProperty(wrapped, 'length', { value: original.length })
  return wrapped
}

/** What the `dispatch()` wrapper tells the undici tracker. */
export type MockedDispatch = (dispatcher: object, opts: any, handler: any, call: CallContext) => any

/**
 * `dispatch(opts, handler)` of every undici copy: captures the call site like the other wrappers, and
 * keeps the handler that user code's call passed (a layer further down, a global dispatcher of another
 * copy for one, may wrap it; the body is found on this one). A dispatch to a MockAgent gets an
 * observer of its handler: mocked requests publish no channels (docs/discoveries/mocks.md).
 */
function dispatchWrapper<F extends (...args: any[]) => any>(
  engine: Engine,
  original: F,
  mocked: MockedDispatch,
): F {
  if ((original as any)[WRAPPED]) return original
  const wrapped = function (this: object, opts: unknown, handler: unknown, ...rest: unknown[]) {
    const outer = engine.calls.getStore()
    // A wrapped fetch tracks its own request and Response.
    if (outer?.owned) return original.call(this, opts, handler, ...rest)
    if (outer?.active) {
      // request() calling dispatch(), an Agent's dispatch() its Pool's: the first handler is the user's.
      if (outer.handler === undefined && handler !== null && typeof handler === 'object') {
        outer.handler = handler
        if (registry.mocks.has(this)) handler = mocked(this, opts, handler, outer)
      }
      return original.call(this, opts, handler, ...rest)
    }
    const call: CallContext = { site: captureSite(DISPATCH_LIMIT), active: true, dispatcher: this }
    if (handler !== null && typeof handler === 'object') {
      call.handler = handler
      if (registry.mocks.has(this)) handler = mocked(this, opts, handler, call)
    }
    try {
      return engine.calls.run(call, () => original.call(this, opts, handler, ...rest))
    } finally {
      call.active = false
    }
  } as unknown as F
  Object.defineProperty(wrapped, WRAPPED, { value: original })
  Object.defineProperty(wrapped, 'name', { value: original.name })
  Object.defineProperty(wrapped, 'length', { value: original.length })
  return wrapped
}

/**
 * Wraps the Dispatcher API methods on the prototype that defines them, once per undici copy
 * (Node's bundled one, npm undici, a copy in Jest's sandbox). Returns the undo.
 */
export function instrumentDispatcher(
  engine: Engine,
  dispatcher: object,
  done: WeakSet<object>,
  mocked: MockedDispatch,
): (() => void) | undefined {
  const undo: (() => void)[] = []
  for (const name of DISPATCHER_API) {
    let proto: any = Object.getPrototypeOf(dispatcher)
    while (proto && !Object.hasOwn(proto, name)) proto = Object.getPrototypeOf(proto)
    if (!proto || typeof proto[name] !== 'function' || done.has(proto[name])) continue
    const original = proto[name]
    const wrapped =
      name === 'dispatch'
        ? dispatchWrapper(engine, original, mocked)
        : callSiteWrapper(engine, original, CALL_SITE_LIMIT, { dispatcher: true })
    done.add(wrapped)
    try {
      proto[name] = wrapped
      undo.push(() => {
        if (proto[name] === wrapped) proto[name] = original
      })
    } catch {}
  }
  if (undo.length === 0) return undefined
  return () => {
    for (const u of undo) u()
  }
}

/**
 * A MockPool or MockClient does not dispatch through its prototype: its constructor assigns the mock
 * dispatch to the instance itself, after `EventEmitter.init` (where netsan sees the instance). An
 * accessor takes that one assignment and stores the wrapped function as the plain property it would
 * have been; read before (the constructor keeps the prototype's as its passthrough), it gives what it
 * would have given. Returns the undo, or undefined when the instance has its own `dispatch` already.
 */
export function wrapAssignedDispatch(
  engine: Engine,
  instance: object,
  mocked: MockedDispatch,
): (() => void) | undefined {
  if (Object.hasOwn(instance, 'dispatch')) return undefined
  let original: unknown
  let wrapped: unknown
  Object.defineProperty(instance, 'dispatch', {
    configurable: true,
    get(this: object) {
      return (Object.getPrototypeOf(this) as { dispatch?: unknown }).dispatch
    },
    set(this: object, value: unknown) {
      original = value
      wrapped = typeof value === 'function' ? dispatchWrapper(engine, value as never, mocked) : value
      Object.defineProperty(this, 'dispatch', {
        value: wrapped,
        writable: true,
        enumerable: true,
        configurable: true,
      })
    },
  })
  const ref = new WeakRef(instance)
  return () => {
    const target = ref.deref() as { dispatch?: unknown } | undefined
    if (!target) return
    if (original === undefined) delete target.dispatch
    else if (target.dispatch === wrapped) target.dispatch = original
  }
}
