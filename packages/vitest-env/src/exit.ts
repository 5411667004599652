import path from 'node:path'
import { exitWatch } from 'netsan'
import { sourceLine } from './source.ts'
import type { WorkerState } from './state.ts'

/**
 * Vitest stops a worker when it is done (SIGTERM, or terminate() for threads): a timer or a socket
 * left behind dies with it. A child process does not, and one that shares the worker's stdout or stderr
 * keeps Vitest waiting ("[vitest-pool]: Timeout terminating forks worker", then as long as the child
 * runs). At the environment's teardown, netsan names the children still running, and with the child
 * kind on, where they were started, by which test; with `cleanup` on, it stops them.
 */
export function diagnoseExit(state: WorkerState): void {
  const { session } = state
  if (!session.active) return
  const { options } = session
  const { text } = exitWatch().diagnose({
    heading: (n) =>
      `netsan: Vitest is done with this worker (pid ${process.pid}), but ${n === 1 ? 'a child process' : `${n} child processes`} it started still run${n === 1 ? 's' : ''}: Vitest waits for a child that holds the worker's stdout or stderr before it can stop the worker`,
    only: ['child'],
    root: options.root,
    cleanup: options.cleanup,
    kinds: options.kinds,
    sourceLine: (file, line) => sourceLine(path.resolve(options.root, file), line),
  })
  if (text) process.stderr.write(`\n${text}\n\n`)
}

/** The runner's own handles (RPC, stdio pipes), before the file's code runs. */
export function exitBaseline(state: WorkerState): void {
  if (state.session.active) exitWatch().fileStarted()
}
