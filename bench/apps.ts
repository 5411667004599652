// Generates the second bench suite, shaped like real HTTP-heavy suites rather than a loop of requests
// to one server: small apps with express- and hono-style handlers, a server per test or per request
// (a supertest-style `request(app)` that starts an ephemeral server for each request and closes it
// without awaiting), a tiny forward proxy, many small files, a few `test.concurrent`. The same files
// run under Vitest (ESM), Jest (CommonJS) and Jest with `projects` (one project per kind of file).
// Nothing leaks: every body is read, every server closed (some without awaiting), so every mode must pass.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runnerCommand } from './lib.ts'

export interface AppsSize {
  files: number
  tests: number
}

/** The kinds of test file, in turn; each is also a Jest project of the `projects` variant. */
export const APP_KINDS = ['api', 'servers', 'proxy', 'web'] as const
type Kind = (typeof APP_KINDS)[number]

/** Requests each test makes, by kind (for the summary line). */
const REQUESTS: Record<Kind, number> = { api: 3, servers: 3, proxy: 3, web: 2 }

export type AppsRunner = 'vitest' | 'jest' | 'jest-projects'
export const APPS_RUNNERS: readonly AppsRunner[] = ['vitest', 'jest', 'jest-projects']

// The helpers are written once and wrapped as an ES module (Vitest) or a CommonJS one (Jest).
interface Module {
  imports: Record<string, string>
  body: string
  exports: string[]
}

function render(runner: 'vitest' | 'jest', m: Module): string {
  const entries = Object.entries(m.imports)
  if (runner === 'vitest') {
    const head = entries.map(([name, from]) => `import ${name} from '${from}'`)
    return `${head.join('\n')}\n${m.body}\nexport { ${m.exports.join(', ')} }\n`
  }
  const head = entries.map(([name, from]) => `const ${name} = require('${from.replace(/\.mjs$/, '.js')}')`)
  return `${head.join('\n')}\n${m.body}\nmodule.exports = { ${m.exports.join(', ')} }\n`
}

// An express-style app: middleware, routes with params, a JSON body parser, an error handler.
const APP: Module = {
  imports: {},
  exports: ['createApp', 'jsonBody', 'usersApp'],
  body: `
function compile(path) {
  return new RegExp('^' + path.replace(/:(\\w+)/g, '(?<$1>[^/]+)') + '$')
}

function createApp() {
  const routes = []
  const middleware = []
  const app = (req, res) => {
    res.json = (status, value) => {
      const body = JSON.stringify(value)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    }
    let i = 0
    const next = (error) => {
      if (error) return res.json(500, { error: error.message })
      const layer = middleware[i++]
      if (layer) return layer(req, res, next)
      dispatch(req, res)
    }
    next()
  }
  function dispatch(req, res) {
    const url = new URL(req.url, 'http://app')
    for (const route of routes) {
      if (route.method !== req.method) continue
      const match = route.pattern.exec(url.pathname)
      if (!match) continue
      req.params = match.groups ?? {}
      req.query = url.searchParams
      return Promise.resolve()
        .then(() => route.handler(req, res))
        .catch((error) => res.json(500, { error: error.message }))
    }
    res.json(404, { error: 'not found' })
  }
  for (const method of ['get', 'post', 'put', 'delete']) {
    app[method] = (path, handler) => {
      routes.push({ method: method.toUpperCase(), pattern: compile(path), handler })
      return app
    }
  }
  app.use = (layer) => {
    middleware.push(layer)
    return app
  }
  return app
}

function jsonBody() {
  return (req, res, next) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'DELETE') return next()
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      try {
        req.body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString()) : undefined
        next()
      } catch (error) {
        next(error)
      }
    })
  }
}

let requestId = 0

function usersApp() {
  const users = new Map()
  for (let id = 1; id <= 20; id++) users.set(id, { id, name: 'user ' + id, roles: ['reader'] })
  return createApp()
    .use((req, res, next) => {
      res.setHeader('x-request-id', String(++requestId))
      next()
    })
    .use(jsonBody())
    .get('/users', (req, res) => {
      const limit = Number(req.query.get('limit') ?? 10)
      res.json(200, [...users.values()].slice(0, limit))
    })
    .get('/users/:id', (req, res) => {
      const user = users.get(Number(req.params.id))
      if (!user) return res.json(404, { error: 'no such user' })
      res.json(200, user)
    })
    .post('/users', (req, res) => {
      if (!req.body?.name) return res.json(400, { error: 'name is required' })
      const user = { id: users.size + 1, name: req.body.name, roles: req.body.roles ?? [] }
      users.set(user.id, user)
      res.json(201, user)
    })
    .put('/users/:id', (req, res) => {
      const user = users.get(Number(req.params.id))
      if (!user) return res.json(404, { error: 'no such user' })
      Object.assign(user, req.body)
      res.json(200, user)
    })
    .delete('/users/:id', (req, res) => {
      users.delete(Number(req.params.id))
      res.writeHead(204)
      res.end()
    })
    .get('/report', (req, res) => {
      // A chunked text response, as a CSV export would be.
      res.writeHead(200, { 'content-type': 'text/csv' })
      for (const user of users.values()) res.write(user.id + ',' + user.name + '\\n')
      res.end()
    })
}
`,
}

