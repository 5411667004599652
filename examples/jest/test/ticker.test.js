const http = require('node:http')
const { WebSocketServer } = require('ws')
const { firstTick, firstTickFixed } = require('../src/ticker.js')
const { serve } = require('./serve.js')

// A price feed (the `ws` package) on loopback; it pushes a tick to every new client.
let feed
beforeAll(async () => {
  const server = http.createServer()
  new WebSocketServer({ server }).on('connection', (ws) => ws.send('EURUSD 1.0842'))
  feed = await serve(server)
})
afterAll(() => feed.close())

test('leaks: WebSocket never closed', async () => {
  expect(await firstTick(feed.url.replace('http', 'ws'))).toBe('EURUSD 1.0842')
})

test('fixed: WebSocket closed', async () => {
  expect(await firstTickFixed(feed.url.replace('http', 'ws'))).toBe('EURUSD 1.0842')
})
