// When do undici's diagnostics channels fire, and what do they carry?
// Usage: node docs/discoveries/probes/undici-channels.mjs [/tmp/u7]   (no arg => Node's bundled undici, fetch only)
import { AsyncLocalStorage } from 'node:async_hooks'
import dc from 'node:diagnostics_channel'
import { freePort, idOf, keys, label, loadUndici, routes, sleep, withServer } from './_util.mjs'

const u = loadUndici()
const fetchFn = u ? u.fetch : globalThis.fetch
console.log(`# undici-channels — ${label(u)}`)

const CHANNELS = [
  'undici:request:create',
  'undici:request:bodySent',
  'undici:request:bodyChunkSent',
  'undici:request:bodyChunkReceived',
  'undici:request:headers',
  'undici:request:trailers',
  'undici:request:error',
  'undici:client:beforeConnect',
  'undici:client:connected',
  'undici:client:connectError',
  'undici:client:sendHeaders',
]
const als = new AsyncLocalStorage()
const id = idOf()
let inCall = false
let events = []
const payloadKeys = new Map()
for (const name of CHANNELS) {
  dc.subscribe(name, (msg) => {
    const short = name.replace('undici:', '')
    if (!payloadKeys.has(short)) {
      const extra = []
      if (msg.request) extra.push(`request{${keys(msg.request)}}`)
      if (msg.response) extra.push(`response{${keys(msg.response)}}`)
      if (msg.connectParams) extra.push(`connectParams{${keys(msg.connectParams)}}`)
      if (msg.error) extra.push(`error=${msg.error.name}/${msg.error.code ?? ''}: ${msg.error.message}`)
      if (msg.trailers) extra.push(`trailers=${Array.isArray(msg.trailers) ? 'Array' : typeof msg.trailers}`)
      if (msg.headers) extra.push(`headers=${Array.isArray(msg.headers) ? 'Array' : typeof msg.headers}`)
      payloadKeys.set(short, `{${keys(msg)}} ${extra.join(' ')}`)
    }
    const sock = msg.socket
    events.push({
      ch: short,
      sync: inCall,
      userFrame: new Error().stack.includes('userCallSite'),
      store: als.getStore() ?? '-',
      req: msg.request ? id(msg.request) : '',
      socket: sock ? `${id(sock)}${sock.destroyed ? '(destroyed)' : ''}` : '',
      connector: msg.connector ? id(msg.connector) : '',
      extra:
        (msg.error ? `err=${msg.error.name}` : '') +
        (msg.response ? `status=${msg.response.statusCode}` : '') +
        (msg.request && short === 'request:create' ? ` ${msg.request.method} ${msg.request.path}` : '') +
        (msg.connectParams ? ` host=${msg.connectParams.host}` : ''),
    })
  })
}

function flush(title) {
  console.log(`\n## ${title}`)
  for (const e of events) {
    const parts = [e.ch.padEnd(27), `sync=${e.sync}`, `userFrame=${e.userFrame}`, `als=${e.store}`]
    if (e.req) parts.push(`req=${e.req}`)
    if (e.socket) parts.push(`socket=${e.socket}`)
    if (e.connector) parts.push(`connector=${e.connector}`)
    if (e.extra) parts.push(e.extra.trim())
    console.log(`  ${parts.join(' ')}`)
  }
  if (events.length === 0) console.log('  (no undici events)')
  events = []
}

const dispatcherStats = (agent, origin) => {
  const d =
    agent ??
    globalThis[Symbol.for('undici.globalDispatcher.2')] ??
    globalThis[Symbol.for('undici.globalDispatcher.1')]
  const s = d?.stats
  if (!s) return 'stats: n/a'
  const o = s[origin] ?? s[new URL(origin).origin]
  return o
    ? `stats: connected=${o.connected} free=${o.free} running=${o.running} pending=${o.pending}`
    : `stats: no entry for origin (keys ${Object.keys(s)})`
}

const lastSocket = () => {
  // the sendHeaders socket of the most recent request
  for (let i = events.length - 1; i >= 0; i--)
    if (events[i].ch === 'client:sendHeaders') return events[i].socket
}

const keep = [] // hold responses so GC cannot cancel them

await withServer(routes, async (origin) => {
  // 1. global fetch / undici.fetch: sync-ness, stack, ALS
  const res = await als.run('X', function userCallSite() {
    inCall = true
    try {
      return fetchFn(`${origin}/small`)
    } finally {
      inCall = false
    }
  })
  await res.text()
  flush(`${u ? 'undici.fetch()' : 'global fetch()'} inside als.run('X'); body read`)

  if (u) {
    const r2 = await als.run('Y', function userCallSite() {
      inCall = true
      try {
        return u.request(`${origin}/small`)
      } finally {
        inCall = false
      }
    })
    await r2.body.text()
    flush("undici.request() inside als.run('Y'); body read")
  }
})

// 2. connector identity: two concurrent requests to origin A (2 sockets), one to origin B; then a Pool
await withServer(routes, async (a) => {
  await withServer(routes, async (b) => {
    const agent = u ? new u.Agent() : undefined
    const opts = agent ? { dispatcher: agent } : {}
    await Promise.all(
      [`${a}/slow?ms=100`, `${a}/slow?ms=100`, `${b}/slow?ms=100`].map((url) =>
        fetchFn(url, opts).then((r) => r.text()),
      ),
    )
    flush(
      `connector identity: ${agent ? 'one undici.Agent' : 'global dispatcher'}, 2 concurrent to A, 1 to B`,
    )
    if (u) {
      const pool = new u.Pool(a, { connections: 4 })
      await Promise.all(
        [1, 2].map(() => pool.request({ path: '/slow?ms=100', method: 'GET' }).then((r) => r.body.text())),
      )
      flush('connector identity: undici.Pool(A), 2 concurrent requests')
      await pool.close()
    }
    await agent?.close()
  })
})