// A supertest-style client: each request starts the app on an ephemeral port, sends one request with
// node:http (the global agent, as superagent does) and closes the server without awaiting it.
const REQUEST: Module = {
  imports: { http: 'node:http' },
  exports: ['request', 'listen', 'close'],
  body: `
class Call {
  constructor(app, method, path) {
    this.app = app
    this.method = method
    this.path = path
    this.headers = {}
    this.payload = undefined
    this.status = undefined
  }
  set(name, value) {
    this.headers[name] = value
    return this
  }
  send(value) {
    this.payload = JSON.stringify(value)
    this.headers['content-type'] = 'application/json'
    return this
  }
  expect(status) {
    this.status = status
    return this
  }
  then(resolve, reject) {
    return this.run().then(resolve, reject)
  }
  async run() {
    const server = http.createServer(this.app)
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const res = await new Promise((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port: server.address().port, method: this.method, path: this.path, headers: this.headers },
          (res) => {
            const chunks = []
            res.on('data', (chunk) => chunks.push(chunk))
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }))
            res.on('error', reject)
          },
        )
        req.on('error', reject)
        req.end(this.payload)
      })
      if (String(res.headers['content-type']).startsWith('application/json')) res.body = JSON.parse(res.text)
      if (this.status !== undefined && res.status !== this.status) {
        throw new Error('expected ' + this.status + ', got ' + res.status + ': ' + res.text)
      }
      return res
    } finally {
      server.close()
    }
  }
}

function request(app) {
  return {
    get: (path) => new Call(app, 'GET', path),
    post: (path) => new Call(app, 'POST', path),
    put: (path) => new Call(app, 'PUT', path),
    delete: (path) => new Call(app, 'DELETE', path),
  }
}

async function listen(handler) {
  const server = http.createServer(handler)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: 'http://127.0.0.1:' + server.address().port }
}

function close(server) {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(resolve))
}
`,
}

// A tiny forward proxy: absolute-form requests go to their URL, others to a default upstream.
const PROXY: Module = {
  imports: { http: 'node:http' },
  exports: ['forwardProxy'],
  body: `
function forwardProxy(upstream) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const handler = (req, res) => {
    const target = req.url.startsWith('http://') ? new URL(req.url) : new URL(req.url, upstream)
    const headers = { ...req.headers, host: target.host, via: '1.1 tiny-proxy' }
    const out = http.request(target, { method: req.method, headers, agent }, (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode, { ...upstreamRes.headers, via: '1.1 tiny-proxy' })
      upstreamRes.pipe(res)
    })
    out.on('error', (error) => {
      res.writeHead(502, { 'content-type': 'text/plain' })
      res.end(error.message)
    })
    req.pipe(out)
  }
  handler.agent = agent
  return handler
}
`,
}

// A hono-style app: a fetch handler (Request → Response) behind a node:http adapter.
const WEB: Module = {
  imports: {},
  exports: ['webApp', 'toNode'],
  body: `
function webApp() {
  const todos = [{ id: 1, title: 'write tests', done: false }]
  return async (request) => {
    const url = new URL(request.url)
    if (request.method === 'GET' && url.pathname === '/todos') return Response.json(todos)
    if (request.method === 'POST' && url.pathname === '/todos') {
      const todo = { id: todos.length + 1, done: false, ...(await request.json()) }
      todos.push(todo)
      return Response.json(todo, { status: 201 })
    }
    if (url.pathname === '/health') return new Response('ok', { headers: { 'content-type': 'text/plain' } })
    return Response.json({ error: 'not found' }, { status: 404 })
  }
}

function toNode(fetchHandler) {
  return async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const headers = new Headers()
    for (const [name, value] of Object.entries(req.headers)) headers.set(name, String(value))
    const request = new Request('http://' + req.headers.host + req.url, {
      method: req.method,
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    })
    const response = await fetchHandler(request)
    const body = Buffer.from(await response.arrayBuffer())
    res.writeHead(response.status, { ...Object.fromEntries(response.headers), 'content-length': body.length })
    res.end(body)
  }
}
`,
}

