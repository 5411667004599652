// Settling against the runner's timeouts: netsan never turns a leak into a timeout, never makes a run
// slower than its timeouts, and still waits the few ms a closing resource needs.
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import { startServer } from '../fixtures/server.ts'
import { ErrorCodes, expectNoLeakedConnections, type NetsanError, track } from '../src/index.ts'
import { ROOT } from './helpers.ts'

let srv: Awaited<ReturnType<typeof startServer>>
const sockets: net.Socket[] = []
before(async () => {
  srv = await startServer()
})
after(async () => {
  for (const s of sockets) s.destroy()
  await srv.close()
})

async function openSocket(): Promise<net.Socket> {
  const socket = net.connect(Number(new URL(srv.url).port), '127.0.0.1')
  sockets.push(socket)
  await new Promise((resolve) => socket.once('connect', resolve))
  return socket
}

describe('settle within the runner’s timeout', () => {
  test('a scope end waits no longer than what is left of its timeout, not the whole settleMs', async () => {
    const scope = track({ root: ROOT, settleMs: 3000 })
    scope.deadlineIn(300)
    await scope.run(() => openSocket())
    const started = performance.now()
    const leaks = await scope.end()
    const waited = performance.now() - started
    assert.equal(leaks.length, 1)
    assert.ok(waited < 1000, `waited ${waited} ms`)
  })

  test('expectNoLeakedConnections() throws its LeakError before the timeout fires', async () => {
    const scope = track({ root: ROOT, settleMs: 3000 })
    scope.deadlineIn(400)
    const started = performance.now()
    try {
      await scope.run(async () => {
        await openSocket()
        await assert.rejects(expectNoLeakedConnections(), (e: NetsanError) => e.code === ErrorCodes.LEAKS)
      })
      const waited = performance.now() - started
      assert.ok(waited < 400, `threw after ${waited} ms, past the 400 ms timeout`)
    } finally {
      await scope.end()
    }
  })

  test('past its deadline, a scope still waits the default settle for what is closing: no false leak', async () => {
    const scope = track({ root: ROOT, settleMs: 1000 })
    scope.deadlineIn(1)
    const socket = await scope.run(() => openSocket())
    await new Promise((resolve) => setTimeout(resolve, 5))
    setTimeout(() => socket.destroy(), 30)
    assert.deepEqual(await scope.end(), [])
  })

  test('without a deadline, settleMs is the bound, as before', async () => {
    const scope = track({ root: ROOT, settleMs: 1000 })
    const socket = await scope.run(() => openSocket())
    setTimeout(() => socket.destroy(), 200)
    assert.deepEqual(await scope.end(), [])
  })

  test('deadlineIn(0) and deadlineIn(Infinity) mean no timeout', () => {
    const scope = track({ root: ROOT })
    scope.deadlineIn(0)
    assert.equal(scope.deadline, undefined)
    scope.deadlineIn(Number.POSITIVE_INFINITY)
    assert.equal(scope.deadline, undefined)
    scope.deadlineIn(50)
    assert.ok(scope.deadline !== undefined && scope.deadline > performance.now())
    return scope.end()
  })
})
