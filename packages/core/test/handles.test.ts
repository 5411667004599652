import assert from 'node:assert/strict'
import { execFile, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, mock, test } from 'node:test'
import { setInterval as timersSetInterval } from 'node:timers'
import v8 from 'node:v8'
import vm from 'node:vm'
import { Worker } from 'node:worker_threads'
import { allowLeaks, exitWatch, resolveOptions, track } from '../src/index.ts'
import { assertCreatedAt, only, ROOT } from './helpers.ts'

const HANDLES = { root: ROOT, kinds: ['network', 'handles'] } as const
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

let dir: string
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-handles-'))
  fs.writeFileSync(path.join(dir, 'data.txt'), 'hello')
})
after(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('kinds option', () => {
  test('handle kinds are off by default; the groups network and handles expand', () => {
    assert.deepEqual(
      [...resolveOptions({}).kinds],
      ['body', 'request', 'socket', 'idle', 'server', 'http2', 'websocket'],
    )
    assert.deepEqual([...resolveOptions({ kinds: ['network', 'timer'] }).kinds].slice(-2), [
      'websocket',
      'timer',
    ])
    assert.deepEqual(
      [...resolveOptions({ kinds: ['handles'] }).kinds],
      ['timer', 'child', 'watcher', 'worker', 'file'],
    )
    assert.throws(
      () => resolveOptions({ kinds: ['timers'] }),
      /invalid value for option "kinds\[0\]": received "timers"; allowed: .*'timer'.*'network', 'handles'/,
    )
  })
})

describe('timer', () => {
  test('a setInterval never cleared is reported at its line, and cleared by cleanup', async () => {
    const scope = track(HANDLES)
    let ticks = 0
    const timer = setInterval(() => ticks++, 20) // MARK:interval
    const leak = only(await scope.end(), 'timer')
    assert.match(leak.description, /^setInterval\(fn, 20 ms\), never cleared$/)
    assert.match(leak.fix, /clearInterval/)
    assertCreatedAt(leak, import.meta.url, 'MARK:interval')
    assert.equal((timer as unknown as { _destroyed: boolean })._destroyed, true)
    const after = ticks
    await sleep(60)
    assert.equal(ticks, after)
  })

  test('fixed: a setInterval cleared', async () => {
    const scope = track(HANDLES)
    const timer = setInterval(() => {}, 20)
    await sleep(30)
    clearInterval(timer)
    assert.deepEqual(await scope.end(), [])
  })

  test('a setTimeout due later than settleMs is reported with when it is due', async () => {
    const scope = track(HANDLES)
    setTimeout(function refresh() {}, 5_000) // MARK:timeout
    const leak = only(await scope.end(), 'timer')
    assert.match(leak.description, /^setTimeout\(refresh, 5000 ms\), still pending \(due in 4\.\d s\)$/)
    assertCreatedAt(leak, import.meta.url, 'MARK:timeout')
  })

  test('a setTimeout due within settleMs is waited for, not reported', async () => {
    const scope = track(HANDLES)
    let fired = false
    setTimeout(() => {
      fired = true
    }, 40)
    const started = performance.now()
    assert.deepEqual(await scope.end(), [])
    assert.equal(fired, true)
    assert.ok(performance.now() - started < 100, 'waited for the timer, not the whole settleMs')
  })

  test("an unref'd timer is not a leak until it is ref()'d", async () => {
    const scope = track(HANDLES)
    setInterval(() => {}, 1000).unref()
    assert.deepEqual(await scope.end(), [])
    const again = track(HANDLES)
    const timer = setInterval(() => {}, 1000)
    timer.unref()
    timer.ref()
    only(await again.end(), 'timer')
  })

  test('a timeout re-armed from its own callback is one chain, reported where it started', async () => {
    const scope = track(HANDLES)
    let polls = 0
    const poll = () => {
      polls++
      setTimeout(poll, 10)
    }
    setTimeout(poll, 10) // MARK:chain
    await sleep(50)
    const leak = only(await scope.end(), 'timer')
    assert.match(
      leak.description,
      /^setTimeout\(poll, 10 ms\), re-armed \d+ times from its own callback, still pending/,
    )
    assert.match(leak.fix, /stop the loop/)
    assertCreatedAt(leak, import.meta.url, 'MARK:chain')
    const stopped = polls
    await sleep(40)
    assert.equal(polls, stopped, 'cleanup stopped the loop')
  })

  test('fixed: a retry loop that ends is not a leak', async () => {
    const scope = track(HANDLES)
    let tries = 0
    await new Promise<void>((resolve) => {
      const attempt = () => (++tries === 3 ? resolve() : setTimeout(attempt, 5))
      setTimeout(attempt, 5)
    })
    assert.deepEqual(await scope.end(), [])
  })

  test('setImmediate is waited for', async () => {
    const scope = track(HANDLES)
    setImmediate(() => {})
    assert.deepEqual(await scope.end(), [])
  })

  test('import { setInterval } from node:timers is tracked too', async () => {
    const scope = track(HANDLES)
    timersSetInterval(() => {}, 1000)
    only(await scope.end(), 'timer')
  })

  test('fake timers (node:test mock.timers) are neither reported nor break the check', async () => {
    const scope = track(HANDLES)
    mock.timers.enable({ apis: ['setInterval', 'setTimeout'] })
    try {
      setInterval(() => {}, 1000)
      setTimeout(() => {}, 5000)
      assert.deepEqual(await scope.end(), [])
    } finally {
      mock.timers.reset()
    }
  })

  test('allowLeaks and ignore keep a timer open and say so; cleanup leaves it alone', async () => {
    const scope = track(HANDLES)
    const inner = scope.track('t')
    const timer = setInterval(() => {}, 1000)
    inner.run(() => allowLeaks('timer', 'a heartbeat for the whole file'))
    assert.deepEqual(await inner.end(), [])
    assert.equal((timer as unknown as { _destroyed: boolean })._destroyed, false)
    clearInterval(timer)
    await scope.end()
    const ignoring = track({ ...HANDLES, ignore: [{ kind: 'timer', stack: 'handles.test.ts' }] })
    const ignored = setInterval(() => {}, 1000)
    const result = await ignoring.finish()
    clearInterval(ignored)
    assert.deepEqual(result.leaks, [])
    assert.equal(result.suppressed[0]?.by, 'ignore')
  })

  test('without the timer kind, nothing is wrapped', async () => {
    const original = globalThis.setInterval
    const scope = track({ root: ROOT })
    assert.equal(globalThis.setInterval, original)
    await scope.end()
    const on = track(HANDLES)
    assert.notEqual(globalThis.setInterval, original)
    assert.equal(globalThis.setInterval.name, 'setInterval')
    await on.end()
    assert.equal(globalThis.setInterval, original)
  })
})

describe('child', () => {
  const node = process.execPath
  test('a child process still running is reported with its command, and killed by cleanup', async () => {
    const scope = track(HANDLES)
    const child = spawn(node, ['-e', 'setTimeout(() => {}, 30000)', '--', '--token=s3cret']) // MARK:spawn
    const leak = only(await scope.end(), 'child')
    assert.match(
      leak.description,
      /-e setTimeout\(\(\) => \{\}, 30000\) -- --token=\*\*\* \(pid \d+\), still running$/,
    )
    assert.ok(!leak.description.includes('s3cret'))
    assertCreatedAt(leak, import.meta.url, 'MARK:spawn')
    await new Promise((r) => child.once('exit', r))
    assert.equal(child.signalCode, 'SIGTERM')
  })

  test('fixed: a child awaited to its end', async () => {
    const scope = track(HANDLES)
    await new Promise((resolve, reject) =>
      execFile(node, ['-e', '1'], (error) => (error ? reject(error) : resolve(undefined))),
    )
    assert.deepEqual(await scope.end(), [])
  })
})

describe('worker', () => {
  test('a Worker never terminated is reported, and terminated by cleanup', async () => {
    const scope = track(HANDLES)
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true }) // MARK:worker
    const leak = only(await scope.end(), 'worker')
    assert.match(leak.description, /^worker thread \d+, still running$/)
    assertCreatedAt(leak, import.meta.url, 'MARK:worker')
    await new Promise((r) => worker.once('exit', r))
  })

  test('fixed: a Worker terminated', async () => {
    const scope = track(HANDLES)
    const worker = new Worker('setInterval(() => {}, 1000)', { eval: true })
    await worker.terminate()
    assert.deepEqual(await scope.end(), [])
  })
})

