/**
 * netsan is an invisible observer (DESIGN.md): for each client pattern, what the code under test can
 * observe — events fired, listener counts of the events whose listeners change Node's behaviour,
 * errors, socket reuse — is the same with netsan off, in `warn` and in `fail`. Only the verdict (the
 * leaks `scope.end()` returns) may differ. Where a pattern leaves a request in flight, the user's own
 * abort (off, warn) and netsan's cleanup (fail) must look the same to the client: retry logic must
 * not fire for either. Patterns whose outcome is the process's exit code run in a child process.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import http2 from 'node:http2'
import type { AddressInfo, Socket } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Agent, RetryAgent, request } from 'undici'
import { WebSocketServer, WebSocket as WsClient } from 'ws'
import { type Leak, resolveOptions, Session, track } from '../src/index.ts'
import { runIdFor } from '../src/run-id.ts'
import { closeRunDir, openRunDir } from '../src/run-summary.ts'
import { ROOT } from './helpers.ts'

type Mode = 'off' | 'warn' | 'fail'
const MODES: Mode[] = ['off', 'warn', 'fail']

/** Listeners whose mere presence changes what Node does with a request, response, server or socket. */
const SEMANTIC = ['response', 'upgrade', 'connect', 'information', 'error', 'timeout', 'data', 'readable']

function semanticListeners(emitter: NodeJS.EventEmitter): Record<string, number> {
  const out: Record<string, number> = {}
  for (const name of SEMANTIC) out[name] = emitter.listenerCount(name)
  return out
}

/** Records the names of the events an emitter fires, in order (the same instrument in every mode). */
function recordEvents(emitter: NodeJS.EventEmitter, into: string[], prefix = ''): void {
  const emit = emitter.emit
  emitter.emit = function (this: NodeJS.EventEmitter, name: string | symbol, ...args: unknown[]) {
    into.push(`${prefix}${String(name)}`)
    return emit.call(this, name, ...args)
  } as typeof emitter.emit
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms))

/** Resolves once `ready()` is true (polled): the server saw the request. */
async function until(ready: () => boolean): Promise<void> {
  while (!ready()) await tick(5)
}

/** The promise's value, or 'still pending' if it has not settled within `ms` (a retry that hangs). */
function within<T>(promise: Promise<T>, ms = 400): Promise<T | 'still pending'> {
  return Promise.race([
    promise,
    new Promise<'still pending'>((r) => setTimeout(() => r('still pending'), ms)),
  ])
}

interface Run<T> {
  observed: T
  leaks: Leak[] | undefined
}

/**
 * Runs `pattern` with netsan off, in `warn` and in `fail`. `abort` is the user's own abort of what
 * the pattern left in flight, fired where the scope ends: with netsan off and in `warn` (which
 * cleans nothing up); in `fail` netsan's cleanup is the only abort until the observation is made.
 */
async function inEveryMode<T>(
  pattern: (ctx: { abort: AbortSignal }) => Promise<{ observe: () => Promise<T> | T }>,
): Promise<Record<Mode, Run<T>>> {
  const runs = {} as Record<Mode, Run<T>>
  for (const mode of MODES) {
    const scope = mode === 'off' ? undefined : track({ root: ROOT, mode })
    const user = new AbortController()
    let leaks: Leak[] | undefined
    let started: { observe: () => Promise<T> | T }
    try {
      started = await pattern({ abort: user.signal })
    } finally {
      leaks = await scope?.end()
      if (mode !== 'fail') user.abort()
    }
    try {
      runs[mode] = { observed: await started.observe(), leaks }
    } finally {
      user.abort()
    }
  }
  return runs
}

function assertSameObservations<T>(runs: Record<Mode, Run<T>>): void {
  assert.deepEqual(runs.warn.observed, runs.off.observed, 'warn differs from off')
  assert.deepEqual(runs.fail.observed, runs.off.observed, 'fail differs from off')
}

