import { once } from 'node:events'
import net from 'node:net'
import { afterAll, beforeAll, expect, test } from '@jest/globals'
import { expectNoLeakedConnections, LeakError, track } from 'netsan'

const accepted = new Set()
const server = net.createServer((socket) => {
  accepted.add(socket)
  socket.on('close', () => accepted.delete(socket))
})
let port = 0

beforeAll(async () => {
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  port = server.address().port
})

afterAll(async () => {
  for (const socket of accepted) socket.destroy()
  server.close()
  await once(server, 'close')
})

test('leaks a socket', async () => {
  const socket = net.connect(port, '127.0.0.1') // LEAK
  await once(socket, 'connect')
})

test('closes its socket', async () => {
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.destroy()
})

test('netsan exports what its types declare', async () => {
  const scope = track()
  const socket = net.connect(port, '127.0.0.1')
  await once(socket, 'connect')
  const error = await expectNoLeakedConnections().catch((e) => e)
  expect(error).toBeInstanceOf(LeakError)
  const leaks = await scope.end()
  expect(leaks.map((leak) => leak.kind)).toEqual(['socket'])
})