describe('watcher', () => {
  test('fs.watch never closed', async () => {
    const scope = track(HANDLES)
    const watcher = fs.watch(dir) // MARK:watch
    const leak = only(await scope.end(), 'watcher')
    assert.equal(leak.description, `fs.watch(${JSON.stringify(dir)}), never closed`)
    assertCreatedAt(leak, import.meta.url, 'MARK:watch')
    assert.equal((watcher as unknown as { _handle: unknown })._handle, null)
  })

  test('fixed: fs.watch closed', async () => {
    const scope = track(HANDLES)
    fs.watch(dir).close()
    assert.deepEqual(await scope.end(), [])
  })

  test('fs.watchFile never unwatched; another listener on the same file is its own', async () => {
    const file = path.join(dir, 'data.txt')
    const scope = track(HANDLES)
    const kept = () => {}
    const dropped = () => {}
    fs.watchFile(file, { interval: 50 }, kept) // MARK:watchFile
    fs.watchFile(file, { interval: 50 }, dropped)
    fs.unwatchFile(file, dropped)
    const leak = only(await scope.end(), 'watcher')
    assert.match(leak.description, /^fs\.watchFile\(".*data\.txt"\), never unwatched$/)
    assertCreatedAt(leak, import.meta.url, 'MARK:watchFile')
  })

  test('fs.promises.watch iterated and never ended; fixed: its loop broken', async () => {
    const scope = track(HANDLES)
    const events = fs.promises.watch(dir) // MARK:promises-watch
    const first = events.next()
    await sleep(20)
    fs.writeFileSync(path.join(dir, 'data.txt'), 'changed')
    await first
    const leak = only(await scope.end(), 'watcher')
    assertCreatedAt(leak, import.meta.url, 'MARK:promises-watch')
    await assert.rejects(events.next(), { name: 'AbortError' })

    const fixed = track(HANDLES)
    setTimeout(() => fs.writeFileSync(path.join(dir, 'data.txt'), 'again'), 20)
    for await (const _ of fs.promises.watch(dir)) break
    assert.deepEqual(await fixed.end(), [])
  })
})

