import path from 'node:path'
import type { LeakError, Outcome } from 'netsan'

// Not `import … from 'node:…'`: an ES module import of a builtin reads every lazy export (fs: its
// streams, fs/promises, readline; timers: timers/promises), ≈ 10 ms more for each Vitest worker.
const fs = process.getBuiltinModule('node:fs')
const os = process.getBuiltinModule('node:os')
const { isMainThread } = process.getBuiltinModule('node:worker_threads')

const STALE_MS = 30 * 60_000

/**
 * Prints `message` once per Vitest run, not once per worker: the first worker to create the
 * marker file (keyed by the Vitest main process) prints it. Markers of earlier runs are pruned.
 */
export function warnOnce(key: string, message: string): void {
  const g = globalThis as { __netsanWarned?: Set<string> }
  g.__netsanWarned ??= new Set()
  if (g.__netsanWarned.has(key)) return
  g.__netsanWarned.add(key)
  if (firstInRun(key)) process.stderr.write(`\n${message}\n`)
}

/**
 * The Vitest main process, as PID plus start time where the OS tells it (Linux): a PID alone can be
 * reused by a later run within the stale window, and that run would then stay silent.
 */
function mainProcessId(): string {
  const main = isMainThread ? process.ppid : process.pid
  try {
    const stat = fs.readFileSync(`/proc/${main}/stat`, 'utf8')
    const startTime = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
    return startTime ? `${main}.${startTime}` : String(main)
  } catch {
    return String(main)
  }
}

function firstInRun(key: string): boolean {
  const dir = path.join(os.tmpdir(), 'netsan-vitest')
  const marker = path.join(dir, `${mainProcessId()}-${key}`)
  try {
    fs.mkdirSync(dir, { recursive: true })
    prune(dir)
    fs.writeFileSync(marker, '', { flag: 'wx' })
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return true
    // A marker left by an earlier run whose main process had the same PID is stale.
    const stat = fs.statSync(marker, { throwIfNoEntry: false })
    if (stat && Date.now() - stat.mtimeMs < STALE_MS) return false
    fs.writeFileSync(marker, '')
    return true
  }
}

function prune(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name)
    const stat = fs.statSync(file, { throwIfNoEntry: false })
    if (stat && Date.now() - stat.mtimeMs > STALE_MS) fs.rmSync(file, { force: true })
  }
}

/**
 * Prints the warning and throws the error of a scope's outcome. The error's stack is rewritten to
 * the creating lines (absolute paths): Vitest then shows its own code frame there, and the report's
 * relative `at` lines inside the message are not mistaken for stack frames.
 */
export function reportOutcome(outcome: Outcome | undefined, root: string): void {
  if (!outcome) return
  if (outcome.warning) console.warn(outcome.warning)
  if (outcome.error) throw withCreatingFrames(outcome.error, root)
}

function withCreatingFrames(error: LeakError, root: string): LeakError {
  const stacks: { method: string; file: string; line: number; column: number }[] = []
  for (const leak of error.leaks) {
    const f = leak.frame
    const file = f && path.resolve(root, f.file)
    if (f && file && !stacks.some((s) => s.file === file && s.line === f.line)) {
      stacks.push({ method: f.fn ?? '', file, line: f.line, column: f.column })
    }
  }
  // Vitest uses `stacks` when present (code frame, editor links); `stack` keeps the whole report
  // for the reporters that print it (json, junit).
  Object.assign(error, { stacks })
  error.stack = `${error.name}: ${error.message}`
  return error
}
