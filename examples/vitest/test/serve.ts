import { once } from 'node:events'
import type net from 'node:net'

export interface Served {
  /** `http://127.0.0.1:<port>` */
  url: string
  port: number
  /** Destroys every accepted connection, then waits for the server to close. */
  close(): Promise<void>
}

/**
 * Listens on 127.0.0.1, port 0, for use in `beforeAll`; `close()` goes in `afterAll`.
 * Accepted connections are tracked so `close()` never waits on a client that a
 * leaking test left open.
 */
export async function serve(server: net.Server): Promise<Served> {
  const connections = new Set<net.Socket>()
  server.on('connection', (socket: net.Socket) => {
    connections.add(socket)
    socket.once('close', () => connections.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
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

/** 1 MiB: bigger than any socket buffer, so an unread body really holds its connection. */
export const BIG_BODY = Buffer.alloc(1 << 20, 'x')
