import http from 'node:http'
import { afterAll, beforeAll, expect, test } from 'vitest'
import { createHttpJsonClient, createJsonClient, getJson, getJsonHttp } from '../src/agents.ts'
import { type Served, serve } from './serve.ts'

let api: Served
// Fixed: one client (one pool) for the whole file, closed in afterAll.
const client = createJsonClient()
const httpClient = createHttpJsonClient()
beforeAll(async () => {
  api = await serve(
    http.createServer((_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ version: '1.2.3' }))
    }),
  )
})
afterAll(async () => {
  await client.close()
  httpClient.close()
  await api.close()
})

test('leaks: undici Agent per request never closed', async () => {
  expect(await getJson(`${api.url}/version`)).toEqual({ version: '1.2.3' })
})

test('fixed: one shared undici Agent closed in afterAll', async () => {
  expect(await client.get(`${api.url}/version`)).toEqual({ version: '1.2.3' })
})

test('leaks: http.Agent per request never destroyed', async () => {
  expect(await getJsonHttp(`${api.url}/version`)).toEqual({ version: '1.2.3' })
})

test('fixed: one shared http.Agent destroyed in afterAll', async () => {
  expect(await httpClient.get(`${api.url}/version`)).toEqual({ version: '1.2.3' })
})
