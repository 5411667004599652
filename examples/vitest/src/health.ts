import { once } from 'node:events'
import http from 'node:http'

/** Starts the health endpoint on loopback (port 0 = any free port). The caller owns the server. */
export async function startHealthServer(port = 0): Promise<http.Server> {
  const server = http.createServer((_req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ ok: true }))
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return server
}
