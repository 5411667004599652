// What the handle kinds (timer, child, watcher, worker, file) rely on, measured on the running Node.
// Usage: node docs/discoveries/probes/handles.mjs   (prints one line per fact)
import { executionAsyncResource } from 'node:async_hooks'
import { spawn } from 'node:child_process'
import dc from 'node:diagnostics_channel'
import http from 'node:http'
import { createRequire, syncBuiltinESMExports } from 'node:module'
import os from 'node:os'
import { Worker } from 'node:worker_threads'

const require = createRequire(import.meta.url)
const fs = require('node:fs')
const timers = require('node:timers')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const out = (name, value) =>
  console.log(`${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
out('node', process.version)

// 1. Channels: which exist, whether they fire synchronously in the creator's call (its stack).
for (const [name, make] of [
  ['child_process', () => spawn(process.execPath, ['-e', '0'])],
  ['worker_threads', () => new Worker('0', { eval: true })],
]) {
  let sync = false
  const fn = (m) => {
    sync = new Error().stack.includes('handles.mjs')
    void m
  }
  dc.subscribe(name, fn)
  const handle = make()
  dc.unsubscribe(name, fn)
  out(`channel ${name} fires in the creator's stack`, sync)
  if (handle.kill) handle.kill()
  else await handle.terminate()
}

// 2. Timeout / Immediate: the fields netsan reads.
const t = setTimeout(() => {}, 1000)
out('Timeout own keys', Object.keys(t))
const beforeClear = t._destroyed
clearTimeout(t)
out('Timeout _destroyed before / after clearTimeout', [beforeClear, t._destroyed])
const fired = setTimeout(() => {}, 1)
await sleep(10)
out('Timeout _destroyed after firing', fired._destroyed)
const iv = setInterval(() => {}, 50)
out('Interval _repeat', iv._repeat)
clearInterval(iv)
const im = setImmediate(() => {})
out('Immediate has _destroyed, hasRef', ['_destroyed' in im, typeof im.hasRef])
clearImmediate(im)
await new Promise((resolve) => {
  const outer = setTimeout(() => {
    out("executionAsyncResource() in a timer's callback is the Timeout", executionAsyncResource() === outer)
    const inner = setImmediate(() => {
      out("… and in an immediate's callback, the Immediate", executionAsyncResource() === inner)
      resolve()
    })
  }, 1)
})
const skew = setTimeout(() => {}, 1000)
out(
  'Timeout _idleStart − performance.now() (ms, not 0: another clock origin)',
  Math.round(skew._idleStart - performance.now()),
)
clearTimeout(skew)

// 3. process.getActiveResourcesInfo(): only what keeps the loop alive (ref'd), types only.
const base = process.getActiveResourcesInfo().length
const ref = setInterval(() => {}, 1000)
const unref = setInterval(() => {}, 1000).unref()
const watcher = fs.watch(os.tmpdir())
const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 2000)'], { stdio: 'ignore' })
const worker = new Worker('setInterval(() => {}, 1000)', { eval: true })
await sleep(100)
out(
  'getActiveResourcesInfo with 2 intervals (1 unref), a watcher, a child, a worker',
  process.getActiveResourcesInfo().slice(base),
)
watcher.unref()
child.unref()
out('… after watcher.unref() and child.unref()', process.getActiveResourcesInfo().slice(base))
clearInterval(ref)
clearInterval(unref)
watcher.close()
child.kill()
await worker.terminate()
out('Worker threadId after exit', worker.threadId)

// 4. A FileHandle: 'close' event on close(), none when the garbage collector closes it.
const fh = await fs.promises.open(import.meta.filename)
let closeEvent = false
fh.once('close', () => {
  closeEvent = true
})
await fh.close()
out("FileHandle emits 'close' on close(), fd after", [closeEvent, fh.fd])

// 5. Patching a builtin module object reaches ES module named imports only after syncBuiltinESMExports().
const { watch: before } = await import('node:fs')
const original = fs.watch
fs.watch = function patched(...args) {
  return original.apply(this, args)
}
const stale = (await import('node:fs')).watch === fs.watch
syncBuiltinESMExports()
const synced = (await import('node:fs')).watch === fs.watch
fs.watch = original
syncBuiltinESMExports()
out('ESM named export sees a patched fs.watch: before / after syncBuiltinESMExports()', [stale, synced])
void before

// 6. Node's bundled undici (fetch) calls the global setTimeout: netsan's timer wrapper sees it.
const server = http.createServer((_q, s) => s.end('ok')).listen(0)
await new Promise((r) => server.once('listening', r))
const url = `http://127.0.0.1:${server.address().port}`
await (await fetch(url)).text()
let calls = 0
const real = globalThis.setTimeout
globalThis.setTimeout = function (...args) {
  calls++
  return real.apply(this, args)
}
for (let i = 0; i < 20; i++) await (await fetch(url)).text()
globalThis.setTimeout = real
out('global setTimeout calls per fetch (bundled undici, keep-alive)', calls / 20)
server.close()
out('timers.setTimeout === globalThis.setTimeout', timers.setTimeout === globalThis.setTimeout)
