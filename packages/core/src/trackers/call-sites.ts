import type { CallContext, Engine } from '../engine.ts'
import { CALL_SITE_LIMIT, captureSite } from '../stack.ts'

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
  onDispatcher = false,
): F {
  if ((original as any)[WRAPPED]) return original
  const wrapped = function (this: unknown, ...args: unknown[]) {
    // Nested in another wrapped call (request() calling dispatch(), an Agent's dispatch() its Pool's)
    // or in a wrapped fetch: one site.
    const outer = engine.calls.getStore()
    if (outer?.active || outer?.owned) return original.apply(this, args)
    const call: CallContext = { site: captureSite(limit), active: true }
    if (onDispatcher && typeof this === 'object' && this !== null) call.dispatcher = this
    try {
      return engine.calls.run(call, () => original.apply(this, args))
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
): (() => void) | undefined {
  const undo: (() => void)[] = []
  for (const name of DISPATCHER_API) {
    let proto: any = Object.getPrototypeOf(dispatcher)
    while (proto && !Object.hasOwn(proto, name)) proto = Object.getPrototypeOf(proto)
    if (!proto || typeof proto[name] !== 'function' || done.has(proto[name])) continue
    const original = proto[name]
    const limit = name === 'dispatch' ? DISPATCH_LIMIT : CALL_SITE_LIMIT
    const wrapped = callSiteWrapper(engine, original, limit, true)
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
