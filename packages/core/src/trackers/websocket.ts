import type { CallContext, Engine } from '../engine.ts'
import { redactUrl } from '../redact.ts'
import { Resource } from '../resource.ts'
import { CALL_SITE_LIMIT, captureSite } from '../stack.ts'
import { noop } from './registry.ts'

const CLOSED = 3
const WRAPPED = Symbol.for('netsan.websocket.v1')

/**
 * The global (undici) WebSocket: a construct trap records each instance. A Proxy keeps
 * `instanceof WebSocket`, statics and subclassing working. The `ws` package is seen in http-client.ts.
 */
export function installWebSocketTracker(engine: Engine): () => void {
  return engine.onGlobal((g) => {
    const Original = (g as any).WebSocket
    if (typeof Original !== 'function' || Original[WRAPPED]) return noop
    const Tracked: any = new Proxy(Original, {
      construct(target, args, newTarget): object {
        const site = captureSite(CALL_SITE_LIMIT)
        const owner = engine.current()
        const call: CallContext = { site, owned: true }
        const ws: any = engine.calls.run(call, (): any =>
          Reflect.construct(target, args, newTarget === Tracked ? target : newTarget),
        )
        const url = String(args[0])
        new Resource({
          kind: 'websocket',
          checkAt: 'test',
          site,
          owner,
          origin: redactUrl(url),
          describe: () =>
            `${redactUrl(url)} (${['connecting', 'open', 'closing', 'closed'][ws.readyState] ?? ws.readyState})`,
          isOpen: () => ws.readyState !== CLOSED,
          whenClosed: (done) =>
            ws.readyState === CLOSED ? done() : ws.addEventListener('close', done, { once: true }),
          close: () => {
            try {
              ws.close()
            } catch {}
          },
        })
        return ws
      },
      get(target, key, receiver) {
        if (key === WRAPPED) return target
        return Reflect.get(target, key, receiver)
      },
    })
    ;(g as any).WebSocket = Tracked
    return () => {
      if ((g as any).WebSocket === Tracked) (g as any).WebSocket = Original
    }
  })
}
