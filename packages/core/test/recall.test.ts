// The leaks of issue 14 that netsan used to miss: node:http responses with no body bytes, npm undici's
// own fetch, MockAgent through npm undici's fetch and request, and request bodies never finished.
// Each leaking case has its fixed twin.
import assert from 'node:assert/strict'
import http from 'node:http'
import { Readable, Writable } from 'node:stream'
import { after, before, describe, test } from 'node:test'
import {
  Agent,
  getGlobalDispatcher,
  MockAgent,
  request,
  setGlobalDispatcher,
  fetch as undiciFetch,
} from 'undici'
import { cancelViaUndiciFetch, statusViaUndiciFetch, textViaUndiciFetch } from '../fixtures/app/client.ts'
import { startServer } from '../fixtures/server.ts'
import { KIND_WORDS, track } from '../src/index.ts'
import { assertCreatedAt, only, ROOT } from './helpers.ts'

let srv: Awaited<ReturnType<typeof startServer>>
before(async () => {
  srv = await startServer()
})
after(() => srv.close())

const APP_CLIENT = new URL('../fixtures/app/client.ts', import.meta.url).href
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** One request on `agent`; the response is handed over, never read. */
function send(url: string, method: string, agent: http.Agent, headers = {}): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    http.request(url, { method, agent, headers }, resolve).on('error', reject).end() // MARK:empty-body
  })
}

/** Whether a request on `agent` gets its response within `ms` (it queues behind a held socket). */
function served(url: string, agent: http.Agent, ms = 300): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      clearTimeout(timer)
      res.resume()
      resolve(true)
    })
    const timer = setTimeout(() => {
      req.on('error', () => {}).destroy()
      resolve(false)
    }, ms)
  })
}

describe('node:http responses with no body bytes', () => {
  const CASES = [
    ['HEAD', 'HEAD', '/x?bytes=10', 200],
    ['204', 'GET', '/nocontent', 204],
    ['304', 'GET', '/notmodified', 304],
    ['content-length: 0', 'GET', '/x?bytes=0', 200],
    ['chunked with no chunk', 'GET', '/chunked-empty', 200],
  ] as const

  for (const [name, method, path, status] of CASES) {
    test(`${name}: a response never consumed keeps its socket, a body leak at the request line`, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      // A test inside a file: the agent's idle socket is the file's to judge, the body the test's.
      const file = track({ root: ROOT })
      try {
        const scope = file.track('test')
        const res = await send(`${srv.url}${path}`, method, agent)
        assert.equal(res.statusCode, status)
        // What the leak costs: the next request on the agent waits for the socket.
        assert.equal(await served(`${srv.url}/x?bytes=1`, agent, 100), false)
        const leak = only(await scope.end(), 'body')
        assert.equal(
          leak.description.replace(/:\d+\//, ':PORT/'),
          `${method} http://127.0.0.1:PORT${path} → ${status}, empty body never consumed, holding its socket`,
        )
        assert.match(leak.fix, /res\.resume\(\)/)
        assertCreatedAt(leak, import.meta.url, 'MARK:empty-body')
        // Cleanup resumed it: the socket is free again.
        assert.equal(await served(`${srv.url}/x?bytes=1`, agent), true)
      } finally {
        agent.destroy()
        await file.end()
      }
    })

    test(`${name}: fixed, the response resumed`, async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      const file = track({ root: ROOT })
      try {
        const scope = file.track('test')
        const res = await send(`${srv.url}${path}`, method, agent)
        res.resume()
        assert.deepEqual(await scope.end(), [])
        assert.equal(await served(`${srv.url}/x?bytes=1`, agent), true)
      } finally {
        agent.destroy()
        await file.end()
      }
    })
  }

  test('clean: nobody listens for the response, so Node dumps it (netsan must not stop that)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
    const file = track({ root: ROOT })
    try {
      const scope = file.track('test')
      const req = http.request(`${srv.url}/nocontent`, { agent })
      req.end()
      await new Promise((r) => req.once('close', r))
      assert.deepEqual(await scope.end(), [])
      assert.equal(await served(`${srv.url}/x?bytes=1`, agent), true)
    } finally {
      agent.destroy()
      await file.end()
    }
  })

  test('clean: an unread empty response whose connection is closed holds nothing (supertest HEAD)', async () => {
    const agent = new http.Agent({ keepAlive: true })
    try {
      const scope = track({ root: ROOT })
      const res = await send(`${srv.url}/x?bytes=10`, 'HEAD', agent, { connection: 'close' })
      assert.equal(res.statusCode, 200)
      assert.deepEqual(await scope.end(), [])
    } finally {
      agent.destroy()
    }
  })
})

