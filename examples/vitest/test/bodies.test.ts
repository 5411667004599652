import http from 'node:http'
import { afterAll, beforeAll, expect, test } from 'vitest'
import {
  assetExists,
  assetExistsFixed,
  assetStatus,
  assetStatusFixed,
  assetStatusHttp,
  assetStatusHttpFixed,
} from '../src/assets.ts'
import { BIG_BODY, type Served, serve } from './serve.ts'

// A file-wide server: started in beforeAll, closed in afterAll. That is correct and not a leak.
let cdn: Served
beforeAll(async () => {
  cdn = await serve(
    http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': BIG_BODY.length })
      res.end(BIG_BODY)
    }),
  )
})
afterAll(() => cdn.close())

test('leaks: fetch body never read', async () => {
  expect(await assetExists(`${cdn.url}/release.tar.gz`)).toBe(true)
})

test('fixed: fetch body cancelled', async () => {
  expect(await assetExistsFixed(`${cdn.url}/release.tar.gz`)).toBe(true)
})

test('leaks: undici.request body never read', async () => {
  expect(await assetStatus(`${cdn.url}/release.tar.gz`)).toBe(200)
})

test('fixed: undici.request body dumped', async () => {
  expect(await assetStatusFixed(`${cdn.url}/release.tar.gz`)).toBe(200)
})

test('leaks: http.get response never resumed', async () => {
  expect(await assetStatusHttp(`${cdn.url}/release.tar.gz`)).toBe(200)
})

test('fixed: http.get response resumed', async () => {
  expect(await assetStatusHttpFixed(`${cdn.url}/release.tar.gz`)).toBe(200)
})
