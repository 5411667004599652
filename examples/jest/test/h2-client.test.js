const http2 = require('node:http2')
const { fetchManifest, fetchManifestFixed } = require('../src/h2-client.js')
const { serve } = require('./serve.js')

// h2c (cleartext HTTP/2) on loopback.
let origin
beforeAll(async () => {
  origin = await serve(http2.createServer((_req, res) => res.end('{"files":3}')))
})
afterAll(() => origin.close())

test('leaks: HTTP/2 session never closed', async () => {
  expect(await fetchManifest(origin.url)).toBe('{"files":3}')
})

test('fixed: HTTP/2 session closed', async () => {
  expect(await fetchManifestFixed(origin.url)).toBe('{"files":3}')
})
