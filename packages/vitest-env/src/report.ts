import path from 'node:path'
import type { LeakError, Outcome } from 'netsan'
import { loadCore } from './core.ts'

const { isMainThread } = process.getBuiltinModule('node:worker_threads')

/** Vitest's main process started every worker of this run: it forked them, or they are its threads. */
export function vitestMainPid(): number {
  return isMainThread ? process.ppid : process.pid
}

/** Prints `message` once per Vitest run, not once per worker (core's `firstInRun`). */
export async function warnOnce(key: string, message: string): Promise<void> {
  const g = globalThis as { __netsanWarned?: Set<string> }
  g.__netsanWarned ??= new Set()
  if (g.__netsanWarned.has(key)) return
  g.__netsanWarned.add(key)
  const core = await loadCore()
  if (core.firstInRun(core.runIdFor(vitestMainPid()), `vitest-${key}`)) process.stderr.write(`\n${message}\n`)
}

/** Prints the warning and throws the error of a scope's outcome (shaped for Vitest: `shapeForVitest`). */
export function reportOutcome(outcome: Outcome | undefined): void {
  if (!outcome) return
  if (outcome.warning) console.warn(outcome.warning)
  if (outcome.error) throw outcome.error
}

/**
 * Fits a LeakError to Vitest's error printer: its `stacks` are the creating lines (absolute paths), so
 * Vitest shows its own code frame there (and editor links), and it reads no frame out of the report in
 * the message; `stack` keeps the whole report for the reporters that print it (json, junit).
 */
export function shapeForVitest(root: () => string): (error: LeakError) => LeakError {
  return (error) => {
    const stacks: { method: string; file: string; line: number; column: number }[] = []
    for (const leak of error.leaks) {
      const f = leak.frame
      const file = f && path.resolve(root(), f.file)
      if (f && file && !stacks.some((s) => s.file === file && s.line === f.line)) {
        stacks.push({ method: f.fn ?? '', file, line: f.line, column: f.column })
      }
    }
    Object.assign(error, { stacks })
    error.stack = `${error.name}: ${error.message}`
    return error
  }
}

/** netsan's error without frames of netsan's: the message says it all, and it reads the same in every worker. */
export function bare(error: Error): Error {
  error.stack = `${error.name}: ${error.message}`
  return error
}
