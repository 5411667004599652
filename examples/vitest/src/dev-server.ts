// Starts a "dev server" process that shares the test runner's output (stdio: 'inherit').
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'

/** A process that would run for two minutes: a runner waits for it before it can exit. */
export async function startDevServer(): Promise<ChildProcess> {
  const server = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)'], { stdio: 'inherit' })
  await once(server, 'spawn')
  return server
}
