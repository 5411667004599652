import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { startServer } from '../fixtures/server.ts'
import { formatText } from '../src/cli/format-text.ts'
import { summarize } from '../src/cli/summary.ts'
import { readReport, resolveOptions, Session } from '../src/index.ts'
import { ROOT } from './helpers.ts'

// Scopes and ownership (DESIGN.md): run ⊃ file ⊃ describe ⊃ test, ownership by async context. These
// drive the core as the adapters do: a session, its file, describe blocks and tests, code run in them.

let srv: Awaited<ReturnType<typeof startServer>>
before(async () => {
  srv = await startServer()
})
after(() => srv.close())

function session(options: Record<string, unknown> = {}): Session {
  return new Session(resolveOptions({ root: ROOT, settleMs: 50, ...options }), { runner: 'node-test' })
}

async function listen(): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end('ok'))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  return socket
}

describe('describe blocks', { timeout: 15_000 }, () => {
  test('what a block’s beforeAll opens and its afterAll forgets fails the block at its end, before the file’s afterAll', async () => {
    const s = session()
    const file = s.startFile('a.test.ts')!
    const block = s.startDescribe(file, 'outer > inner')!
    // beforeAll of the block
    const server = await s.runIn(block, listen)
    const test1 = s.startTest(block, 'outer > inner > uses it')!
    await s.endTest(test1)
    const end = await s.endDescribe(block)
    assert.ok(end?.error, 'mode fail: a LeakError')
    assert.match(end.error.message, /^netsan: describe "outer > inner" left 1 network resource open/)
    assert.deepEqual(
      end.result.leaks.map((l) => [l.kind, l.owner, l.ownerType]),
      [['server', 'outer > inner', 'describe']],
    )
    assert.equal(server.listening, false, 'cleanup closed it at the block’s end')
    const fileEnd = await s.endFile(file)
    s.dispose()
    assert.deepEqual(fileEnd?.result.leaks, [], 'the file itself did not leak')
    // The JSON report counts the block's leak as the file's, naming the block.
    assert.deepEqual(
      s.files[0]?.fileResult?.leaks.map((l) => [l.kind, l.owner, l.ownerType]),
      [['server', 'outer > inner', 'describe']],
    )
  })

  test('clean twin: what the block’s afterAll closes is never blamed, on the block, a test or the file', async () => {
    const s = session()
    const file = s.startFile('a.test.ts')!
    const block = s.startDescribe(file, 'outer')!
    const server = await s.runIn(block, listen)
    const socket = await s.runIn(block, () => connect((server.address() as AddressInfo).port))
    const t = s.startTest(block, 'outer > test')!
    await s.runIn(t, async () => {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      await res.text()
    })
    assert.deepEqual((await s.endTest(t))?.result.leaks, [])
    // afterAll of the block
    await s.runIn(block, async () => {
      socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    })
    assert.deepEqual((await s.endDescribe(block))?.result.leaks, [])
    assert.deepEqual((await s.endFile(file))?.result.leaks, [])
    s.dispose()
  })

  test('a test inside a block hands its file-level resources up past the block, still naming the test', async () => {
    const s = session()
    const file = s.startFile('a.test.ts')!
    const agent = await s.runIn(file, () => new http.Agent({ keepAlive: true })) // module top level
    const block = s.startDescribe(file, 'pool')!
    const t = s.startTest(block, 'pool > makes a request')!
    await s.runIn(t, async () => {
      await new Promise<void>((resolve, reject) =>
        http
          .get(`${srv.url}/small?bytes=10`, { agent }, (res) => res.resume().on('end', resolve))
          .on('error', reject),
      )
    })
    assert.deepEqual((await s.endTest(t))?.result.leaks, [])
    assert.deepEqual((await s.endDescribe(block))?.result.leaks, [], 'the file’s pool is not the block’s')
    const fileEnd = await s.endFile(file)
    s.dispose()
    assert.deepEqual(
      fileEnd?.result.leaks.map((l) => [l.kind, l.owner]),
      [['idle', 'pool > makes a request']],
    )
    assert.match(fileEnd?.error?.message ?? '', /opened in: pool > makes a request\n/)
    agent.destroy()
  })

  test('a pool the block creates keeps its tests’ connections: judged at the block’s end, not the file’s', async () => {
    const s = session()
    const file = s.startFile('a.test.ts')!
    const block = s.startDescribe(file, 'pool')!
    const agent = await s.runIn(block, () => new http.Agent({ keepAlive: true })) // beforeAll
    const t = s.startTest(block, 'pool > makes a request')!
    await s.runIn(t, async () => {
      await new Promise<void>((resolve, reject) =>
        http
          .get(`${srv.url}/small?bytes=10`, { agent }, (res) => res.resume().on('end', resolve))
          .on('error', reject),
      )
    })
    assert.deepEqual((await s.endTest(t))?.result.leaks, [])
    const end = await s.endDescribe(block)
    assert.deepEqual(
      end?.result.leaks.map((l) => [l.kind, l.owner]),
      [['idle', 'pool']],
    )
    assert.match(
      end?.error?.message ?? '',
      /in an http\.Agent created in this describe block and never destroyed/,
    )
    assert.deepEqual((await s.endFile(file))?.result.leaks, [])
    s.dispose()
  })

  test('a server a test in the block starts is judged at the block’s end, naming the test; closed by the block’s afterAll it passes', async () => {
    const s = session()
    const file = s.startFile('a.test.ts')!
    const block = s.startDescribe(file, 'servers')!
    const starts = s.startTest(block, 'servers > starts one')!
    const server = await s.runIn(starts, listen)
    assert.deepEqual((await s.endTest(starts))?.result.leaks, [], 'the next test may still use it')
    const uses = s.startTest(block, 'servers > uses it')!
    await s.runIn(uses, async () => {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
      await res.text()
    })
    assert.deepEqual((await s.endTest(uses))?.result.leaks, [])
    const end = await s.endDescribe(block)
    assert.deepEqual(
      end?.result.leaks.map((l) => [l.kind, l.owner, l.ownerType]),
      [['server', 'servers > starts one', undefined]],
    )
    assert.match(end?.error?.message ?? '', /opened in: servers > starts one\n/)
    assert.equal(server.listening, false, 'cleanup closed it at the block’s end')
    assert.deepEqual((await s.endFile(file))?.result.leaks, [])
    s.dispose()
  })

  test('clean twin: the block’s afterAll closes the server its test started', async () => {
    const s = session()
    const file = s.startFile('a.test.ts')!
    const block = s.startDescribe(file, 'servers')!
    const starts = s.startTest(block, 'servers > starts one')!
    const server = await s.runIn(starts, listen)
    assert.deepEqual((await s.endTest(starts))?.result.leaks, [])
    await s.runIn(block, () => new Promise((resolve) => server.close(resolve))) // afterAll of the block
    assert.deepEqual((await s.endDescribe(block))?.result.leaks, [])
    assert.deepEqual((await s.endFile(file))?.result.leaks, [])
    s.dispose()
  })

  test('nested blocks: the inner block ends first and reports only its own', async () => {
    const s = session()
    const file = s.startFile('a.test.ts')!
    const outer = s.startDescribe(file, 'outer')!
    const outerServer = await s.runIn(outer, listen)
    const inner = s.startDescribe(outer, 'outer > inner')!
    const innerServer = await s.runIn(inner, listen)
    const innerEnd = await s.endDescribe(inner)
    assert.deepEqual(
      innerEnd?.result.leaks.map((l) => l.owner),
      ['outer > inner'],
    )
    assert.equal(outerServer.listening, true, 'the outer block’s server is the outer block’s')
    await new Promise((resolve) => outerServer.close(resolve))
    assert.deepEqual((await s.endDescribe(outer))?.result.leaks, [])
    await s.endFile(file)
    s.dispose()
    assert.equal(innerServer.listening, false)
  })

  test('the JSON report and `netsan report` count the block’s leak as the file’s, naming the block', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-scopes-'))
    try {
      const s = session({ report: path.join(dir, 'netsan.json') })
      const file = s.startFile('a.test.ts')!
      const block = s.startDescribe(file, 'outer > inner')!
      await s.runIn(block, listen)
      const t = s.startTest(block, 'outer > inner > clean')!
      await s.endTest(t)
      await s.endDescribe(block)
      await s.endFile(file)
      s.dispose()
      const reports = fs.readdirSync(dir).map((f) => ({ source: f, report: readReport(path.join(dir, f)) }))
      const summary = summarize(reports, undefined)
      assert.deepEqual(
        summary.leaks.map((l) => [l.testFile, l.test, l.leak.kind]),
        [['a.test.ts', 'describe "outer > inner"', 'server']],
      )
      assert.equal(summary.tests, 1)
      assert.equal(summary.testsWithLeaks, 0, 'a block is not a test')
      const text = formatText(summary)
      assert.match(text, /✖ a\.test\.ts › describe "outer > inner"\n/)
      assert.match(text, /netsan: FAIL — 1 leak in 0 tests and at file level/)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  test('the block’s end settles within the hook timeout the adapter gives it, whatever settleMs says', async () => {
    const s = session({ settleMs: 5000 })
    const file = s.startFile('a.test.ts')!
    const block = s.startDescribe(file, 'slow')!
    await s.runIn(block, listen)
    block.deadlineIn(300) // the adapter: one hook timeout from the block's last afterAll
    const started = performance.now()
    const end = await s.endDescribe(block)
    const waited = performance.now() - started
    assert.equal(end?.result.leaks.length, 1)
    assert.ok(waited < 1500, `waited ${waited} ms, past the 300 ms timeout`)
    await s.endFile(file)
    s.dispose()
  })

  test('warn: the block’s leak is a warning and nothing is closed', async () => {
    const s = session({ mode: 'warn' })
    const file = s.startFile('a.test.ts')!
    const block = s.startDescribe(file, 'block')!
    const server = await s.runIn(block, listen)
    const end = await s.endDescribe(block)
    assert.equal(end?.error, undefined)
    assert.match(end?.warning ?? '', /netsan: describe "block" left 1 network resource open/)
    assert.equal(server.listening, true)
    await s.endFile(file)
    s.dispose()
    await new Promise((resolve) => server.close(resolve))
  })
})

describe('work a test leaves running', { timeout: 15_000 }, () => {
  test('a socket its async context opens after it ended is its own, judged at the next test’s end, which it does not fail', async () => {
    const s = session()
    const file = s.startFile('a.test.ts')!
    const server = await s.runIn(file, listen) // beforeAll
    const port = (server.address() as AddressInfo).port
    const one = s.startTest(file, 'one')!
    let late: net.Socket | undefined
    const opened = new Promise<void>((resolve) => {
      s.runIn(one, () => {
        // A retry loop sleeping between attempts: its next attempt comes after the test ended.
        setTimeout(() => {
          late = net.connect(port, '127.0.0.1') // MARK:late-socket
          late.once('connect', resolve)
        }, 30)
      })
    })
    assert.deepEqual((await s.endTest(one))?.result.leaks, [])
    const two = s.startTest(file, 'two')!
    await opened
    const twoEnd = await s.endTest(two)
    assert.deepEqual(twoEnd?.result.leaks, [], 'never blamed on the test that happened to run then')
    assert.equal(late?.destroyed, true, 'judged and cleaned up at the end of "two", before any afterAll')
    await new Promise((resolve) => server.close(resolve)) // afterAll
    const fileEnd = await s.endFile(file)
    s.dispose()
    assert.equal(fileEnd?.result.leaks.length, 1, JSON.stringify(fileEnd?.result.leaks))
    const leak = fileEnd!.result.leaks[0]!
    assert.equal(leak.kind, 'socket')
    assert.equal(leak.owner, 'one')
    assert.equal(leak.late?.during, 'two')
    assert.ok((leak.late?.ms ?? -1) >= 0)
    assert.match(
      fileEnd?.error?.message ?? '',
      /opened in: one — started \d+ ms after the test ended, while "two" ran/,
    )
    assert.ok(
      leak.stack.some((f) => f.includes('scopes.test.ts')),
      leak.stack.join('\n'),
    )
  })

  test('clean twin: late work that closes what it opens before the next test ends is no leak', async () => {
    const s = session()
    const file = s.startFile('a.test.ts')!
    const server = await s.runIn(file, listen)
    const port = (server.address() as AddressInfo).port
    const one = s.startTest(file, 'one')!
    const done = new Promise<void>((resolve) => {
      s.runIn(one, () => {
        setTimeout(async () => {
          const socket = await connect(port)
          socket.destroy()
          resolve()
        }, 20)
      })
    })
    await s.endTest(one)
    const two = s.startTest(file, 'two')!
    await done
    assert.deepEqual((await s.endTest(two))?.result.leaks, [])
    await new Promise((resolve) => server.close(resolve))
    assert.deepEqual((await s.endFile(file))?.result.leaks, [])
    s.dispose()
  })

  test('a late request still in flight at the next test’s end names its test and how late it started', async () => {
    const s = session()
    const file = s.startFile('a.test.ts')!
    const one = s.startTest(file, 'one')!
    const started = new Promise<void>((resolve) => {
      s.runIn(one, () => {
        void (async () => {
          await sleep(20)
          resolve()
          await fetch(`${srv.url}/hang`).catch(() => {}) // un-awaited chain
        })()
      })
    })
    await s.endTest(one)
    const two = s.startTest(file, 'two')!
    await started
    await sleep(5)
    assert.deepEqual((await s.endTest(two))?.result.leaks, [])
    const fileEnd = await s.endFile(file)
    s.dispose()
    assert.deepEqual(
      fileEnd?.result.leaks.map((l) => [l.kind, l.owner, l.late?.during]),
      [['request', 'one', 'two']],
    )
  })
})
