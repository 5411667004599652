import type { CallContext, Engine } from '../engine.ts'
import { abortError } from '../errors.ts'
import { originOf, redactUrl } from '../redact.ts'
import { Resource } from '../resource.ts'
import { CALL_SITE_LIMIT, captureSite } from '../stack.ts'
import { NO_BODY_STATUS, noop } from './registry.ts'
import { abortRequest, bodyPolicy, isHttp2, type UndiciRequestInfo, whenDone } from './undici.ts'
import { bodyUnfinished, UNFINISHED_BODY, UNFINISHED_BODY_FIX } from './undici-bodies.ts'

const WRAPPED = Symbol.for('netsan.fetch.v1')

type Fetch = typeof globalThis.fetch

/**
 * Wraps a realm's `fetch` to see bodies at the Response level: undici buffers a small body whole and
 * returns the connection to the pool, so only the Response can tell that nobody read it.
 */
export function installFetchTracker(engine: Engine): () => void {
  return engine.onGlobal((g) => {
    const original = g.fetch as Fetch | undefined
    if (typeof original !== 'function' || (original as any)[WRAPPED]) return noop
    const wrapped = function fetch(this: unknown, input: any, init?: any) {
      const site = captureSite(CALL_SITE_LIMIT)
      const owner = engine.current()
      let undici: UndiciRequestInfo | undefined
      const call: CallContext = {
        site,
        owned: true,
        onUndiciRequest: (info) => (undici = info as UndiciRequestInfo),
      }
      const method = String(
        init?.method ?? (typeof input === 'object' ? input?.method : undefined) ?? 'GET',
      ).toUpperCase()
      const url = String(typeof input === 'string' ? input : (input?.href ?? input?.url ?? input))
      // Whether the caller can cancel it: the report says so. netsan adds no signal of its own
      // (undici's Request costs ≈ 50 µs more with one); cleanup aborts undici's request instead.
      const noSignal = !init?.signal && (typeof input !== 'object' || input === null || !('signal' in input))
      let pending = true
      let waiters: (() => void)[] | undefined
      const settled = () => {
        pending = false
        request.release()
        if (waiters) for (const w of waiters) w()
        waiters = undefined
      }
      // Cleanup rejects what the caller awaits with an AbortError, as the caller's own AbortSignal
      // would: fetch would reject an abort from below with TypeError('fetch failed'), which retrying
      // clients (ofetch, ky) send again.
      let abortCaller: ((reason: Error) => void) | undefined
      let returned: Promise<Response> | undefined
      const request = new Resource({
        kind: 'request',
        checkAt: 'test',
        site,
        owner,
        origin: () => originOf(url),
        describe: () =>
          `${method} ${redactUrl(url)}${undici && bodyUnfinished(undici) ? `, ${UNFINISHED_BODY}` : ''}, no response yet${noSignal ? ' (no AbortSignal)' : ''}`,
        fix: () => (undici && bodyUnfinished(undici) ? UNFINISHED_BODY_FIX : undefined),
        isOpen: () => pending,
        whenClosed: (done) => (pending ? (waiters ??= []).push(done) : done()),
        close: () => {
          const reason = abortError()
          // The test never awaited it: the abort must not surface as an unhandled rejection.
          returned?.catch(noop)
          abortCaller?.(reason)
          if (undici) abortRequest(undici, reason)
        },
      })
      let promise: Promise<Response>
      try {
        promise = engine.calls.run(call, () => original.call(this, input, init))
      } catch (error) {
        settled()
        throw error
      }
      returned = new Promise<Response>((resolve, reject) => {
        abortCaller = reject
        promise.then(
          (res) => {
            settled()
            trackBody(engine, res, { site, owner, method, url, undici: () => undici })
            resolve(res)
          },
          (error) => {
            settled()
            reject(error)
          },
        )
      })
      return returned
    } as Fetch
    Object.defineProperty(wrapped, WRAPPED, { value: original })
    g.fetch = wrapped
    return () => {
      if (g.fetch === wrapped) g.fetch = original
    }
  })
}

function trackBody(
  engine: Engine,
  res: Response,
  call: {
    site: ReturnType<typeof captureSite>
    owner: ReturnType<Engine['current']>
    method: string
    url: string
    undici: () => UndiciRequestInfo | undefined
  },
): void {
  if (!res || res.body === null || call.method === 'HEAD' || NO_BODY_STATUS.has(res.status)) return
  const length = res.headers.get('content-length')
  if (length === '0') return
  // Held strongly until its test ends (the ledger then lets go): were it collected first, undici's
  // finalizer would cancel the body, and whether an unread body fails the test would depend on the GC.
  let policy: boolean | undefined
  const held = () => call.undici()?.state === 'headers'
  const resource = new Resource({
    kind: 'body',
    checkAt: 'test',
    site: call.site,
    owner: call.owner,
    origin: () => originOf(call.url),
    describe: () => {
      const size = length ? `${length}-byte body` : 'body'
      const what = res.bodyUsed ? `${size} read only partly` : `${size} never read`
      return `${call.method} ${redactUrl(call.url)} → ${res.status}, ${what}${held() ? ', holding its connection' : ''}`
    },
    isOpen: () => {
      // Still streaming: holds a connection, or a stream that was never finished.
      if (held()) return true
      // Read to its end, cancelled or errored, the stream is finished; read partly, it is still readable
      // and the rest will never be read (in production, where bodies are large, it pins its connection).
      if (res.bodyUsed && !stillReadable(res.body)) return false
      return (policy ??= bodyPolicy(engine, call.site))
    },
    whenClosed: (done) => {
      // A body being read when the scope ends (a pipe not awaited) is waited for, up to settleMs.
      const reading = () =>
        res.bodyUsed && stillReadable(res.body)
          ? process.getBuiltinModule('node:stream').finished(res.body as never, () => done())
          : done()
      const info = call.undici()
      if (info) whenDone(info, reading)
      else reading()
    },
    close: () => {
      // Cancelling lets undici abort the request cleanly; a body locked by a reader can only be
      // freed by closing its connection.
      const destroy = () => {
        const socket = call.undici()?.socket
        if (!isHttp2(socket)) socket?.destroy()
      }
      const body = res.body
      if (body && !body.locked) body.cancel().catch(destroy)
      else destroy()
    },
  })
  void resource
}

/** A web ReadableStream not closed, errored nor cancelled (node:stream's isReadable takes web streams too). */
function stillReadable(body: ReadableStream | null): boolean {
  return body !== null && process.getBuiltinModule('node:stream').isReadable(body as never) === true
}
