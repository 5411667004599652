/** What a mocked request tells the undici tracker, in the order undici's own channels would. */
export interface MockedEvents {
  /** netsan ended the request itself: later callbacks of the mock's reply no longer reach the handler. */
  muted(): boolean
  /** The mock handed the request its abort (`onConnect`) or controller (`onRequestStart`). */
  connected(abort: (reason: Error) => void): void
  headers(status: number, headers: unknown): void
  /** The response ended, or the request failed. */
  done(): void
}

// The callbacks a MockAgent calls (undici 6 and 7: the old handler API; 8: the new one), and what each tells.
const OBSERVED = new Map<string | symbol, (events: MockedEvents, args: any[]) => void>([
  ['onConnect', (e, [abort]) => typeof abort === 'function' && e.connected(abort)],
  [
    'onRequestStart',
    (e, [controller]) =>
      typeof controller?.abort === 'function' && e.connected((reason) => controller.abort(reason)),
  ],
  ['onHeaders', (e, [status, headers]) => e.headers(status, headers)],
  ['onResponseStart', (e, [, status, headers]) => e.headers(status, headers)],
  ['onComplete', (e) => e.done()],
  ['onResponseEnd', (e) => e.done()],
  ['onError', (e) => e.done()],
  ['onResponseError', (e) => e.done()],
])

/**
 * The handler a mocked dispatch gets instead of `handler`: the same handler seen through a Proxy that
 * tells `events` what the mock answers, and forwards every call, read and write unchanged. Methods run
 * with the handler itself as `this` (a handler class may keep private fields), and the Proxy has exactly
 * the handler's properties, so a mock that checks which callbacks exist decides as it would without it.
 */
export function observeMockedHandler(handler: object, events: MockedEvents): object {
  return new Proxy(handler, {
    get(target, key) {
      const value = Reflect.get(target, key)
      if (typeof value !== 'function') return value
      if (events.muted() && typeof key === 'string' && key.startsWith('on')) return () => {}
      const observe = OBSERVED.get(key)
      if (!observe) return value.bind(target)
      return (...args: unknown[]) => {
        try {
          observe(events, args)
        } catch {}
        return value.apply(target, args)
      }
    },
  })
}
