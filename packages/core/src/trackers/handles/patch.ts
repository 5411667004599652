/**
 * Narrow, reversible patches of Node's builtin functions (timers, fs), for the handle kinds that have
 * no diagnostics channel. A wrapper looks like what it wraps (name, length, own symbols such as
 * `util.promisify.custom`), is made once per original function and installation, so that every realm
 * holding the same function gets the same wrapper, is undone only where it is still in place, and
 * turns inert when its installation ends: a fake-timer library may put it back after netsan left.
 */

const WRAPPED = Symbol.for('netsan.handles.wrapped.v1')

/** A wrapper factory of one installation: one wrapper per original function, whatever realm holds it. */
export type Wrap = <F extends Function>(original: F) => F

export class Patches {
  private live = true
  private readonly undo: (() => void)[] = []

  /** Memoizes `make` per original function; the wrapper calls the original alone once this installation ends. */
  wrapper(make: (original: Function) => Function): Wrap {
    const made = new Map<Function, Function>()
    return <F extends Function>(found: F): F => {
      // An inert wrapper of an earlier installation, put back in place: wrap what it wraps.
      const original = ((found as unknown as Record<symbol, Function | undefined>)[WRAPPED] ?? found) as F
      let wrapped = made.get(original)
      if (!wrapped) {
        const tracking = make(original)
        const patches = this
        wrapped = function (this: unknown, ...args: unknown[]) {
          return Reflect.apply(patches.live ? tracking : original, this, args)
        }
        for (const key of Reflect.ownKeys(original)) {
          if (key === 'prototype' || key === 'arguments' || key === 'caller') continue
          const descriptor = Object.getOwnPropertyDescriptor(original, key)
          if (descriptor) {
            try {
              Object.defineProperty(wrapped, key, descriptor)
            } catch {}
          }
        }
        Object.defineProperty(wrapped, WRAPPED, { value: original })
        made.set(original, wrapped)
      }
      return wrapped as F
    }
  }

  /** Replaces `target[name]` with its wrapper, until `undo()` (which leaves alone what someone replaced since). */
  patch(target: object, name: string, wrap: Wrap): () => void {
    const t = target as Record<string, unknown>
    const found = t[name]
    if (typeof found !== 'function') return () => {}
    const wrapped = wrap(found)
    try {
      t[name] = wrapped
    } catch {
      return () => {}
    }
    const undo = () => {
      if (t[name] === wrapped) t[name] = found
    }
    this.undo.push(undo)
    return undo
  }

  /** Restores what is still patched and makes every wrapper of this installation inert. */
  dispose(): void {
    this.live = false
    for (const u of this.undo.splice(0).reverse()) u()
  }
}

/**
 * `import { watch } from 'node:fs'` binds to a copy of the export: after patching (or unpatching) a
 * builtin module object, its ES module exports are brought in line. @note docs/discoveries/handles.md
 */
export function syncBuiltinExports(): void {
  try {
    process.getBuiltinModule('node:module').syncBuiltinESMExports()
  } catch {}
}
