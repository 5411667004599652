import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, describe, test } from 'node:test'
import vm from 'node:vm'
import { startServer } from '../fixtures/server.ts'
import {
  ErrorCodes,
  expectNoLeakedConnections,
  type Leak,
  NetsanError,
  resolveOptions,
  track,
} from '../src/index.ts'
import { matchesRule } from '../src/scope.ts'
import { ROOT } from './helpers.ts'

let srv: Awaited<ReturnType<typeof startServer>>
before(async () => {
  srv = await startServer()
})
after(() => srv.close())

function rejection(fn: () => unknown): { code: string; message: string } {
  try {
    fn()
  } catch (e) {
    assert.ok(e instanceof NetsanError, String(e))
    return { code: e.code, message: e.message }
  }
  assert.fail('expected a NetsanError')
}

async function openSocket(): Promise<net.Socket> {
  const socket = net.connect(Number(new URL(srv.url).port), '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  return socket
}

const leak = (frame: string): Leak => ({
  kind: 'socket',
  description: 'TCP socket to 127.0.0.1:1 (connected), never destroyed',
  stack: [`at ${frame}`],
  fix: 'socket.destroy()',
  owner: 't',
  count: 1,
})

describe('ignore rules: matching never depends on a RegExp’s state', () => {
  for (const flags of ['g', 'y', 'gy', 'gi']) {
    test(`a /…/${flags} rule matches every matching leak, however often it is asked`, () => {
      const { ignore } = resolveOptions({ ignore: [{ stack: new RegExp('lib/app', flags) }] }, {})
      const rule = ignore[0]!
      // `y` anchors at lastIndex 0 by itself: the frame must start with the pattern for it to match.
      const frame = flags.includes('y') ? 'lib/app/db.ts:1:1' : 'connect (lib/app/db.ts:1:1)'
      const hits = [1, 2, 3, 4].map(() => matchesRule(rule, { ...leak(''), stack: [frame] }))
      assert.deepEqual(hits, [true, true, true, true])
      const misses = [1, 2].map(() => matchesRule(rule, leak('connect (src/other.ts:1:1)')))
      assert.deepEqual(misses, [false, false])
    })
  }

  test('the user’s RegExp is neither changed nor read for state (lastIndex set before netsan sees it)', () => {
    const user = /127\.0\.0\.1/g
    user.lastIndex = 5
    const { ignore } = resolveOptions({ ignore: [{ origin: user }] }, {})
    const hit = matchesRule(ignore[0]!, { ...leak(''), origin: 'http://127.0.0.1:1' })
    assert.equal(hit, true)
    assert.equal(user.lastIndex, 5)
  })

  test('a RegExp from another realm (Jest’s sandbox, a vm context) is a RegExp', () => {
    const foreign = vm.runInNewContext('/lib\\/app/g') as RegExp
    assert.ok(!(foreign instanceof RegExp))
    const { ignore } = resolveOptions({ ignore: [{ stack: foreign }] }, {})
    assert.equal(matchesRule(ignore[0]!, leak('x (lib/app/a.ts:1:1)')), true)
    assert.equal(matchesRule(ignore[0]!, leak('x (lib/app/a.ts:1:1)')), true)
  })

  test('track(): four sockets matched by a /g rule are all ignored, none is failed', async () => {
    const scope = track({ root: ROOT, ignore: [{ kind: 'socket', origin: /127\.0\.0\.1/g }] })
    for (let i = 0; i < 4; i++) await openSocket()
    const result = await scope.finish()
    assert.deepEqual(result.leaks, [])
    assert.equal(result.suppressed.length, 4)
  })
})

describe('option values are shown as they were written', () => {
  const cases: [string, unknown, string][] = [
    ['settleMs', Number.NaN, 'received NaN;'],
    ['settleMs', Number.POSITIVE_INFINITY, 'received Infinity;'],
    ['settleMs', Number.NEGATIVE_INFINITY, 'received -Infinity;'],
    ['churn', { maxConnectionsPerOrigin: Number.NaN }, 'received {"maxConnectionsPerOrigin":NaN};'],
    ['kinds', ['body', Number.NaN], '"kinds[1]": received NaN;'],
    ['ignore', [{ origin: Number.POSITIVE_INFINITY }], '"ignore[0].origin": received Infinity;'],
    ['cleanup', undefined, ''],
    ['report', 12n, 'received 12n;'],
    ['mode', Symbol('x'), 'received Symbol(x);'],
  ]
  for (const [key, value, expected] of cases) {
    test(`${key}: ${String(typeof value === 'object' ? JSON.stringify(value) : String(value))}`, () => {
      if (expected === '') {
        assert.doesNotThrow(() => resolveOptions({ [key]: value }, {}))
        return
      }
      const e = rejection(() => resolveOptions({ [key]: value }, {}))
      assert.equal(e.code, ErrorCodes.INVALID_OPTION)
      assert.ok(e.message.includes(expected), e.message)
      assert.ok(!e.message.includes('null'), e.message)
    })
  }
})

describe('kinds: [] checks nothing, so it is refused', () => {
  test('in the config, with what to write instead', () => {
    const e = rejection(() => resolveOptions({ kinds: [] }, {}))
    assert.equal(e.code, ErrorCodes.INVALID_OPTION)
    assert.equal(
      e.message,
      `netsan: invalid value for option "kinds": received []; allowed: a non-empty array of body, request, socket, idle, server, http2, websocket, timer, child, watcher, worker, file, or the groups 'network', 'handles' (to check nothing, use mode: 'off')`,
    )
  })
})

describe('expectNoLeakedConnections(options) is validated like the config', () => {
  const cases: [unknown, string, string][] = [
    [
      { settleMs: -5 },
      ErrorCodes.INVALID_OPTION,
      'netsan: invalid value for option "settleMs" of expectNoLeakedConnections(): received -5; allowed: a number of milliseconds from 0 to 60000',
    ],
    [
      { settleMs: Number.NaN },
      ErrorCodes.INVALID_OPTION,
      'netsan: invalid value for option "settleMs" of expectNoLeakedConnections(): received NaN; allowed: a number of milliseconds from 0 to 60000',
    ],
    [
      { kinds: ['body', 'pipes'] },
      ErrorCodes.INVALID_OPTION,
      `netsan: invalid value for option "kinds[1]" of expectNoLeakedConnections(): received "pipes"; allowed: 'body', 'request', 'socket', 'idle', 'server', 'http2', 'websocket', 'timer', 'child', 'watcher', 'worker', 'file', 'network', 'handles'`,
    ],
    [
      { kinds: [] },
      ErrorCodes.INVALID_OPTION,
      `netsan: invalid value for option "kinds" of expectNoLeakedConnections(): received []; allowed: a non-empty array of body, request, socket, idle, server, http2, websocket, timer, child, watcher, worker, file, or the groups 'network', 'handles' (to check nothing, do not call it)`,
    ],
    [
      { timeout: 5 },
      ErrorCodes.UNKNOWN_OPTION,
      'netsan: unknown option "timeout" of expectNoLeakedConnections() (received 5); known options: kinds, settleMs',
    ],
    [
      'body',
      ErrorCodes.INVALID_OPTION,
      'netsan: invalid value for the options of expectNoLeakedConnections(): received "body"; allowed: an object { kinds?, settleMs? }',
    ],
  ]
  for (const [options, code, message] of cases) {
    test(`${JSON.stringify(options)} is refused before anything is checked`, async () => {
      const scope = track({ root: ROOT })
      try {
        await assert.rejects(
          scope.run(() => expectNoLeakedConnections(options as never)),
          (e: NetsanError) => {
            assert.equal(e.code, code)
            assert.equal(e.message, message)
            return true
          },
        )
      } finally {
        await scope.end()
      }
    })
  }

  test('settleMs is honoured: a socket destroyed 80 ms later is not a leak with settleMs 1000', async () => {
    const scope = track({ root: ROOT, settleMs: 0 })
    try {
      await scope.run(async () => {
        const socket = await openSocket()
        setTimeout(() => socket.destroy(), 80)
        await expectNoLeakedConnections({ settleMs: 1000 })
      })
    } finally {
      assert.deepEqual(await scope.end(), [])
    }
  })

  test('settleMs: 0 judges at once', async () => {
    const scope = track({ root: ROOT })
    let socket: net.Socket | undefined
    try {
      await scope.run(async () => {
        socket = await openSocket()
        setTimeout(() => socket?.destroy(), 80)
        await assert.rejects(expectNoLeakedConnections({ settleMs: 0 }), (e: NetsanError) => {
          return e.code === ErrorCodes.LEAKS
        })
      })
    } finally {
      socket?.destroy()
      await scope.end()
    }
  })
})
