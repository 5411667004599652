const http = require('node:http')
const { refresh, refreshInBackground } = require('../src/refresh.js')
const { serve } = require('./serve.js')

// An upstream that accepts requests and never answers.
let upstream
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