describe("npm undici's own fetch", () => {
  test('a 2 KiB body that app code never read is a body leak at its fetch line', async () => {
    const scope = track({ root: ROOT })
    assert.equal(await statusViaUndiciFetch(`${srv.url}/small?bytes=2048`), 200)
    const leak = only(await scope.end(), 'body')
    assert.match(
      leak.description,
      /^GET http:\/\/127\.0\.0\.1:\d+\/small\?bytes=2048 → 200, 2048-byte body never read$/,
    )
    assertCreatedAt(leak, APP_CLIENT, 'MARK:app-undici-fetch')
  })

  test('fixed: the body read', async () => {
    const scope = track({ root: ROOT })
    assert.equal((await textViaUndiciFetch(`${srv.url}/small?bytes=2048`)).length, 2048)
    assert.deepEqual(await scope.end(), [])
  })

  test('fixed: the body cancelled', async () => {
    const scope = track({ root: ROOT })
    assert.equal(await cancelViaUndiciFetch(`${srv.url}/small?bytes=2048`), 200)
    assert.deepEqual(await scope.end(), [])
  })

  test('through its own Agent: a leak; read: clean', async () => {
    const file = track({ root: ROOT })
    const dispatcher = new Agent()
    try {
      const scope = file.track('test')
      assert.equal(await statusViaUndiciFetch(`${srv.url}/small?bytes=2048`, { dispatcher }), 200)
      only(await scope.end(), 'body')
      const fixed = file.track('fixed')
      await textViaUndiciFetch(`${srv.url}/small?bytes=2048`, { dispatcher })
      assert.deepEqual(await fixed.end(), [])
    } finally {
      await dispatcher.close()
      await file.end()
    }
  })

  test('after a redirect: the final body is the one judged, once', async () => {
    const url = `${srv.url}/redirect?to=${encodeURIComponent('/small?bytes=2048')}`
    const scope = track({ root: ROOT })
    assert.equal(await statusViaUndiciFetch(url), 200)
    const leak = only(await scope.end(), 'body')
    assertCreatedAt(leak, APP_CLIENT, 'MARK:app-undici-fetch')
    const fixed = track({ root: ROOT })
    assert.equal((await textViaUndiciFetch(url)).length, 2048)
    assert.deepEqual(await fixed.end(), [])
  })

  test('two fetches redirected at once: each final body is judged with its own fetch', async () => {
    const url = `${srv.url}/redirect?to=${encodeURIComponent('/small?bytes=2048')}`
    const scope = track({ root: ROOT, bodies: 'all' })
    const first = undiciFetch(url) // MARK:redirect-a
    const second = undiciFetch(url) // MARK:redirect-b
    const [a, b] = await Promise.all([first, second])
    assert.equal(a.status, 200)
    assert.equal((await b.text()).length, 2048)
    assertCreatedAt(only(await scope.end(), 'body'), import.meta.url, 'MARK:redirect-a')
  })

  test("left in flight: cleanup rejects it with an AbortError, as the caller's own signal would", async () => {
    const scope = track({ root: ROOT })
    const pending = undiciFetch(`${srv.url}/hang`) // MARK:undici-fetch-hang
    const settled = pending.then(
      () => undefined,
      (e: unknown) => e as Error,
    )
    await tick(20)
    const leak = only(await scope.end(), 'request')
    assertCreatedAt(leak, import.meta.url, 'MARK:undici-fetch-hang')
    const error = await settled
    assert.equal(error?.name, 'AbortError')
    assert.match(error.message, /netsan ended a request that the test left in flight/)
  })

  test('clean: HEAD, 204 and 304 carry no body', async () => {
    const scope = track({ root: ROOT, bodies: 'all' })
    assert.equal(await statusViaUndiciFetch(`${srv.url}/x?bytes=10`, { method: 'HEAD' }), 200)
    assert.equal(await statusViaUndiciFetch(`${srv.url}/nocontent`), 204)
    assert.equal(await statusViaUndiciFetch(`${srv.url}/notmodified`), 304)
    assert.deepEqual(await scope.end(), [])
  })

  test("the test's own unread 2 KiB body: not a leak under bodies: 'app', a leak under 'all'", async () => {
    const scope = track({ root: ROOT })
    assert.equal((await undiciFetch(`${srv.url}/small?bytes=2048`)).status, 200)
    assert.deepEqual(await scope.end(), [])
    const all = track({ root: ROOT, bodies: 'all' })
    assert.equal((await undiciFetch(`${srv.url}/small?bytes=2048`)).status, 200) // MARK:test-undici-fetch
    assertCreatedAt(only(await all.end(), 'body'), import.meta.url, 'MARK:test-undici-fetch')
  })
})

