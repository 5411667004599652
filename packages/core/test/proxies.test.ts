// Requests through an HTTP proxy print as one URL: undici sends the target in absolute form to the
// proxy's origin (ProxyAgent for http: targets, EnvHttpProxyAgent), and a tunnel is a CONNECT to
// host:port. node:http with an absolute-form path is covered in redact.test.ts.
import assert from 'node:assert/strict'
import http from 'node:http'
import type net from 'node:net'
import { after, before, describe, test } from 'node:test'
import { EnvHttpProxyAgent, ProxyAgent, request } from 'undici'
import { startServer } from '../fixtures/server.ts'
import { track } from '../src/index.ts'
import { requestUrl } from '../src/trackers/undici.ts'
import { assertCreatedAt, only, ROOT } from './helpers.ts'

describe('requestUrl (pure)', () => {
  test('origin + path, unless the path is the whole URL (absolute form) or a CONNECT target', () => {
    assert.equal(requestUrl({ origin: 'http://a:1', path: '/p?q=1' }), 'http://a:1/p?q=1')
    assert.equal(
      requestUrl({ origin: 'http://proxy:3128', path: 'http://example.com/' }),
      'http://example.com/',
    )
    assert.equal(
      requestUrl({ origin: 'http://proxy:3128', path: 'HTTPS://example.com:8443/x' }),
      'HTTPS://example.com:8443/x',
    )
    assert.equal(
      requestUrl({ origin: 'http://proxy:3128', path: 'example.com:443', method: 'CONNECT' }),
      'example.com:443',
    )
  })
})

let target: Awaited<ReturnType<typeof startServer>>
let proxy: http.Server
let proxyUrl: string
/** CONNECT requests the proxy holds without an answer. */
const held = new Set<net.Socket>()
before(async () => {
  target = await startServer()
  // A forward proxy for absolute-form requests; CONNECT is accepted and never answered.
  proxy = http.createServer((req, res) => {
    const url = new URL(req.url!)
    const up = http.get({ host: url.hostname, port: url.port, path: url.pathname + url.search }, (r) => {
      res.writeHead(r.statusCode!, r.headers)
      r.pipe(res)
    })
    up.on('error', () => res.destroy())
    res.on('close', () => up.destroy())
  })
  proxy.on('connect', (_req, socket: net.Socket) => {
    held.add(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`
})
after(async () => {
  for (const s of held) s.destroy()
  proxy.closeAllConnections()
  await new Promise((r) => proxy.close(r))
  await target.close()
})

const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('undici through an HTTP proxy', () => {
  test('ProxyAgent: an unread body names the target URL once, and the proxy', async () => {
    const agent = new ProxyAgent({ uri: proxyUrl, proxyTunnel: false })
    const scope = track({ root: ROOT })
    await request(`${target.url}/big?bytes=65536&token=s3cr3t`, { dispatcher: agent }) // MARK:proxy-body
    const leak = only(await scope.end(), 'body')
    assert.equal(
      leak.description,
      `GET ${target.url}/big?bytes=65536&token=*** through the proxy ${proxyUrl} → 200, body not read to the end`,
    )
    assert.equal(leak.origin, target.url)
    assertCreatedAt(leak, import.meta.url, 'MARK:proxy-body')
    await agent.close()
  })

  test('EnvHttpProxyAgent: an in-flight request names the target URL once', async () => {
    const agent = new EnvHttpProxyAgent({ httpProxy: proxyUrl, noProxy: '' })
    const scope = track({ root: ROOT })
    const pending = request(`${target.url}/hang`, { dispatcher: agent }).catch((e) => e)
    await new Promise((r) => setTimeout(r, 50))
    const leaks = (await scope.end()).filter((l) => l.kind === 'request')
    // The proxy's own upstream request (its http.get) is in flight too, for the same URL.
    const ours = leaks.find((l) => l.description.includes('through the proxy'))
    assert.ok(ours, JSON.stringify(leaks))
    assert.equal(ours.description, `GET ${target.url}/hang through the proxy ${proxyUrl}, no response yet`)
    assert.equal((await pending)?.name, 'AbortError')
    await agent.close()
  })

  test('a tunnel the proxy never opens: CONNECT host:port through the proxy, not glued URLs', async () => {
    const agent = new ProxyAgent({ uri: proxyUrl, proxyTunnel: true })
    const scope = track({ root: ROOT })
    const pending = request(`${target.url}/x`, { dispatcher: agent }).catch((e) => e)
    await new Promise((r) => setTimeout(r, 50))
    const leaks = await scope.end()
    const host = new URL(target.url).host
    const words = leaks.map((l) => l.description)
    assert.ok(
      words.includes(`CONNECT ${host} (a tunnel through the proxy ${proxyUrl}), no response yet`),
      words.join('\n'),
    )
    for (const w of words) assert.doesNotMatch(w, new RegExp(`${literal(proxyUrl)}(${literal(host)}|http)`))
    await pending
    await agent.destroy()
  })

  test('fixed: the body read, the agent closed', async () => {
    const agent = new ProxyAgent({ uri: proxyUrl, proxyTunnel: false })
    const scope = track({ root: ROOT })
    const { body } = await request(`${target.url}/big?bytes=65536`, { dispatcher: agent })
    await body.dump()
    await agent.close()
    assert.deepEqual(await scope.end(), [])
  })
})