// 3. unread bodies: small (2 KiB) and big (1 MiB)
for (const route of ['/small', '/big']) {
  await withServer(routes, async (origin) => {
    const agent = u ? new u.Agent() : undefined
    const opts = agent ? { dispatcher: agent } : {}
    const r = await fetchFn(`${origin}${route}`, opts)
    keep.push(r)
    await sleep(300)
    const sock = lastSocket()
    const fired = events.some((e) => e.ch === 'request:trailers')
    const stats = dispatcherStats(agent, origin)
    const before = events.length
    const r2 = await fetchFn(`${origin}/small`, opts)
    await r2.text()
    const second = events.slice(before)
    const newConn = second.some((e) => e.ch === 'client:connected')
    flush(`fetch ${route} headers received, body never read, waited 300 ms`)
    console.log(`  => trailers fired: ${fired}; bodyUsed=${r.bodyUsed}; ${stats}`)
    console.log(
      `  => a second fetch to the same origin opened a new connection: ${newConn} (first socket ${sock})`,
    )
    if (u) {
      const before2 = events.length
      const rr = await u.request(`${origin}${route}`, { dispatcher: agent })
      keep.push(rr)
      await sleep(300)
      const fired2 = events.slice(before2).some((e) => e.ch === 'request:trailers')
      console.log(
        `  => undici.request ${route} unread: trailers fired: ${fired2}; ${dispatcherStats(agent, origin)}`,
      )
      events = []
      await rr.body.dump?.()
    }
    await r.body?.cancel()
    await agent?.close()
  })
}

// 4. res.body.cancel() on a 1 MiB body
const agentOpts = () => (u ? { dispatcher: new u.Agent() } : {})
await withServer(routes, async (origin) => {
  const r = await fetchFn(`${origin}/big`, agentOpts())
  await sleep(50)
  const mark = events.length
  await r.body.cancel()
  await sleep(100)
  events.splice(0, mark)
  const sock = lastSocket()
  flush('fetch /big: await res.body.cancel() (events after the cancel only)')
  console.log(`  => sendHeaders socket after cancel: ${sock ?? '(none in slice)'}`)
})
await withServer(routes, async (origin) => {
  const r = await fetchFn(`${origin}/slowbody`, agentOpts())
  let sock
  for (const e of events) if (e.ch === 'client:sendHeaders') sock = e
  const mark = events.length
  await r.body.cancel()
  await sleep(600)
  events.splice(0, mark)
  flush('fetch /slowbody (chunked, unfinished): await res.body.cancel() (events after the cancel only)')
  console.log(`  => socket ${sock?.socket}`)
})

// 5. AbortSignal before headers and after headers
await withServer(routes, async (origin) => {
  const ac = new AbortController()
  setTimeout(() => ac.abort(), 50)
  await fetchFn(`${origin}/slow?ms=300`, { signal: ac.signal, ...agentOpts() }).catch((e) =>
    events.push({ ch: `(fetch rejected: ${e.name})` }),
  )
  await sleep(50)
  flush('fetch /slow aborted via AbortSignal before headers')
  const ac2 = new AbortController()
  const r = await fetchFn(`${origin}/slowbody`, { signal: ac2.signal, ...agentOpts() })
  ac2.abort()
  await r.text().catch((e) => events.push({ ch: `(body rejected: ${e.name})` }))
  await sleep(500)
  flush('fetch /slowbody aborted via AbortSignal after headers, mid-body')
  if (u) {
    const ac3 = new AbortController()
    setTimeout(() => ac3.abort(), 50)
    await u
      .request(`${origin}/slow?ms=300`, { signal: ac3.signal, dispatcher: new u.Agent() })
      .catch((e) => events.push({ ch: `(request rejected: ${e.name})` }))
    await sleep(50)
    flush('undici.request /slow aborted via AbortSignal before headers')
  }
})

// 6. HEAD, 204, POST with body, response trailers
await withServer(routes, async (origin) => {
  const h = await fetchFn(`${origin}/small`, { method: 'HEAD' })
  await sleep(50)
  flush(`fetch HEAD (body=${h.body === null ? 'null' : 'stream'}), body never touched`)
  const n = await fetchFn(`${origin}/204`)
  await sleep(50)
  flush(`fetch 204 (body=${n.body === null ? 'null' : 'stream'}), body never touched`)
  const p = await fetchFn(`${origin}/post`, { method: 'POST', body: 'hello' })
  await p.text()
  flush("fetch POST body 'hello'")
  const t = await fetchFn(`${origin}/trailers`)
  await t.text()
  const tr = events.find((e) => e.ch === 'request:trailers')
  flush('fetch with an HTTP trailer x-t')
  if (tr) console.log('  (see payload keys below)')
})

// 7. connection refused
{
  const port = await freePort()
  await fetchFn(`http://127.0.0.1:${port}/`).catch((e) =>
    events.push({ ch: `(fetch rejected: ${e.name} cause=${e.cause?.code})` }),
  )
  flush('fetch to a closed port')
}

console.log('\n## payload keys (first message seen on each channel)')
for (const [k, v] of payloadKeys) console.log(`  ${k.padEnd(27)} ${v}`)
