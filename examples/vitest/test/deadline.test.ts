import http from 'node:http'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { refresh, refreshInBackground } from '../src/refresh.ts'
import { type Served, serve } from './serve.ts'

// An upstream that accepts requests and never answers.
let upstream: Served
beforeAll(async () => {
  upstream = await serve(http.createServer(() => {}))
})
afterAll(() => upstream.close())

test('leaks: fetch with no deadline left in flight', () => {
  // Passes on its own: nothing awaits the refresh, so the test ends with the request pending.
  refreshInBackground(`${upstream.url}/prices`, () => {})
})

test('fixed: fetch with AbortSignal.timeout', async () => {
  await expect(refresh(`${upstream.url}/prices`, { signal: AbortSignal.timeout(50) })).rejects.toMatchObject({
    name: 'TimeoutError',
  })
})
