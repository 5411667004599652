import type { Resource } from './resource.ts'

// Not `import … from 'node:…'`: an ES module import of a builtin reads every lazy export (fs: its
// streams, fs/promises, readline; timers: timers/promises), ≈ 10 ms more for each Vitest worker.
const { clearTimeout, setImmediate, setTimeout } = process.getBuiltinModule('node:timers')

// Captured from node:timers at load time, so `vi.useFakeTimers()` / `jest.useFakeTimers()`
// in a test (which replace the global functions) never freeze netsan's settle.

/**
 * Waits until every candidate has closed, or `settleMs` has passed; driven by close events, never a
 * fixed sleep. Returns at once when nothing is open. Returns what is still open at the end.
 */
export async function settle(candidates: Resource[], settleMs: number): Promise<Resource[]> {
  let open = candidates.filter((r) => r.isOpen())
  const waitable = open.filter((r) => r.whenClosed)
  if (waitable.length === 0 || settleMs === 0) return open
  await new Promise<void>((resolve) => {
    let pending = waitable.length
    const timer = setTimeout(resolve, settleMs)
    timer.unref?.()
    const done = () => {
      if (--pending === 0) {
        clearTimeout(timer)
        resolve()
      }
    }
    for (const r of waitable) {
      let called = false
      r.whenClosed!(() => {
        if (called) return
        called = true
        done()
      })
    }
  })
  // A close event can fire before a body's state is updated; let pending callbacks run once.
  await new Promise<void>((resolve) => setImmediate(resolve))
  open = open.filter((r) => r.isOpen())
  return open
}
