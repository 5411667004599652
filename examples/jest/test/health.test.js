const { once } = require('node:events')
const { startHealthServer } = require('../src/health.js')

test('leaks: server never closed', async () => {
  const server = await startHealthServer()
  const res = await fetch(`http://127.0.0.1:${server.address().port}/health`)
  expect(await res.json()).toEqual({ ok: true })
  // Forgot server.close(): the port stays bound after the test.
})

test('fixed: server closed', async () => {
  const server = await startHealthServer()
  try {
    const res = await fetch(`http://127.0.0.1:${server.address().port}/health`)
    expect(await res.json()).toEqual({ ok: true })
  } finally {
    server.close()
    await once(server, 'close')
  }
})
