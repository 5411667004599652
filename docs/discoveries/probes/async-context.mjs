// Whose async context code runs in when it continues after the scope that started it: timers, promise
// chains, and callbacks of a connection's events. Run: node docs/discoveries/probes/async-context.mjs
import { AsyncLocalStorage, executionAsyncResource } from 'node:async_hooks'
import http2 from 'node:http2'
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

const als = new AsyncLocalStorage()
const rows = []
const row = (what, store) => {
  const resource = executionAsyncResource()
  rows.push([what, store, resource?.constructor?.name ?? String(resource)])
}

const server = http2.createServer()
server.on('stream', (stream) => {
  stream.respond({ ':status': 200 })
  stream.end('ok')
})
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${server.address().port}`
const tcp = net.createServer((socket) => socket.on('error', () => {}))
await new Promise((resolve) => tcp.listen(0, '127.0.0.1', resolve))

// "one" starts work and returns; "two" runs while that work continues.
let session
let socket
let other
const done = []
als.run('one', () => {
  session = http2.connect(url)
  socket = net.connect(tcp.address().port, '127.0.0.1')
  other = net.connect(tcp.address().port, '127.0.0.1')
  done.push(sleep(20).then(() => row('a timer "one" set, firing during "two"', als.getStore())))
  done.push(
    (async () => {
      await sleep(30)
      row('an un-awaited async function of "one", resumed during "two"', als.getStore())
    })(),
  )
})
await new Promise((resolve) => session.once('connect', resolve))
await new Promise((resolve) => socket.once('connect', resolve))
await new Promise((resolve) => other.once('connect', resolve))
await als.run('two', async () => {
  await Promise.all(done)
  // "two" closes what "one" opened; the callbacks run when the connection's handle closes.
  await new Promise((resolve) =>
    session.close(() => {
      row('session.close(cb) called by "two": cb', als.getStore())
      resolve()
    }),
  )
  socket.once('close', () => row('"close" of a socket "one" opened, ended by "two" (end())', als.getStore()))
  socket.end()
  await new Promise((resolve) => socket.once('close', resolve))
  other.once('close', () =>
    row('"close" of a socket "one" opened, destroyed by "two" (destroy())', als.getStore()),
  )
  other.destroy()
  await new Promise((resolve) => other.once('close', resolve))
  await new Promise((resolve) => setImmediate(resolve))
})

console.log(`Node ${process.versions.node}\n`)
console.log('| code that runs | AsyncLocalStorage store | executionAsyncResource() |')
console.log('|---|---|---|')
for (const [what, store, resource] of rows) console.log(`| ${what} | \`${store}\` | ${resource} |`)
await new Promise((resolve) => server.close(resolve))
await new Promise((resolve) => tcp.close(resolve))