let server: http.Server
let base: string
let hangs = 0
before(async () => {
  server = http.createServer((req, res) => {
    if (req.url?.startsWith('/hang')) {
      hangs++
      return
    }
    if (req.headers.upgrade) return
    const bytes = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('bytes') ?? 11)
    res.writeHead(200, { 'content-length': bytes }).end(Buffer.alloc(bytes, 97))
  })
  server.on('upgrade', (_req, socket: Socket) => {
    socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n')
    socket.on('error', () => {})
    setTimeout(() => socket.destroy(), 200).unref()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
after(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

describe('node:http client', { timeout: 15_000 }, () => {
  test('fire-and-forget http.get: Node dumps the response and the next request reuses the socket', async () => {
    const runs = await inEveryMode(async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      const events: string[] = []
      const first = http.get(`${base}/?bytes=11`, { agent })
      recordEvents(first, events)
      const listeners = semanticListeners(first)
      await tick(50)
      const second = await new Promise<string>((resolve) => {
        const req = http.get(`${base}/?bytes=11`, { agent }, (res) => {
          res.resume()
          res.on('end', () => resolve(req.socket === first.socket ? 'reused' : 'new socket'))
        })
        setTimeout(() => resolve('queued forever'), 500).unref()
      })
      agent.destroy()
      return {
        observe: () => ({ listeners, events, second, complete: first.res?.complete }),
      }
    })
    assert.equal(runs.off.observed.second, 'reused')
    assertSameObservations(runs)
    assert.deepEqual(runs.fail.leaks, [])
  })

  test("http.request with a 'response' listener: same events on the request and the response", async () => {
    const runs = await inEveryMode(async () => {
      const events: string[] = []
      let listeners: Record<string, number> = {}
      const body = await new Promise<number>((resolve) => {
        const req = http.request(`${base}/?bytes=2048`, (res) => {
          recordEvents(res, events, 'res:')
          let n = 0
          res.on('data', (c: Buffer) => (n += c.length))
          res.on('end', () => resolve(n))
        })
        recordEvents(req, events, 'req:')
        listeners = semanticListeners(req)
        req.end()
      })
      await tick()
      return { observe: () => ({ body, events: events.filter((e) => e !== 'res:data'), listeners }) }
    })
    assert.equal(runs.off.observed.body, 2048)
    assertSameObservations(runs)
  })

  test("http.request without a 'response' listener: a 1 MiB response is dumped, the socket goes back to the agent", async () => {
    const runs = await inEveryMode(async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      const req = http.request(`${base}/?bytes=1048576`, { agent })
      const events: string[] = []
      recordEvents(req, events)
      req.end()
      await new Promise((r) => req.once('close', r))
      await tick()
      const free = Object.values(agent.freeSockets).flat().length
      agent.destroy()
      return { observe: () => ({ events, free, listeners: semanticListeners(req) }) }
    })
    assert.equal(runs.off.observed.free, 1)
    assertSameObservations(runs)
    assert.deepEqual(runs.fail.leaks, [])
  })

  test("an upgrade nobody listens for: Node destroys the socket, with or without netsan's WebSocket tracking", async () => {
    const runs = await inEveryMode(async () => {
      const req = http.get(`${base}/ws`, { headers: { connection: 'Upgrade', upgrade: 'websocket' } })
      const events: string[] = []
      recordEvents(req, events)
      const listeners = semanticListeners(req)
      await new Promise((r) => req.once('close', r))
      const destroyed = req.socket?.destroyed
      return { observe: () => ({ events, listeners, destroyed }) }
    })
    assert.equal(runs.off.observed.destroyed, true)
    assertSameObservations(runs)
    assert.deepEqual(runs.fail.leaks, [])
  })

  test('an upgrade taken by a listener: the socket is the listener’s, and a WebSocket left open is reported', async () => {
    const runs = await inEveryMode(async () => {
      const req = http.get(`${base}/ws`, { headers: { connection: 'Upgrade', upgrade: 'websocket' } })
      const socket = await new Promise<Socket>((resolve) =>
        req.once('upgrade', (_res, s: Socket) => resolve(s)),
      )
      socket.on('error', () => {})
      return {
        observe: () => {
          const open = !socket.destroyed
          socket.destroy()
          return { open }
        },
      }
    })
    assert.deepEqual(runs.off.observed, { open: true })
    assert.deepEqual(runs.warn.observed, { open: true })
    assert.deepEqual(runs.fail.observed, { open: false }, 'cleanup closes the leaked WebSocket (the verdict)')
    assert.deepEqual(
      runs.fail.leaks?.map((l) => l.kind),
      ['websocket'],
    )
  })
})

describe('servers', { timeout: 15_000 }, () => {
  test('listen() on a port in use: the EADDRINUSE reaches the code under test, and no error listener is left', async () => {
    const port = Number(new URL(base).port)
    const runs = await inEveryMode(async () => {
      const second = http.createServer()
      let during: Record<string, number> = {}
      const error = await new Promise<string>((resolve) => {
        second.once('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)))
        second.listen(port, '127.0.0.1')
        during = semanticListeners(second)
      })
      const listeners = semanticListeners(second)
      return { observe: () => ({ error, listening: second.listening, during, listeners }) }
    })
    assert.equal(runs.off.observed.error, 'EADDRINUSE')
    assertSameObservations(runs)
    assert.deepEqual(runs.fail.leaks, [])
  })

  test('a server reused across tests (listen/close 15 times): no listener piles up, no MaxListenersExceededWarning', async () => {
    const runs = await inEveryMode(async () => {
      const warnings: string[] = []
      const onWarning = (w: Error) => warnings.push(w.name)
      process.on('warning', onWarning)
      const reused = http.createServer()
      for (let i = 0; i < 15; i++) {
        await new Promise<void>((resolve) => reused.listen(0, '127.0.0.1', resolve))
        await new Promise((resolve) => reused.close(resolve))
      }
      await tick()
      process.off('warning', onWarning)
      const counts = { ...semanticListeners(reused), close: reused.listenerCount('close') }
      return { observe: () => ({ warnings, counts }) }
    })
    assertSameObservations(runs)
    assert.deepEqual(runs.fail.leaks, [])
  })

  test('listen() on a port in use with no error listener still crashes the process with EADDRINUSE', () => {
    const port = Number(new URL(base).port)
    const script = `
      import http from 'node:http'
      import { track } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)}
      const mode = process.argv[1]
      if (mode !== 'off') track({ mode })
      http.createServer().listen(${port}, '127.0.0.1', () => console.log('LISTENING ON A USED PORT'))
      setTimeout(() => console.log('STILL ALIVE'), 300)
    `
    const outcomes = MODES.map((mode) => {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, mode], {
        encoding: 'utf8',
        timeout: 20_000,
      })
      return {
        status: r.status,
        eaddrinuse: /EADDRINUSE/.test(r.stderr),
        alive: /STILL ALIVE/.test(r.stdout),
      }
    })
    assert.deepEqual(outcomes[0], { status: 1, eaddrinuse: true, alive: false })
    assert.deepEqual(outcomes[1], outcomes[0], 'warn')
    assert.deepEqual(outcomes[2], outcomes[0], 'fail')
  })
})

/** What a retrying client does after an abort, by the rule each library documents. */
async function retrying<T>(
  attempt: () => Promise<T>,
  shouldRetry: (error: any) => boolean,
  tries = 3,
): Promise<{ attempts: number; error: { name: string; code: unknown } | undefined }> {
  let attempts = 0
  for (;;) {
    attempts++
    try {
      await attempt()
      return { attempts, error: undefined }
    } catch (error: any) {
      if (attempts >= tries || !shouldRetry(error))
        return { attempts, error: { name: error?.name, code: error?.code } }
    }
  }
}

/** ofetch (src/fetch.ts, onError): an error named 'AbortError' is "an active abort" and never retried. */
const ofetchRule = (error: any) => error?.name !== 'AbortError'
/** got (retry.errorCodes) and similar: retried on connection-level error codes only. */
const GOT_CODES = [
  'ETIMEDOUT',
  'ECONNRESET',
  'EADDRINUSE',
  'ECONNREFUSED',
  'EPIPE',
  'ENOTFOUND',
  'ENETUNREACH',
  'EAI_AGAIN',
]
const gotRule = (error: any) => GOT_CODES.includes(error?.code)

describe(
  'a request left in flight: netsan’s cleanup is a user abort to retrying clients',
  { timeout: 15_000 },
  () => {
    test('fetch with ofetch’s retry rule: one attempt, rejected with an AbortError', async () => {
      const runs = await inEveryMode(async ({ abort }) => {
        const before = hangs
        const outcome = retrying(() => fetch(`${base}/hang`, { signal: abort }), ofetchRule)
        await until(() => hangs > before)
        return { observe: async () => ({ outcome: await within(outcome), hits: hangs - before }) }
      })
      assert.deepEqual(runs.off.observed, {
        outcome: { attempts: 1, error: { name: 'AbortError', code: 20 } },
        hits: 1,
      })
      assertSameObservations(runs)
      assert.deepEqual(
        runs.fail.leaks?.map((l) => l.kind),
        ['request'],
      )
    })

    test('undici.request through undici’s RetryAgent: not retried, rejected with an AbortError', async () => {
      const runs = await inEveryMode(async ({ abort }) => {
        const before = hangs
        const dispatcher = new RetryAgent(new Agent(), { maxRetries: 3, minTimeout: 1, maxTimeout: 5 })
        const outcome = request(`${base}/hang`, { dispatcher, signal: abort }).then(
          () => undefined,
          (e: any) => ({ name: e?.name, code: e?.code }),
        )
        await until(() => hangs > before)
        return {
          observe: async () => {
            const error = await within(outcome)
            const hits = hangs - before
            dispatcher.destroy().catch(() => {})
            return { error, hits }
          },
        }
      })
      assert.deepEqual(runs.off.observed, { error: { name: 'AbortError', code: 20 }, hits: 1 })
      assertSameObservations(runs)
      assert.deepEqual(
        runs.fail.leaks?.map((l) => l.kind),
        ['request'],
      )
    })

    test('node:http with got’s retry rule (error codes): one attempt, AbortError with code ABORT_ERR', async () => {
      const runs = await inEveryMode(async ({ abort }) => {
        const before = hangs
        const outcome = retrying(
          () =>
            new Promise((resolve, reject) => {
              const req = http.get(`${base}/hang`, { signal: abort }, resolve)
              req.on('error', reject)
            }),
          gotRule,
        )
        await until(() => hangs > before)
        return { observe: async () => ({ outcome: await within(outcome), hits: hangs - before }) }
      })
      assert.deepEqual(runs.off.observed, {
        outcome: { attempts: 1, error: { name: 'AbortError', code: 'ABORT_ERR' } },
        hits: 1,
      })
      assertSameObservations(runs)
    })

    test('HTTP/2: a leaked session’s stream closes with no error, whoever ends it (nothing for retry logic to catch)', async () => {
      const h2 = http2.createServer()
      h2.on('stream', (stream) => stream.on('error', () => {}))
      await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve))
      try {
        const runs = await inEveryMode(async ({ abort }) => {
          const session = http2.connect(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`)
          abort.addEventListener('abort', () => session.destroy())
          const stream = session.request({ ':path': '/hang' })
          const outcome = new Promise<string>((resolve) => {
            stream.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`))
            stream.on('response', () => resolve('response'))
            stream.on('close', () => resolve('closed, no error'))
          })
          await tick(50)
          const listeners = semanticListeners(session)
          return { observe: async () => ({ outcome: await within(outcome), listeners }) }
        })
        assert.deepEqual(runs.off.observed.outcome, 'closed, no error')
        assertSameObservations(runs)
        assert.deepEqual(
          runs.fail.leaks?.map((l) => l.kind),
          ['http2'],
        )
      } finally {
        await new Promise((r) => h2.close(r))
      }
    })
  },
)