const HELPERS: Record<string, Module> = { app: APP, request: REQUEST, proxy: PROXY, web: WEB }

function testFile(runner: 'vitest' | 'jest', kind: Kind, file: number, tests: number): string {
  const lib = (name: string) => (runner === 'vitest' ? `./lib/${name}.mjs` : `./lib/${name}.js`)
  const imports: Record<string, string> = {}
  const vitestApi = ['afterAll', 'afterEach', 'beforeAll', 'beforeEach', 'describe', 'expect', 'test']
  if (runner === 'vitest') imports[`{ ${vitestApi.join(', ')} }`] = 'vitest'
  let body = ''
  const cases: string[] = []
  if (kind === 'api') {
    imports['{ usersApp }'] = lib('app')
    imports['{ request }'] = lib('request')
    body = 'const app = usersApp()\n'
    for (let i = 0; i < tests; i++) {
      cases.push(`  test('users ${file}-${i}', async () => {
    const list = await request(app).get('/users?limit=${1 + (i % 5)}').expect(200)
    expect(list.body.length).toBe(${1 + (i % 5)})
    const created = await request(app).post('/users').send({ name: 'new ${file}-${i}' }).expect(201)
    expect(created.body.name).toBe('new ${file}-${i}')
    const one = await request(app).get('/users/' + created.body.id).set('accept', 'application/json')
    expect(one.status).toBe(200)
    expect(one.headers['x-request-id']).toBeDefined()
  })`)
    }
  } else if (kind === 'servers') {
    // A server per test, started in beforeEach and closed in afterEach without awaiting.
    imports['{ usersApp }'] = lib('app')
    imports['{ listen }'] = lib('request')
    imports['{ request as undiciRequest }'] = 'undici'
    body =
      'let current\nbeforeEach(async () => {\n  current = await listen(usersApp())\n})\nafterEach(() => {\n  current.server.close()\n})\n'
    for (let i = 0; i < tests; i++) {
      cases.push(`  test('server ${file}-${i}', async () => {
    const res = await fetch(current.url + '/users/${1 + (i % 20)}')
    expect((await res.json()).id).toBe(${1 + (i % 20)})
    const put = await fetch(current.url + '/users/${1 + (i % 20)}', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'renamed ${i}' }),
    })
    expect((await put.json()).name).toBe('renamed ${i}')
    const report = await undiciRequest(current.url + '/report')
    expect((await report.body.text()).split('\\n').length).toBeGreaterThan(20)
  })`)
    }
  } else if (kind === 'proxy') {
    imports.http = 'node:http'
    imports['{ usersApp }'] = lib('app')
    imports['{ listen, close }'] = lib('request')
    imports['{ forwardProxy }'] = lib('proxy')
    body = `let upstream
let proxy
let handler
const agent = new http.Agent({ keepAlive: true })
beforeAll(async () => {
  upstream = await listen(usersApp())
  handler = forwardProxy(upstream.url)
  proxy = await listen(handler)
})
afterAll(async () => {
  agent.destroy()
  handler.agent.destroy()
  await close(proxy.server)
  await close(upstream.server)
})

function viaProxy(target) {
  const { port } = proxy.server.address()
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: target, agent }, (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode, via: res.headers.via, text }))
      })
      .on('error', reject)
  })
}
`
    for (let i = 0; i < tests; i++) {
      cases.push(`  test('proxy ${file}-${i}', async () => {
    const forward = await viaProxy(upstream.url + '/users/${1 + (i % 20)}')
    expect(forward.via).toBe('1.1 tiny-proxy')
    expect(JSON.parse(forward.text).id).toBe(${1 + (i % 20)})
    const reverse = await fetch(proxy.url + '/users?limit=3')
    expect((await reverse.json()).length).toBe(3)
    const missing = await viaProxy(upstream.url + '/nope')
    expect(missing.status).toBe(404)
  })`)
    }
  } else {
    // Hono-style handlers served through the adapter, per request; half of the tests run concurrently.
    imports['{ webApp, toNode }'] = lib('web')
    imports['{ request }'] = lib('request')
    body = 'const app = toNode(webApp())\n'
    for (let i = 0; i < tests; i++) {
      const concurrent = i % 2 === 1
      cases.push(`  test${concurrent ? '.concurrent' : ''}('web ${file}-${i}${concurrent ? ' (concurrent)' : ''}', async () => {
    const created = await request(app).post('/todos').send({ title: 'todo ${file}-${i}' }).expect(201)
    expect(created.body.title).toBe('todo ${file}-${i}')
    const health = await request(app).get('/health').expect(200)
    expect(health.text).toBe('ok')
  })`)
    }
  }
  const head =
    runner === 'vitest'
      ? Object.entries(imports).map(([name, from]) => `import ${name} from '${from}'`)
      : Object.entries(imports)
          .filter(([, from]) => from !== 'vitest')
          .map(([name, from]) => `const ${name.replace(/ as /g, ': ')} = require('${from}')`)
  return `${head.join('\n')}\n\n${body}\ndescribe('${kind} ${file}', () => {\n${cases.join('\n\n')}\n})\n`
}

