// npm undici's own fetch(): what netsan can reach from the request it dispatches, and what tells
// whether the caller read, cancelled or abandoned the Response's body. The facts behind
// docs/discoveries/undici-fetch.md.
// Run: node docs/discoveries/probes/undici-fetch.mjs /tmp/u8   (a dir with node_modules/undici)
import dc from 'node:diagnostics_channel'
import { createRequire } from 'node:module'
import { label, loadUndici, sleep, withServer } from './_util.mjs'

const require = createRequire(import.meta.url)
const EventEmitter = require('node:events')
const U = loadUndici()
if (!U) throw new Error('pass the directory of an npm undici')

// Every fetch() controller (undici's `Fetch`, an EventEmitter) as it is created.
const controllers = []
const init = EventEmitter.init
EventEmitter.init = function (opts) {
  init.call(this, opts)
  if (typeof this.terminate === 'function' && this.constructor?.name === 'Fetch') controllers.push(this)
}
// The requests it dispatches, and whether request:create ran inside the fetch() call.
const requests = []
let inCall = false
dc.subscribe('undici:request:create', ({ request }) => requests.push({ request, sync: inCall }))
const handlerOf = (request) => {
  const key = Object.getOwnPropertySymbols(request).find((k) => k.description === 'handler')
  return key ? request[key] : undefined
}

function state(controller, handler) {
  return (
    `state=${controller.state} reportTimingSteps=${controller.reportTimingSteps ? 'set' : 'unset'} ` +
    `connection.abort===handler.abort: ${controller.connection?.abort === handler?.abort}; ` +
    `handler.body: didRead=${handler?.body?.readableDidRead} ended=${handler?.body?.readableEnded}`
  )
}

console.log(label(U))
await withServer(
  (req, res) => {
    if (req.url.startsWith('/redirect')) return res.writeHead(302, { location: '/small' }).end('moved')
    if (req.url === '/nocontent') return res.writeHead(204).end()
    res.end('x'.repeat(2048))
  },
  async (origin) => {
    for (const [name, path, use] of [
      ['never read', '/small', async () => {}],
      ['text()', '/small', (res) => res.text()],
      ['body.cancel()', '/small', (res) => res.body.cancel()],
      ['first chunk only', '/small', (res) => res.body.getReader().read()],
      [
        'read to done',
        '/small',
        async (res) => {
          const r = res.body.getReader()
          while (!(await r.read()).done) {}
        },
      ],
      ['204, never read', '/nocontent', async () => {}],
      ['after a redirect, never read', '/redirect', async () => {}],
    ]) {
      controllers.length = 0
      requests.length = 0
      inCall = true
      const pending = U.fetch(`${origin}${path}`)
      inCall = false
      const res = await pending
      await use(res)
      await sleep(30)
      const hops = requests
        .map(
          ({ request, sync }, i) =>
            `hop ${i + 1} (create ${sync ? 'inside' : 'after'} the call): ${state(controllers[0], handlerOf(request))}`,
        )
        .join(' | ')
      console.log(
        `${name.padEnd(30)} controllers=${controllers.length}; handler keys: ${Object.keys(handlerOf(requests[0].request)).join(',')}\n    ${hops}`,
      )
    }

    // A Response collected unread: undici's FinalizationRegistry cancels its body, with this reason.
    if (typeof globalThis.gc === 'function') {
      controllers.length = 0
      await (async () => {
        await U.fetch(`${origin}/small`)
      })()
      for (let i = 0; i < 10 && controllers[0].state === 'ongoing'; i++) {
        globalThis.gc()
        await sleep(20)
      }
      console.log(
        `collected unread: state=${controllers[0].state} reason=${JSON.stringify(String(controllers[0].serializedAbortReason))}`,
      )
    } else console.log('(run with --expose-gc for the collected Response)')
  },
)
EventEmitter.init = init
