const { once } = require('node:events')

/** 1 MiB: bigger than any socket buffer, so an unread body really holds its connection. */
const BIG_BODY = Buffer.alloc(1 << 20, 'x')

/**
 * Listens on 127.0.0.1, port 0, for use in `beforeAll`; `close()` goes in `afterAll`.
 * Accepted connections are tracked so `close()` never waits on a client that a
 * leaking test left open.
 */
async function serve(server) {
  const connections = new Set()
  server.on('connection', (socket) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async close() {
      const closed = once(server, 'close')
      server.close()
      for (const socket of connections) socket.destroy()
      await closed
    },
  }
}

module.exports = { BIG_BODY, serve }
