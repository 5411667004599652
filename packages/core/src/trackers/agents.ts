import http from 'node:http'
import https from 'node:https'
import type { Engine } from '../engine.ts'
import { captureSite } from '../stack.ts'
import { type PoolOrigin, registry } from './registry.ts'

const WRAPPED = Symbol.for('netsan.pool-class.v1')

/**
 * Wraps a pool class so netsan knows where each pool was created: a pool created inside a test
 * is that test's to close. A construct-trap Proxy keeps `instanceof`, statics and subclassing.
 */
export function wrapPoolClass<T extends new (...args: any[]) => object>(
  engine: Engine,
  Original: T,
  label: string,
  onCreate?: (pool: object, origin: PoolOrigin) => void,
): T {
  if ((Original as any)[WRAPPED]) return Original
  const Wrapped: T = new Proxy(Original, {
    construct(target, args, newTarget) {
      const pool = Reflect.construct(target, args, newTarget === Wrapped ? target : newTarget)
      try {
        const origin: PoolOrigin = { scope: engine.current(), site: captureSite(), label }
        registry.pools.set(pool, origin)
        onCreate?.(pool, origin)
      } catch {}
      return pool
    },
    get(target, key, receiver) {
      if (key === WRAPPED) return target
      return Reflect.get(target, key, receiver)
    },
  })
  return Wrapped
}

function swap(obj: Record<string, any>, key: string, value: unknown): () => void {
  const before = obj[key]
  obj[key] = value
  return () => {
    if (obj[key] === value) obj[key] = before
  }
}

/** `http.Agent` / `https.Agent`: node:http pools. */
export function installHttpAgentTracker(engine: Engine): () => void {
  const undo = [
    swap(http as any, 'Agent', wrapPoolClass(engine, http.Agent, 'an http.Agent')),
    swap(https as any, 'Agent', wrapPoolClass(engine, https.Agent, 'an https.Agent')),
  ]
  return () => {
    for (const u of undo.reverse()) u()
  }
}

/**
 * npm undici's pool classes, on the module object the user's code loads (CommonJS exports are
 * plain properties, and ESM imports of it read them on first import).
 */
export function instrumentUndiciModule(
  engine: Engine,
  mod: Record<string, any>,
  adopt: (origin: PoolOrigin) => void,
): () => void {
  const undo: (() => void)[] = []
  for (const name of [
    'Agent',
    'Pool',
    'Client',
    'BalancedPool',
    'RetryAgent',
    'EnvHttpProxyAgent',
    'ProxyAgent',
  ]) {
    const Original = mod[name]
    if (typeof Original !== 'function' || Original[WRAPPED]) continue
    const label = `an undici ${name}`
    const Wrapped = wrapPoolClass(engine, Original, label, (pool, origin) => {
      const emitter = pool as { on?: (e: string, fn: () => void) => void }
      emitter.on?.('connect', () => adopt(origin))
    })
    try {
      undo.push(swap(mod, name, Wrapped))
    } catch {}
  }
  return () => {
    for (const u of undo.reverse()) u()
  }
}
