const http = require('node:http')
// In a CommonJS Jest test, require('netsan') gives the helpers of the netsan environment.
const { allowLeaks, expectNoLeakedConnections, isLeakError } = require('netsan')
const WebSocket = require('ws')
const { assetExistsFixed } = require('../src/assets.js')
const { closeAndWait } = require('../src/ticker.js')
const { BIG_BODY, serve } = require('./serve.js')

// netsan's API inside tests: check mid-way, and allow a leak on purpose.

let origin
let feed
beforeAll(async () => {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-length': BIG_BODY.length })
    res.end(BIG_BODY)
  })
  new WebSocket.WebSocketServer({ server }).on('connection', (ws) => ws.send('hello'))
  origin = await serve(server)
})
afterAll(async () => {
  if (feed) await closeAndWait(feed)
  await origin.close()
})

test('api: expectNoLeakedConnections passes mid-test when clean', async () => {
  expect(await assetExistsFixed(`${origin.url}/a`)).toBe(true)
  await expectNoLeakedConnections() // nothing this test opened is still open here
  expect(await assetExistsFixed(`${origin.url}/b`)).toBe(true)
})

test('api: expectNoLeakedConnections throws LeakError', async () => {
  const res = await fetch(`${origin.url}/big`)
  const err = await expectNoLeakedConnections().catch((e) => e)
  expect(isLeakError(err)).toBe(true)
  expect(err.leaks[0].kind).toBe('body')
  await res.body?.cancel() // clean up, so the test itself ends clean
})

test('api: allowLeaks keeps a WebSocket open on purpose', async () => {
  allowLeaks('websocket', 'the feed stays subscribed for the rest of the file; afterAll closes it')
  feed = new WebSocket(origin.url.replace('http', 'ws'))
  await new Promise((resolve, reject) => feed.once('open', resolve).once('error', reject))
  expect(feed.readyState).toBe(WebSocket.OPEN)
})