describe('small bodies read only partly', () => {
  // A reader that takes the first chunk and walks away: with a small body the connection is free, but
  // the same code pins one in production, where the rest of a large body never arrives.
  async function firstChunk(body: ReadableStream<Uint8Array> | null): Promise<void> {
    await body?.getReader().read()
  }
  async function toTheEnd(body: ReadableStream<Uint8Array> | null): Promise<void> {
    const reader = body!.getReader()
    while (!(await reader.read()).done) {}
  }

  test('global fetch: read partly is a body leak; read to the end it is clean', async () => {
    const scope = track({ root: ROOT, bodies: 'all' })
    const res = await fetch(`${srv.url}/small?bytes=2048`) // MARK:partly-fetch
    await firstChunk(res.body)
    const leak = only(await scope.end(), 'body')
    assert.match(leak.description, /→ 200, 2048-byte body read only partly$/)
    assertCreatedAt(leak, import.meta.url, 'MARK:partly-fetch')
    const fixed = track({ root: ROOT, bodies: 'all' })
    await toTheEnd((await fetch(`${srv.url}/small?bytes=2048`)).body)
    assert.deepEqual(await fixed.end(), [])
  })

  test('clean: a body still being piped into a slow sink when the scope ends is waited for', async () => {
    const scope = track({ root: ROOT, bodies: 'all' })
    const res = await fetch(`${srv.url}/small?bytes=2048`)
    void res.body!.pipeTo(new WritableStream({ write: () => tick(20) }))
    const { body } = await request(`${srv.url}/small?bytes=2048`)
    body.pipe(
      new Writable({
        write(_chunk, _encoding, callback) {
          setTimeout(callback, 20)
        },
      }),
    )
    await tick(1)
    assert.deepEqual(await scope.end(), [])
  })

  test("npm undici's fetch: the same", async () => {
    const scope = track({ root: ROOT, bodies: 'all' })
    const res = await undiciFetch(`${srv.url}/small?bytes=2048`) // MARK:partly-undici-fetch
    await firstChunk(res.body as ReadableStream<Uint8Array>)
    const leak = only(await scope.end(), 'body')
    assert.match(leak.description, /→ 200, 2048-byte body read only partly$/)
    assertCreatedAt(leak, import.meta.url, 'MARK:partly-undici-fetch')
    const fixed = track({ root: ROOT, bodies: 'all' })
    await toTheEnd((await undiciFetch(`${srv.url}/small?bytes=2048`)).body as ReadableStream<Uint8Array>)
    assert.deepEqual(await fixed.end(), [])
  })

  test('undici.request: a body stream read partly is a body leak; read to the end it is clean', async () => {
    const scope = track({ root: ROOT, bodies: 'all' })
    const { body } = await request(`${srv.url}/small?bytes=2048`) // MARK:partly-request
    await new Promise((r) => body.once('readable', r))
    body.read(10)
    const leak = only(await scope.end(), 'body')
    assert.match(leak.description, /→ 200, body read only partly$/)
    assertCreatedAt(leak, import.meta.url, 'MARK:partly-request')
    const fixed = track({ root: ROOT, bodies: 'all' })
    const res = await request(`${srv.url}/small?bytes=2048`)
    for await (const _ of res.body) {
    }
    assert.deepEqual(await fixed.end(), [])
  })
})

