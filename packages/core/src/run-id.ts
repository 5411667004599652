/**
 * Which run a report belongs to. Every worker of one runner invocation (forks, threads, in band) writes
 * the same run id, so `netsan report` can tell the reports of this run from those an earlier run left in
 * the same folder. The adapters know which process started the run: Vitest's and Jest's main process is
 * the parent of a forked worker and the process of a worker thread (or of Jest in band).
 */

const fs = process.getBuiltinModule('node:fs')

/** `NETSAN_RUN_ID` wins: for process layouts netsan cannot see through (a wrapper that forks the runner). */
export const RUN_ID_ENV = 'NETSAN_RUN_ID'

/** The main process as pid plus its start time where the OS tells it (Linux): a pid alone is reused. */
export function runIdFor(mainPid: number, env: NodeJS.ProcessEnv = process.env): string {
  const given = env[RUN_ID_ENV]?.trim()
  if (given) return given.replace(/[^\w.-]/g, '_').slice(0, 64)
  const start = startTime(mainPid)
  return start ? `${mainPid}-${start}` : String(mainPid)
}

/** Clock ticks since boot at which `pid` started (field 22 of /proc/<pid>/stat); undefined elsewhere. */
function startTime(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] || undefined
  } catch {
    return undefined
  }
}

/**
 * A report file name part unique within the run: this process, thread and session. A Jest worker runs
 * one session per test file, threads share the pid, and Vitest's `isolate: false` runs many files in one.
 */
export function sessionTag(): string {
  const { threadId } = process.getBuiltinModule('node:worker_threads')
  const key = Symbol.for('netsan.sessions.v1')
  const g = globalThis as unknown as Record<symbol, number | undefined>
  // Shared by every copy of netsan in this thread, so two copies never pick the same name.
  g[key] = (g[key] ?? 0) + 1
  return `${process.pid}-${threadId}-${g[key]}`
}