describe('file', () => {
  test('an fd from fs.openSync never closed; a FileHandle never closed', async () => {
    const scope = track(HANDLES)
    const fd = fs.openSync(path.join(dir, 'data.txt'), 'r') // MARK:openSync
    const handle = await fs.promises.open(path.join(dir, 'data.txt')) // MARK:open-handle
    const leaks = await scope.end()
    assert.deepEqual(
      leaks.map((l) => l.kind),
      ['file', 'file'],
    )
    assert.match(leaks[0]!.description, new RegExp(`data\\.txt" \\(fd ${fd}\\), never closed$`))
    assertCreatedAt(leaks[0]!, import.meta.url, 'MARK:openSync')
    assert.match(leaks[1]!.description, /^FileHandle of ".*data\.txt" \(fd \d+\), never closed$/)
    assertCreatedAt(leaks[1]!, import.meta.url, 'MARK:open-handle')
    await sleep(10)
    assert.equal(handle.fd, -1, 'cleanup closed the FileHandle')
    assert.throws(() => fs.fstatSync(fd), { code: 'EBADF' })
  })

  test('fixed: fds and FileHandles closed; fs.readFileSync leaves nothing', async () => {
    const scope = track(HANDLES)
    fs.closeSync(fs.openSync(path.join(dir, 'data.txt'), 'r'))
    await (await fs.promises.open(path.join(dir, 'data.txt'))).close()
    fs.readFileSync(path.join(dir, 'data.txt'))
    await new Promise((resolve) => fs.open(path.join(dir, 'data.txt'), (_e, fd) => fs.close(fd, resolve)))
    assert.deepEqual(await scope.end(), [])
  })

  test('a read stream never read is a file stream leak, with its own fix', async () => {
    const scope = track(HANDLES)
    const stream = fs.createReadStream(path.join(dir, 'data.txt')) // MARK:stream
    await new Promise((r) => stream.once('open', r))
    const leak = only(await scope.end(), 'file')
    assert.match(leak.description, /^file stream of ".*data\.txt" \(fd \d+\), never closed$/)
    assert.match(leak.fix, /stream\.destroy\(\)/)
    assertCreatedAt(leak, import.meta.url, 'MARK:stream')
  })
})