describe('MockAgent through npm undici', () => {
  const ORIGIN = 'http://api.example.test'
  const USERS = 'x'.repeat(2048)

  /**
   * Runs `fn` in a test scope of a file scope made before the MockAgent (netsan sees dispatchers made
   * while it watches, as the runners' environments do for every test file), and ends both.
   */
  async function withMock(
    options: Parameters<typeof track>[0],
    fn: (mock: MockAgent, file: ReturnType<typeof track>) => Promise<void>,
  ): Promise<void> {
    const file = track({ root: ROOT, ...options })
    const mock = new MockAgent()
    mock.disableNetConnect()
    try {
      await fn(mock, file)
    } finally {
      await mock.close()
      assert.deepEqual(await file.end(), [])
    }
  }

  test('fetch: a mocked body ignored is a body leak at the fetch line; read, it is clean', () =>
    withMock({ bodies: 'all' }, async (mock, file) => {
      mock.get(ORIGIN).intercept({ path: '/users' }).reply(200, USERS).times(2)
      const scope = file.track('leaks')
      const res = await undiciFetch(`${ORIGIN}/users`, { dispatcher: mock }) // MARK:mock-fetch
      assert.equal(res.status, 200)
      const leak = only(await scope.end(), 'body')
      assert.equal(leak.description, `GET ${ORIGIN}/users → 200, body never read (mocked by MockAgent)`)
      assertCreatedAt(leak, import.meta.url, 'MARK:mock-fetch')
      const fixed = file.track('fixed')
      assert.equal((await (await undiciFetch(`${ORIGIN}/users`, { dispatcher: mock })).text()).length, 2048)
      assert.deepEqual(await fixed.end(), [])
    }))

  test('fetch from app code: a leak under the default bodies: app', () =>
    withMock({}, async (mock, file) => {
      mock.get(ORIGIN).intercept({ path: '/users' }).reply(200, USERS)
      const scope = file.track('leaks')
      assert.equal(await statusViaUndiciFetch(`${ORIGIN}/users`, { dispatcher: mock }), 200)
      assertCreatedAt(only(await scope.end(), 'body'), APP_CLIENT, 'MARK:app-undici-fetch')
    }))

  test('request: a mocked body ignored is a body leak at the request line; dumped, it is clean', () =>
    withMock({ bodies: 'all' }, async (mock, file) => {
      mock.get(ORIGIN).intercept({ path: '/users' }).reply(200, USERS).times(2)
      const scope = file.track('leaks')
      const { statusCode } = await request(`${ORIGIN}/users`, { dispatcher: mock }) // MARK:mock-request
      assert.equal(statusCode, 200)
      const leak = only(await scope.end(), 'body')
      assert.equal(leak.description, `GET ${ORIGIN}/users → 200, body never read (mocked by MockAgent)`)
      assertCreatedAt(leak, import.meta.url, 'MARK:mock-request')
      const fixed = file.track('fixed')
      const { body } = await request(`${ORIGIN}/users`, { dispatcher: mock })
      await body.dump()
      assert.deepEqual(await fixed.end(), [])
    }))

  test('request through setGlobalDispatcher(mock): the same', () =>
    withMock({ bodies: 'all' }, async (mock, file) => {
      mock.get(ORIGIN).intercept({ path: '/users' }).reply(200, USERS)
      const previous = getGlobalDispatcher()
      setGlobalDispatcher(mock)
      try {
        const scope = file.track('leaks')
        assert.equal((await request(`${ORIGIN}/users`)).statusCode, 200) // MARK:mock-global
        assertCreatedAt(only(await scope.end(), 'body'), import.meta.url, 'MARK:mock-global')
      } finally {
        setGlobalDispatcher(previous)
      }
    }))

  test("the MockAgent's MockPool used directly: pool.request() and dispatcher: pool", () =>
    withMock({ bodies: 'all' }, async (mock, file) => {
      const pool = mock.get(ORIGIN)
      pool.intercept({ path: '/users' }).reply(200, USERS).times(3)
      const scope = file.track('leaks')
      await pool.request({ origin: ORIGIN, path: '/users', method: 'GET' }) // MARK:pool-request
      await undiciFetch(`${ORIGIN}/users`, { dispatcher: pool }) // MARK:pool-fetch
      const leaks = await scope.end()
      assert.deepEqual(
        leaks.map((l) => l.kind),
        ['body', 'body'],
      )
      assertCreatedAt(leaks[0]!, import.meta.url, 'MARK:pool-request')
      assertCreatedAt(leaks[1]!, import.meta.url, 'MARK:pool-fetch')
      const fixed = file.track('fixed')
      const { body } = await pool.request({ origin: ORIGIN, path: '/users', method: 'GET' })
      await body.text()
      assert.deepEqual(await fixed.end(), [])
    }))

  test('a mocked reply that never comes is an in-flight request, which cleanup aborts', () =>
    withMock({}, async (mock, file) => {
      mock.get(ORIGIN).intercept({ path: '/slow' }).reply(200, 'late').delay(60_000)
      const scope = file.track('leaks')
      const pending = request(`${ORIGIN}/slow`, { dispatcher: mock }) // MARK:mock-slow
      const settled = pending.then(
        () => undefined,
        (e: unknown) => e as Error,
      )
      await tick(20)
      const leak = only(await scope.end(), 'request')
      assert.equal(leak.description, `GET ${ORIGIN}/slow, no response yet (mocked by MockAgent)`)
      assertCreatedAt(leak, import.meta.url, 'MARK:mock-slow')
      assert.equal((await settled)?.name, 'AbortError')
    }))

  test('clean: a mocked 204, and a mocked error', () =>
    withMock({ bodies: 'all' }, async (mock, file) => {
      mock.get(ORIGIN).intercept({ path: '/none' }).reply(204)
      mock.get(ORIGIN).intercept({ path: '/fails' }).replyWithError(new Error('mocked failure'))
      const scope = file.track('clean')
      assert.equal((await undiciFetch(`${ORIGIN}/none`, { dispatcher: mock })).status, 204)
      await assert.rejects(request(`${ORIGIN}/fails`, { dispatcher: mock }), /mocked failure/)
      assert.deepEqual(await scope.end(), [])
    }))

  test('a request the mock passes through to the network is tracked once, as a real one', () =>
    withMock({ bodies: 'all' }, async (mock, file) => {
      mock.enableNetConnect(new URL(srv.url).host)
      const scope = file.track('leaks')
      const { statusCode } = await request(`${srv.url}/small?bytes=2048`, { dispatcher: mock }) // MARK:passthrough
      assert.equal(statusCode, 200)
      const leak = only(await scope.end(), 'body')
      assert.match(
        leak.description,
        /^GET http:\/\/127\.0\.0\.1:\d+\/small\?bytes=2048 → 200, body never read \(buffered whole\)$/,
      )
      assertCreatedAt(leak, import.meta.url, 'MARK:passthrough')
    }))
})

