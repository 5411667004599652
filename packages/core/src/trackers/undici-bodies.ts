import type { UndiciRequestInfo } from './undici.ts'

/** undici's private `handler` symbol, per copy of undici (one per Request prototype). */
const handlerKeys = new WeakMap<object, symbol>()

/** The handler undici's core request holds (under its private `handler` symbol): maybe a wrapper. */
export function handlerOf(request: any): any {
  try {
    const proto = Object.getPrototypeOf(request) as object | null
    if (!proto) return undefined
    let key = handlerKeys.get(proto)
    if (!key) {
      key = Object.getOwnPropertySymbols(request).find((k) => k.description === 'handler')
      if (key) handlerKeys.set(proto, key)
    }
    return key ? request[key] : undefined
  } catch {}
  return undefined
}

/**
 * The handler undici's `fetch()` dispatches with, an object literal of the same shape in undici 6, 7
 * and 8: `body` (the Node Readable the Response's stream pulls from) and `abort` (set when it connects,
 * also kept on the fetch controller's connection: docs/discoveries/undici-fetch.md).
 */
export function isFetchHandler(handler: any): boolean {
  return (
    handler !== null &&
    typeof handler === 'object' &&
    !('res' in handler) &&
    'body' in handler &&
    'abort' in handler &&
    typeof handler.onResponseStarted === 'function'
  )
}

/**
 * The response body of a request: `undici.request()`'s body stream (`res` of its RequestHandler, also
 * stream()'s and pipeline()'s), or what a `fetch()`'s Response reads from. Found on the handler user
 * code's call passed, since a layer below (another copy's global dispatcher) may wrap it.
 */
export function bodyOf(info: UndiciRequestInfo): any {
  const handler = info.handler ?? handlerOf(info.request)
  if (!handler) return undefined
  try {
    const res = 'res' in handler ? handler.res : isFetchHandler(handler) ? handler.body : undefined
    return res && typeof res.destroy === 'function' && !res.destroyed ? res : undefined
  } catch {}
  return undefined
}

/**
 * A body stream nobody has read to its end (`text()`, `dump()`… do) or destroyed: unread, or read
 * partly. (undici's `bodyUsed` turns true at the first read: it cannot tell partly from wholly.)
 */
export function notReadToEnd(body: any): boolean {
  return !body.destroyed && !body.readableEnded
}

/**
 * Headers arrived and the request is sending its body still: its stream never ended (a request whose
 * body is sent publishes `undici:request:bodySent`, one without a body too).
 */
export function bodyUnfinished(info: UndiciRequestInfo): boolean {
  return info.state === 'pending' && info.socket !== undefined && !info.bodySent && info.request?.body != null
}

export const UNFINISHED_BODY = 'request body never finished (its stream never ended)'
export const UNFINISHED_BODY_FIX =
  'end the request body stream (or give the request a deadline: signal: AbortSignal.timeout(ms))'

/** A header of a response as undici gives it: raw `[name, value, …]` (Buffers or strings) or an object. */
export function headerValue(headers: unknown, name: string): string | undefined {
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      // Decoding each name (a Buffer) costs an allocation per header on every response: a name of
      // another length (bytes or characters: header names are ASCII) cannot match.
      const key = headers[i] as { length?: unknown } | null
      if (key?.length !== name.length) continue
      if (String(key).toLowerCase() === name) return String(headers[i + 1])
    }
    return undefined
  }
  if (headers && typeof headers === 'object') {
    const value = (headers as Record<string, unknown>)[name]
    return value === undefined ? undefined : String(value)
  }
  return undefined
}
