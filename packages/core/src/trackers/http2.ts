import http2 from 'node:http2'
import type { Engine } from '../engine.ts'
import { redactUrl } from '../redact.ts'
import { Resource } from '../resource.ts'
import { captureSite, directCreator } from '../stack.ts'
import { claimingSockets } from './registry.ts'

const LIBRARY_POOL = /[\\/]undici[\\/]|^node:internal[\\/]deps[\\/]undici/

/**
 * HTTP/2 client sessions. Node publishes no session channels (docs/discoveries/node-net-http-channels.md),
 * so `http2.connect` is wrapped: narrow and undone on dispose.
 */
export function installHttp2Tracker(engine: Engine): () => void {
  const original = http2.connect
  const patched = function (this: unknown, ...args: unknown[]) {
    const session = claimingSockets(() =>
      (original as (...a: unknown[]) => http2.ClientHttp2Session).apply(this, args),
    )
    try {
      const site = captureSite()
      const creator = directCreator(site)
      // undici negotiates HTTP/2 inside its own pool: that session is the pool's connection. Node's
      // bundled undici runs as node:internal code, so every frame is checked, not only the creator.
      if (site.files().some((f) => LIBRARY_POOL.test(f.file))) return session
      const authority = redactUrl(String(args[0] instanceof URL ? args[0].href : args[0]))
      const resource = new Resource({
        kind: 'http2',
        checkAt: creator?.kind === 'library' ? 'file' : 'test',
        site,
        owner: engine.current(),
        origin: authority,
        describe: () => `session to ${authority}${session.connecting ? ' (connecting)' : ''}, never closed`,
        isOpen: () => !session.closed && !session.destroyed,
        whenClosed: (done) => (session.closed || session.destroyed ? done() : session.once('close', done)),
        close: () => session.destroy(),
      })
      session.once('close', () => resource.release())
    } catch {}
    return session
  } as typeof http2.connect
  http2.connect = patched
  return () => {
    if (http2.connect === patched) http2.connect = original
  }
}