describe('request bodies never finished', () => {
  test('node:http: req.end() never called is an in-flight request that says so', async () => {
    const scope = track({ root: ROOT })
    const req = http.request(`${srv.url}/upload`, { method: 'POST' }) // MARK:no-end
    req.on('error', () => {})
    req.write('partial')
    await tick(30)
    const leak = only(await scope.end(), 'request')
    assert.match(
      leak.description,
      /^POST http:\/\/127\.0\.0\.1:\d+\/upload, request body never finished \(req\.end\(\) never called\), no response yet$/,
    )
    assert.match(leak.fix, /req\.end\(\)/)
    assertCreatedAt(leak, import.meta.url, 'MARK:no-end')
  })

  test('node:http: fixed, the body ended and the response read', async () => {
    const scope = track({ root: ROOT })
    const res = await new Promise<http.IncomingMessage>((resolve) => {
      const req = http.request(`${srv.url}/upload`, { method: 'POST' }, resolve)
      req.end('whole')
    })
    res.resume()
    await new Promise((r) => res.once('end', r))
    assert.deepEqual(await scope.end(), [])
  })

  test('undici.request: a body stream that never ends is an in-flight request that says so', async () => {
    const body = new Readable({ read() {} })
    body.push('partial')
    const scope = track({ root: ROOT })
    const pending = request(`${srv.url}/upload`, { method: 'POST', body }) // MARK:undici-no-end
    // Cleanup aborts it: its rejection is expected.
    const settled = pending.catch((e: unknown) => e)
    await tick(30)
    const leak = only(await scope.end(), 'request')
    assert.match(
      leak.description,
      /^POST http:\/\/127\.0\.0\.1:\d+\/upload, request body never finished \(its stream never ended\), no response yet$/,
    )
    assert.match(leak.fix, /end the request body/)
    assertCreatedAt(leak, import.meta.url, 'MARK:undici-no-end')
    assert.equal(((await settled) as Error).name, 'AbortError')
    body.destroy()
  })

  test('undici.request: fixed, the body stream ended', async () => {
    const body = new Readable({ read() {} })
    body.push('whole')
    body.push(null)
    const scope = track({ root: ROOT })
    const res = await request(`${srv.url}/upload`, { method: 'POST', body })
    await res.body.text()
    assert.deepEqual(await scope.end(), [])
  })

  test('fetch: a ReadableStream body never closed is an in-flight request that says so', async () => {
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('partial'))
      },
    })
    const init = { method: 'POST', body: stream, duplex: 'half' } as RequestInit
    const scope = track({ root: ROOT })
    const pending = fetch(`${srv.url}/upload`, init) // MARK:fetch-no-end
    await tick(30)
    const leak = only(await scope.end(), 'request')
    assert.match(leak.description, /request body never finished \(its stream never ended\), no response yet/)
    assertCreatedAt(leak, import.meta.url, 'MARK:fetch-no-end')
    await pending.catch(() => {})
  })
})

test('the kind words are the ones the report prints', () => {
  assert.equal(KIND_WORDS.body, 'unconsumed response body')
})
