import http2 from 'node:http2'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { fetchManifest, fetchManifestFixed } from '../src/h2-client.ts'
import { type Served, serve } from './serve.ts'

// h2c (cleartext HTTP/2) on loopback.
let origin: Served
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
