import type { Engine } from '../engine.ts'
import type { Scope } from '../scope.ts'
import type { Site } from '../stack.ts'
import type { UndiciRequestInfo } from './undici.ts'
import { handlerOf, isFetchHandler } from './undici-bodies.ts'

/**
 * The controller undici's `fetch()` makes for each call (its `Fetch` class, the same in undici 6, 7 and
 * 8): `reportTimingSteps` appears when the Response's body has finished, `serializedAbortReason` says
 * why it was aborted, and `connection.abort` is the abort of the request it serves now
 * (docs/discoveries/undici-fetch.md).
 */
export interface FetchController {
  state?: string
  serializedAbortReason?: unknown
  /** Set by undici when the Response's body stream has finished (fetch's "process response end-of-body"). */
  reportTimingSteps?: unknown
  connection?: { abort?: unknown } | null
  abort?: (reason?: unknown) => void
}

// undici's FinalizationRegistry cancels the body of a Response that was collected unread, with this
// reason: the caller never read it, whether or not the GC came first.
const COLLECTED = 'Response object has been garbage collected'
const REDIRECTS = new Set([301, 302, 303, 307, 308])
// Fetches waiting for their next hop: a fetch with `redirect: 'manual'` never takes one, so few are kept.
const MAX_REDIRECTING = 32

/**
 * Links undici requests to the `fetch()` they serve, for npm undici's own fetch (the global one is
 * wrapped: fetch.ts). A `fetch()` creates its controller, then dispatches its first request in the
 * same synchronous run; a redirect's next request comes later and goes to the fetch that got the 3xx.
 */
export function createFetchLinker(engine: Engine) {
  let pending: FetchController | undefined
  const redirecting: FetchController[] = []
  const firstHop = new WeakMap<FetchController, { site: Site; owner: Scope }>()
  return {
    created(controller: FetchController): void {
      // Made inside a wrapped fetch: that wrapper tracks its Response.
      if (engine.calls.getStore()?.owned) return
      pending = controller
      queueMicrotask(() => {
        if (pending === controller) pending = undefined
      })
    },

    /** At a request's creation: the fetch it serves, if any (the redirect's hop takes the first hop's site and owner). */
    link(info: UndiciRequestInfo): void {
      if (pending === undefined && redirecting.length === 0) return
      if (!isFetchHandler(info.handler ?? handlerOf(info.request))) return
      if (pending) {
        info.fetch = pending
        pending = undefined
        firstHop.set(info.fetch, { site: info.site, owner: info.owner })
        return
      }
      // A fetch sets a fresh connection (its abort still unset) just before it dispatches its next hop;
      // the others waiting still hold the connection of the 3xx they got.
      const i = redirecting.findIndex((f) => f.connection != null && f.connection.abort == null)
      if (i === -1) return
      const [controller] = redirecting.splice(i, 1)
      const first = firstHop.get(controller!)!
      info.fetch = controller
      info.site = first.site
    },

    /** At a response's headers. */
    headers(info: UndiciRequestInfo): void {
      if (!info.fetch || !REDIRECTS.has(info.status ?? 0)) return
      redirecting.push(info.fetch)
      if (redirecting.length > MAX_REDIRECTING) redirecting.shift()
    },
  }
}

/**
 * Whether the caller never finished the Response body of the fetch that `info` served: the fetch still
 * serves this request (not a redirect it left), and the Response's stream was neither read to its end,
 * nor cancelled, nor errored. undici marks exactly that on the controller: it sets `reportTimingSteps`
 * once that stream has finished (and at once for a response with no body: HEAD, 204, 304).
 */
export function fetchBodyPending(info: UndiciRequestInfo): boolean {
  const controller = info.fetch
  if (!controller || controller.connection?.abort !== info.handler?.abort) return false
  return controller.reportTimingSteps === undefined || controller.serializedAbortReason === COLLECTED
}

/** Whether the caller read some of it: the stream under the Response gave it bytes. */
export function fetchBodyRead(info: UndiciRequestInfo): boolean {
  return info.handler?.body?.readableDidRead === true
}

/**
 * Ends a leaked fetch as its caller would: an abort of its controller is what the caller's AbortSignal
 * does (the fetch then rejects with that reason, an AbortError, not `TypeError: fetch failed`), and what
 * cancelling its Response's body does (undici's cancel algorithm), which errors the body's stream.
 */
export function abortFetch(info: UndiciRequestInfo, reason: Error): boolean {
  const controller = info.fetch
  if (!controller || typeof controller.abort !== 'function') return false
  try {
    controller.abort(reason)
  } catch {}
  return true
}
