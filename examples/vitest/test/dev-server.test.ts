import { allowLeaks } from 'netsan'
import { expect, test } from 'vitest'
import { startDevServer } from '../src/dev-server.ts'

// Won't exit: the dev server shares the worker's output and would run for two minutes, so Vitest
// could not stop this worker ("[vitest-pool]: Timeout terminating forks worker"). The test keeps it on
// purpose; at the end netsan names it, with the line that started it, and stops it.
test("won't exit: dev server kept until the end", async () => {
  allowLeaks('child', 'the dev server runs until the end of the run')
  const server = await startDevServer()
  expect(server.pid).toBeGreaterThan(0)
})
