import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { framed, lineOf, runVitest, type VitestRun } from './run-vitest.ts'

// What the reports say, on real Vitest runs of the messages suite: a server whose close() still waits
// for a connection, servers that outlive the test that started them, and pooled connections that name
// the line that created their pool.
let run: VitestRun
before(async () => {
  run = await runVitest('messages')
})

const at = (file: string, marker: string) => `${lineOf('messages', file, marker)}`

describe('vitest-environment-netsan on real Vitest (messages suite)', () => {
  test('exactly the leaking pool tests fail; the server files fail at their end, their tests pass', () => {
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(run.failed, ['http.Agent pool leaks', 'undici pool leaks'])
    const status = Object.fromEntries([...run.files].map(([name, f]) => [name, f.status]))
    assert.deepEqual(status, {
      'pool.test.ts': 'failed',
      'server-closing-fixed.test.ts': 'passed',
      'server-closing.test.ts': 'failed',
      'server-forgotten.test.ts': 'failed',
      'server-shared.test.ts': 'passed',
    })
  })

  test('a server whose close() waits: when close() was called, the connection it waits for and its request', () => {
    const file = run.files.get('server-closing.test.ts')!
    assert.match(
      file.message,
      /✖ listening server — HTTP server on 127\.0\.0\.1:\d+, close\(\) called \d+ ms ago but still waiting for 1 connection: from 127\.0\.0\.1:\d+, serving GET \/events \(response not ended\)\n/,
    )
    assert.doesNotMatch(file.message, /not yet bound|never closed/)
    assert.ok(framed(file.message, at('server-closing.test.ts', '// LEAK closing')), file.message)
    // listen() is called in a helper: the line that created the server, with its handler, follows.
    assert.ok(
      framed(
        file.message,
        `    server created (its handler):\n      at ${at('server-closing.test.ts', '// HANDLER closing')}`,
      ),
      file.message,
    )
    assert.ok(
      file.message.includes('opened in: closes a server while a response still streams'),
      file.message,
    )
    assert.ok(
      file.message.includes(
        'fix: end the response each handler leaves open (res.end()), or call server.closeAllConnections() to drop it',
      ),
      file.message,
    )
    assert.equal(run.tests.get('closes a server while a response still streams')?.status, 'passed')
    assert.equal(run.tests.get('closes a server after its response ended')?.status, 'passed')
  })

  test('a server started in one test, used by the next and closed in afterAll: green', () => {
    assert.equal(run.tests.get('starts the target server')?.status, 'passed')
    assert.equal(run.tests.get('uses the target server')?.status, 'passed')
  })

  test('a server started in a test and never closed: the file fails at its end, naming the test and the line', () => {
    const file = run.files.get('server-forgotten.test.ts')!
    assert.ok(file.message.startsWith('netsan: file "server-forgotten.test.ts" left 1 network resource open'))
    assert.match(file.message, /✖ listening server — HTTP server on 127\.0\.0\.1:\d+, never closed\n/)
    assert.ok(framed(file.message, at('server-forgotten.test.ts', '// LEAK forgotten')), file.message)
    assert.ok(file.message.includes('opened in: starts a server and forgets it'), file.message)
    // Judged at the file's end, it still served the next test: cleanup no longer cuts it off mid-file.
    assert.equal(run.tests.get('starts a server and forgets it')?.status, 'passed')
    assert.equal(run.tests.get('uses the server')?.status, 'passed')
  })

  for (const [name, pool, request, fn] of [
    ['undici pool leaks', '// POOL undici', '// REQUEST undici', ['makeClient', 'getText']],
    ['http.Agent pool leaks', '// POOL http', '// REQUEST http', ['makeHttpAgent', 'getVia']],
  ] as const) {
    test(`${name}: the line that created the pool, then its first request, each labelled`, () => {
      const message = run.tests.get(name)?.failureMessages[0] ?? ''
      assert.match(message, new RegExp(`^LeakError: netsan: test "${name}" left 1 network resource open`))
      assert.ok(framed(message, `    pool created:\n      at ${fn[0]} (${at('pool.test.ts', pool)}`), message)
      assert.ok(
        framed(message, `    first request:\n      at ${fn[1]} (${at('pool.test.ts', request)}`),
        message,
      )
      assert.ok(message.indexOf('pool created:') < message.indexOf('first request:'))
      // Vitest's code frame is at the pool's line: where the fix goes.
      assert.ok(framed(run.output, `❯ ${fn[0]} ${at('pool.test.ts', pool)}`), run.output)
      assert.equal(run.tests.get(name.replace('leaks', 'fixed'))?.status, 'passed')
    })
  }
})