describe('ownership', () => {
  test('what a file scope creates and closes is never a test leak; concurrent tests own their own', async () => {
    const file = track(HANDLES)
    const shared = setInterval(() => {}, 1000)
    const [a, b] = [file.track('a'), file.track('b')]
    const aLeaks = a.run(async () => {
      setInterval(() => {}, 1000) // MARK:owned-a
      await sleep(5)
      return a.end()
    })
    const bLeaks = b.run(async () => {
      await sleep(5)
      return b.end()
    })
    const [la, lb] = await Promise.all([aLeaks, bLeaks])
    assertCreatedAt(only(la, 'timer'), import.meta.url, 'MARK:owned-a')
    assert.deepEqual(lb, [])
    clearInterval(shared)
    assert.deepEqual(await file.end(), [])
  })
})

describe('installation', () => {
  test('with the default kinds, track() loads none of child_process, worker_threads, fs/promises', () => {
    const entry = new URL('../src/index.ts', import.meta.url).href
    const code = `
      const mods = ['child_process', 'worker_threads', 'internal/fs/promises', 'internal/fs/watchers']
      const loaded = () => mods.filter((m) => process.moduleLoadList.includes('NativeModule ' + m))
      const before = loaded()
      const { track } = await import(${JSON.stringify(entry)})
      const fs = process.getBuiltinModule('node:fs')
      const originals = [globalThis.setTimeout, fs.watch, fs.openSync]
      const scope = track()
      const same = [globalThis.setTimeout, fs.watch, fs.openSync].every((f, i) => f === originals[i])
      await scope.end()
      console.log(JSON.stringify({ added: loaded().filter((m) => !before.includes(m)), same }))`
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)!), { added: [], same: true })
  })
})

describe('file, left to the garbage collector', () => {
  test('a FileHandle collected without close() is still a leak, and netsan does not keep it alive', async () => {
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    const scope = track(HANDLES)
    const probe = await (async () => {
      const handle = await fs.promises.open(path.join(dir, 'data.txt')) // MARK:gc-handle
      return new WeakRef(handle)
    })()
    await sleep(5)
    gc()
    await sleep(5)
    assert.equal(probe.deref(), undefined, 'collected: netsan holds no strong reference')
    const leak = only(await scope.end(), 'file')
    assert.match(leak.description, /never closed \(Node closed it when it was garbage-collected\)$/)
    assertCreatedAt(leak, import.meta.url, 'MARK:gc-handle')
  })
})

describe('exit diagnosis', () => {
  const heading = (n: number) => `held by ${n}`
  // What the test runner itself holds (its stdio pipes), as an adapter takes it when the first file starts.
  before(() => exitWatch().fileStarted())
  test('names a recorded handle with its line and test, and closes it with cleanup on', async () => {
    const options = resolveOptions(HANDLES)
    const file = track(HANDLES)
    const t = file.track('keeps a poller')
    const timer = t.run(() => {
      allowLeaks('timer', 'on purpose')
      return setInterval(() => {}, 1000) // MARK:exit-allowed
    })
    await t.end()
    await file.end()
    const { text, closed } = exitWatch().diagnose({ heading, ...options, root: ROOT })
    const line = fs
      .readFileSync(new URL(import.meta.url), 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('MARK:exit-allowed'))
    assert.ok(text?.startsWith('held by 1'), text)
    assert.ok(text.includes('✖ active timer — setInterval(fn, 1000 ms), never cleared'), text)
    // Printed as every report prints a frame: without its column (format.ts, printedFrame).
    assert.match(text, new RegExp(`test/handles\\.test\\.ts:${line + 1}\\)?$`, 'm'), text)
    assert.ok(text.includes('opened in: test "keeps a poller"'), text)
    assert.equal(closed, 1)
    assert.equal((timer as unknown as { _destroyed: boolean })._destroyed, true)
    assert.equal(exitWatch().diagnose({ heading, ...options, root: ROOT }).text, undefined)
  })

  test('without the timer kind, counts what Node reports and says which kind records it', () => {
    const options = resolveOptions({ root: ROOT })
    const timer = setInterval(() => {}, 1000)
    try {
      const { text, closed } = exitWatch().diagnose({ heading, ...options, root: ROOT })
      assert.match(text ?? '', /• \d+ timers? \(Node: Timeout\) — add 'timer' to the option kinds/)
      assert.equal(closed, 0)
    } finally {
      clearInterval(timer)
    }
  })
})
