import http from 'node:http'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { WebSocketServer } from 'ws'
import { firstTick, firstTickFixed } from '../src/ticker.ts'
import { type Served, serve } from './serve.ts'

// A price feed (the `ws` package) on loopback; it pushes a tick to every new client.
let feed: Served
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
