import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { expect, test } from 'vitest'
import { startHealthServer } from '../src/health.ts'

test('leaks: server never closed', async () => {
  const server = await startHealthServer()
  const { port } = server.address() as AddressInfo
  const res = await fetch(`http://127.0.0.1:${port}/health`)
  expect(await res.json()).toEqual({ ok: true })
  // Forgot server.close(): the port stays bound after the test.
})

test('fixed: server closed', async () => {
  const server = await startHealthServer()
  try {
    const { port } = server.address() as AddressInfo
    const res = await fetch(`http://127.0.0.1:${port}/health`)
    expect(await res.json()).toEqual({ ok: true })
  } finally {
    server.close()
    await once(server, 'close')
  }
})
