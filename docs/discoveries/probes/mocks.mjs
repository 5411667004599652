// nock 15 and undici MockAgent: which channels fire for mocked traffic, and socket state afterwards.
// Usage: NOCK=/tmp/nock15 node docs/discoveries/probes/mocks.mjs [/tmp/u8]
//   NOCK: a directory with node_modules/nock; argv[2]/UNDICI: a directory with node_modules/undici (for MockAgent)
import dc from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import path from 'node:path'
import { idOf, label, loadUndici, sleep } from './_util.mjs'

const require = createRequire(import.meta.url)
const http = require('node:http')
const u = loadUndici()
console.log(`# mocks — ${label(u)}`)
const id = idOf()
let events = []
const sockets = new Set()
for (const name of [
  'net.client.socket',
  'http.client.request.created',
  'http.client.request.start',
  'http.client.response.finish',
  'http.client.request.error',
  'undici:request:create',
  'undici:request:headers',
  'undici:request:trailers',
  'undici:request:error',
  'undici:client:beforeConnect',
  'undici:client:connected',
  'undici:client:sendHeaders',
]) {
  dc.subscribe(name, (msg) => {
    const s = msg.socket
    if (s) sockets.add(s)
    events.push(
      `${name.padEnd(28)}${s ? ` socket=${id(s)} fd=${s._handle?.fd ?? 'none'} ${s.constructor.name}` : ''}`,
    )
  })
}
const flush = (title) => {
  console.log(`\n## ${title}`)
  for (const e of events) console.log(`  ${e}`)
  if (!events.length) console.log('  (no channel fired)')
  const st = [...sockets].map((s) => `${id(s)}:${s.destroyed ? 'destroyed' : 'OPEN'}`)
  if (st.length) console.log(`  => sockets after the response: ${st.join(' ')}`)
  events = []
  sockets.clear()
}

if (process.env.NOCK) {
  const req = createRequire(path.join(path.resolve(process.env.NOCK), 'noop.js'))
  const mod = req('nock')
  const nock = mod.default ?? mod // nock 15 is an ES module: require() gives { default }
  console.log(`  nock from ${req.resolve('nock')}`)
  nock('http://mocked.test').get('/a').reply(200, 'x'.repeat(2048)).get('/b').reply(200, 'hello')
  await new Promise((resolve) =>
    http.get('http://mocked.test/a', (res) => {
      res.resume()
      res.on('end', resolve)
    }),
  )
  await sleep(50)
  flush('nock: http.get mocked, body read')
  const r = await fetch('http://mocked.test/b')
  await r.text()
  await sleep(50)
  flush('nock: global fetch mocked, body read')
  nock('http://mocked.test').get('/c').reply(200, 'y'.repeat(2048))
  const r2 = await fetch('http://mocked.test/c')
  await sleep(50)
  flush(`nock: global fetch mocked, body NOT read (bodyUsed=${r2.bodyUsed})`)
  nock.cleanAll()
  nock.restore()
}

if (u?.MockAgent) {
  const agent = new u.MockAgent()
  agent.disableNetConnect()
  u.setGlobalDispatcher(agent)
  const pool = agent.get('http://mocked.test')
  pool.intercept({ path: '/m' }).reply(200, 'mocked').times(3)
  const r = await fetch('http://mocked.test/m')
  await r.text()
  flush(`MockAgent (${u.__version}) via setGlobalDispatcher: built-in fetch`)
  const r2 = await u.fetch('http://mocked.test/m')
  await r2.text()
  flush(`MockAgent (${u.__version}) via setGlobalDispatcher: npm undici fetch`)
  const r3 = await u.request('http://mocked.test/m')
  await r3.body.text()
  flush(`MockAgent (${u.__version}) via setGlobalDispatcher: npm undici request`)
  await agent.close()
}