describe('ws', { timeout: 15_000 }, () => {
  test('a ws client opened, echoed and closed: same events, same close code', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)))
    await new Promise((r) => wss.once('listening', r))
    try {
      const runs = await inEveryMode(async () => {
        const ws = new WsClient(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`)
        const events: string[] = []
        recordEvents(ws, events)
        await new Promise((r) => ws.once('open', r))
        ws.send('ping')
        const echo = String(await new Promise((r) => ws.once('message', r)))
        ws.close(1000)
        const code = await new Promise((r) => ws.once('close', r))
        return { observe: () => ({ events, echo, code }) }
      })
      assert.equal(runs.off.observed.echo, 'ping')
      assertSameObservations(runs)
      assert.deepEqual(runs.fail.leaks, [])
    } finally {
      await new Promise((r) => wss.close(r))
    }
  })
})

describe('the worker scope (Vitest isolate: false)', { timeout: 15_000 }, () => {
  test('what a shared module makes while a file is imported is the worker’s: the file end neither reports nor closes it; the worker end warns', async () => {
    const session = new Session(resolveOptions({ root: ROOT }), { runner: 'node-test' })
    const file = session.startFile('a.test.ts')!
    // This test file stands for a module shared by the worker's files: it is not a per-file module.
    file.importing(() => false)
    const shared = await session.runIn(file, async () => {
      const s = http.createServer()
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
      return s
    })
    file.importing()
    const fileEnd = await session.endFile(file)
    assert.deepEqual(fileEnd?.result.leaks, [])
    assert.equal(shared.listening, true, 'the file end closed nothing')
    const workerEnd = await session.endWorker()
    session.dispose()
    assert.equal(workerEnd?.error, undefined, 'a warning, never a failure')
    assert.match(
      workerEnd?.warning ?? '',
      /netsan: modules shared by this worker's files left 1 network resource open/,
    )
    assert.match(workerEnd?.warning ?? '', /opened in: a\.test\.ts/)
    assert.equal(shared.listening, true, 'the worker end closed nothing')
    await new Promise((r) => shared.close(r))
  })

  test('the worker end rewrites the report with `workerEnd`; a run folder the reporter already removed is not made again', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-worker-end-'))
    const env = { ...process.env }
    const runDir = openRunDir(runIdFor(process.pid), env)
    const saved = process.env.NETSAN_RUN_DIR
    process.env.NETSAN_RUN_DIR = runDir
    const report = path.join(tmp, 'netsan.json')
    const session = new Session(resolveOptions({ root: ROOT, report }), { runner: 'node-test' })
    let shared: http.Server | undefined
    try {
      const file = session.startFile('a.test.ts')!
      file.importing(() => false)
      shared = await session.runIn(file, async () => {
        const s = http.createServer()
        await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
        return s
      })
      file.importing()
      await session.endFile(file)
      assert.equal(fs.readdirSync(runDir).length, 1, 'the file end wrote to the run folder')
      // Vitest tears an isolate: false worker down after its reporter printed the summary and removed the folder.
      closeRunDir(runDir, env)
      await session.endWorker()
      assert.equal(fs.existsSync(runDir), false, 'the run folder was not made again')
      const [name] = fs.readdirSync(tmp)
      const data = JSON.parse(fs.readFileSync(path.join(tmp, name!), 'utf8'))
      assert.deepEqual(
        data.workerEnd.leaks.map((l: Leak) => l.kind),
        ['server'],
      )
      assert.deepEqual(data.files[0].fileResult.leaks, [])
    } finally {
      session.dispose()
      if (saved === undefined) delete process.env.NETSAN_RUN_DIR
      else process.env.NETSAN_RUN_DIR = saved
      await new Promise((r) => shared?.close(r))
      fs.rmSync(tmp, { recursive: true, force: true })
      fs.rmSync(runDir, { recursive: true, force: true })
    }
  })

  test('what a finished file leaves behind is not the worker’s: a later resource is judged by no one, as before', async () => {
    const session = new Session(resolveOptions({ root: ROOT }), { runner: 'node-test' })
    const file = session.startFile('a.test.ts')!
    await session.endFile(file)
    const late = await session.runIn(file, async () => {
      const s = http.createServer()
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
      return s
    })
    const workerEnd = await session.endWorker()
    session.dispose()
    assert.equal(workerEnd, undefined)
    await new Promise((r) => late.close(r))
  })

  test('a per-file module (the test file, a setup file) keeps what it makes in the file', async () => {
    const session = new Session(resolveOptions({ root: ROOT, settleMs: 10 }), { runner: 'node-test' })
    const file = session.startFile('a.test.ts')!
    file.importing(() => true)
    const own = await session.runIn(file, async () => {
      const s = http.createServer()
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))
      return s
    })
    file.importing()
    const fileEnd = await session.endFile(file)
    await session.endWorker()
    session.dispose()
    assert.deepEqual(
      fileEnd?.result.leaks.map((l) => l.kind),
      ['server'],
    )
    assert.equal(own.listening, false, 'cleanup (mode fail) closed it')
  })
})
