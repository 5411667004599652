import assert from 'node:assert/strict'
import { before, describe, test } from 'node:test'
import { failedTests, fileResult, framed, type JestRun, lineOf, runJest, testResult } from './run-jest.ts'

// What the reports say, on a real Jest run of the messages suite: a server whose close() still waits
// for a connection, servers that outlive the test that started them, and pooled connections that name
// the line that created their pool.
let run: JestRun
before(async () => {
  run = await runJest('messages')
})

const at = (file: string, marker: string) => `${file}:${lineOf('messages', file, marker)}`

describe('jest-environment-netsan on real Jest (messages suite)', () => {
  test('exactly the leaking pool tests fail; the server files fail at their end, their tests pass', () => {
    assert.equal(run.code, 1, run.output)
    assert.deepEqual(failedTests(run), ['http.Agent pool leaks', 'undici pool leaks'])
    for (const [file, status] of [
      ['pool.test.js', 'failed'],
      ['server-closing.test.js', 'failed'],
      ['server-closing-fixed.test.js', 'passed'],
      ['server-forgotten.test.js', 'failed'],
      ['server-shared.test.js', 'passed'],
    ])
      assert.equal(fileResult(run, file!).status, status, `${file}: ${fileResult(run, file!).message}`)
  })

  test('a net server whose close() waits: when close() was called, the connection neither side ended', () => {
    const { message } = fileResult(run, 'server-closing.test.js')
    assert.match(
      message,
      /✖ listening server — TCP server on 127\.0\.0\.1:\d+, close\(\) called \d+ ms ago but still waiting for 1 connection: from 127\.0\.0\.1:\d+, never ended by the handler \(socket\.end\(\)\) nor by the client\n/,
    )
    assert.doesNotMatch(message, /not yet bound|closeAllConnections/)
    assert.ok(framed(message, at('server-closing.test.js', '// LEAK closing')), message)
    // listen() is called in a helper: the line that created the server, with its handler, follows.
    assert.ok(
      framed(
        message,
        `    server created (its handler):\n          at ${at('server-closing.test.js', '// HANDLER closing')}`,
      ),
      message,
    )
    assert.ok(message.includes('opened in: closes a server while a connection stays open'), message)
    assert.ok(
      message.includes("fix: end the socket its handler keeps (socket.end()) or destroy the client's"),
      message,
    )
    // The client end, a library's socket, is the file's too.
    assert.match(message, /✖ open socket — TCP socket to 127\.0\.0\.1:\d+ \(connected\), never destroyed/)
    assert.equal(
      testResult(run, 'server-closing.test.js', 'closes a server while a connection stays open').status,
      'passed',
    )
  })

  test('a server started in one test, used by the next and closed in afterAll: green', () => {
    for (const name of ['starts the target server', 'uses the target server'])
      assert.equal(testResult(run, 'server-shared.test.js', name).status, 'passed')
  })

  test('a server started in a test and never closed: the file fails at its end, naming the test and the line', () => {
    const { message } = fileResult(run, 'server-forgotten.test.js')
    assert.match(message, /netsan: file "server-forgotten\.test\.js" left 1 network resource open/)
    assert.match(message, /✖ listening server — HTTP server on 127\.0\.0\.1:\d+, never closed\n/)
    assert.ok(framed(message, at('server-forgotten.test.js', '// LEAK forgotten')), message)
    assert.ok(message.includes('opened in: starts a server and forgets it'), message)
    // Judged at the file's end, it still served the next test.
    for (const name of ['starts a server and forgets it', 'uses the server'])
      assert.equal(testResult(run, 'server-forgotten.test.js', name).status, 'passed')
  })

  for (const [name, pool, request, fn] of [
    ['undici pool leaks', '// POOL undici', '// REQUEST undici', ['makeClient', 'getText']],
    ['http.Agent pool leaks', '// POOL http', '// REQUEST http', ['makeHttpAgent', 'getVia']],
  ] as const) {
    test(`${name}: the line that created the pool, then its first request, each labelled`, () => {
      const [message = '', ...more] = testResult(run, 'pool.test.js', name).failureMessages
      assert.deepEqual(more, [])
      assert.match(message, new RegExp(`^LeakError: netsan: test "${name}" left 1 network resource open`))
      assert.ok(framed(message, `    pool created:\n      at ${fn[0]} (${at('pool.test.js', pool)}`), message)
      assert.ok(
        framed(message, `    first request:\n      at ${fn[1]} (${at('pool.test.js', request)}`),
        message,
      )
      // Jest's code frame is at the pool's line: where the fix goes.
      assert.match(run.output, new RegExp(`> ${lineOf('messages', 'pool.test.js', pool)} \\|.*${pool}`))
      assert.equal(testResult(run, 'pool.test.js', name.replace('leaks', 'fixed')).status, 'passed')
    })
  }
})