/** How many requests the suite makes in all. */
export function appsRequests(size: AppsSize): number {
  let n = 0
  for (let f = 0; f < size.files; f++) n += size.tests * REQUESTS[APP_KINDS[f % APP_KINDS.length]!]
  return n
}

function fileName(kind: Kind, file: number): string {
  return `${kind}-${String(file).padStart(2, '0')}`
}

function vitestConfig(netsan: boolean): string {
  return `export default {\n  cacheDir: '../.cache/vite-apps',\n  test: {\n    include: ['*.test.mjs'],\n    environment: '${netsan ? 'netsan' : 'node'}',\n  },\n}\n`
}

function jestConfig(netsan: boolean, projects: boolean): string {
  const env = netsan ? 'netsan' : 'node'
  if (!projects) {
    return `module.exports = {\n  rootDir: __dirname,\n  testMatch: ['<rootDir>/*.test.js'],\n  cacheDirectory: '<rootDir>/../.cache/jest-apps',\n  testEnvironment: '${env}',\n}\n`
  }
  const list = APP_KINDS.map(
    (kind) =>
      `    {\n      displayName: '${kind}',\n      rootDir: __dirname,\n      testMatch: ['<rootDir>/${kind}-*.test.js'],\n      testEnvironment: '${env}',\n    },`,
  )
  return `module.exports = {\n  rootDir: __dirname,\n  cacheDirectory: '<rootDir>/../.cache/jest-apps',\n  projects: [\n${list.join('\n')}\n  ],\n}\n`
}

/**
 * Writes the suite under `dir` (beside the loopback suite, whose node_modules it shares); returns the
 * project folder of each runner (Jest's `projects` variant runs the Jest folder with another config).
 */
export function generateApps(dir: string, size: AppsSize): Record<AppsRunner, string> {
  const vitest = join(dir, 'apps-vitest')
  const jest = join(dir, 'apps-jest')
  for (const [folder, runner] of [
    [vitest, 'vitest'],
    [jest, 'jest'],
  ] as const) {
    mkdirSync(join(folder, 'lib'), { recursive: true })
    const ext = runner === 'vitest' ? 'mjs' : 'js'
    for (const [name, m] of Object.entries(HELPERS))
      writeFileSync(join(folder, 'lib', `${name}.${ext}`), render(runner, m))
    for (let f = 0; f < size.files; f++) {
      const kind = APP_KINDS[f % APP_KINDS.length]!
      writeFileSync(join(folder, `${fileName(kind, f)}.test.${ext}`), testFile(runner, kind, f, size.tests))
    }
  }
  writeFileSync(join(vitest, 'package.json'), '{ "private": true, "type": "module" }\n')
  writeFileSync(join(vitest, 'vitest.plain.config.mjs'), vitestConfig(false))
  writeFileSync(join(vitest, 'vitest.netsan.config.mjs'), vitestConfig(true))
  writeFileSync(join(jest, 'package.json'), '{ "private": true, "type": "commonjs" }\n')
  writeFileSync(join(jest, 'jest.plain.config.js'), jestConfig(false, false))
  writeFileSync(join(jest, 'jest.netsan.config.js'), jestConfig(true, false))
  writeFileSync(join(jest, 'jest.projects-plain.config.js'), jestConfig(false, true))
  writeFileSync(join(jest, 'jest.projects-netsan.config.js'), jestConfig(true, true))
  return { vitest, jest, 'jest-projects': jest }
}

/** The command line that runs `mode` ('plain' or 'netsan') of `runner` in its project; `out` receives Jest's or Vitest's JSON. */
export function appsArgs(runner: AppsRunner, mode: 'plain' | 'netsan', out: string) {
  if (runner === 'vitest') return runnerCommand('vitest', `vitest.${mode}.config.mjs`, out)
  const config = runner === 'jest-projects' ? `jest.projects-${mode}.config.js` : `jest.${mode}.config.js`
  return runnerCommand('jest', config, out)
}
