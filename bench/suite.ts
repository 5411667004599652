// Generates the HTTP-heavy suite the bench runs: the same test files for Vitest (ESM) and Jest
// (CommonJS), each with its own loopback server (beforeAll/afterAll), a keep-alive http.Agent shared
// by the file and closed in afterAll, and tests that each make REQUESTS_PER_TEST real requests with
// their bodies consumed. Nothing leaks, so every mode must pass.

import { cpSync, globSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ROOT, runnerCommand } from './lib.ts'

export const REQUESTS_PER_TEST = 5

export type RunnerName = 'vitest' | 'jest'

export interface SuiteSize {
  files: number
  tests: number
  /** Each test also creates and closes a few handles (timers, a file descriptor): `--handles`. */
  handles?: boolean
}

// The runners and undici are linked from the repo's node_modules. netsan's own packages are
// installed as copies of what npm would install (package.json and its `files`), so their real path
// is inside node_modules, as for a user: Vitest then loads them as dependencies instead of running
// workspace sources through Vite's module runner.
const LINKED = ['vitest', 'undici', 'jest-environment-node', 'why-is-node-running']
const INSTALLED: Record<string, string> = {
  netsan: 'packages/core',
  'vitest-environment-netsan': 'packages/vitest-env',
  'jest-environment-netsan': 'packages/jest-env',
}

function install(name: string, from: string, modules: string): void {
  const dest = join(modules, name)
  mkdirSync(dest, { recursive: true })
  const manifest = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as { files?: string[] }
  // `files` entries are paths or globs (`dist/*.js`).
  for (const pattern of ['package.json', ...(manifest.files ?? ['dist'])]) {
    for (const entry of globSync(pattern, { cwd: from })) {
      cpSync(join(from, entry), join(dest, entry), { recursive: true })
    }
  }
}

const SERVER = `
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
let server
let base

function handle(req, res) {
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    const url = new URL(req.url, 'http://localhost')
    let type = 'text/plain'
    let body
    if (url.pathname === '/echo') {
      type = 'application/json'
      body = Buffer.concat(chunks)
    } else if (url.pathname === '/json') {
      type = 'application/json'
      body = Buffer.from(JSON.stringify({ id: url.searchParams.get('id'), items: ITEMS }))
    } else {
      body = Buffer.alloc(Number(url.searchParams.get('n') ?? 64), 120)
    }
    res.writeHead(200, { 'content-type': type, 'content-length': body.length })
    res.end(body)
  })
}

const ITEMS = Array.from({ length: 20 }, (_, i) => ({ i, name: 'item ' + i }))

beforeAll(async () => {
  server = http.createServer(handle)
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = 'http://127.0.0.1:' + server.address().port
})

afterAll(async () => {
  agent.destroy()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

function get(path) {
  return new Promise((resolve, reject) => {
    const req = http.get(base + path, { agent }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode, text }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}
`

// What a test does with timers and files when the suite measures the handle kinds (all closed: no leak).
const HANDLE_WORK = `
    await new Promise((resolve) => setTimeout(resolve, 1))
    clearInterval(setInterval(() => {}, 1000))
    clearTimeout(setTimeout(() => {}, 1000))
    fs.closeSync(fs.openSync(os.devNull, 'r'))`

function testBlock(file: number, i: number, handles: boolean): string {
  const id = `${file}-${i}`
  return `
  test('requests ${id}', async () => {${handles ? HANDLE_WORK : ''}
    const a = await fetch(base + '/json?id=${id}')
    expect(a.status).toBe(200)
    expect((await a.json()).id).toBe('${id}')
    const b = await fetch(base + '/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: '${id}' }),
    })
    expect(await b.text()).toBe('{"id":"${id}"}')
    const c = await request(base + '/text?n=4096')
    expect(c.statusCode).toBe(200)
    await c.body.dump()
    const d = await request(base + '/json?id=${id}')
    expect((await d.body.json()).items.length).toBe(20)
    const e = await get('/text?n=${512 + ((i * 97) % 2048)}')
    expect(e.text.length).toBe(${512 + ((i * 97) % 2048)})
  })
`
}

function testFile(runner: RunnerName, file: number, tests: number, handles: boolean): string {
  const head =
    runner === 'vitest'
      ? `${handles ? "import fs from 'node:fs'\nimport os from 'node:os'\n" : ''}import http from 'node:http'\nimport { request } from 'undici'\nimport { afterAll, beforeAll, describe, expect, test } from 'vitest'\n`
      : `${handles ? "const fs = require('node:fs')\nconst os = require('node:os')\n" : ''}const http = require('node:http')\nconst { request } = require('undici')\n`
  let body = ''
  for (let i = 0; i < tests; i++) body += testBlock(file, i, handles)
  return `${head}${SERVER}\ndescribe('file ${file}', () => {${body}})\n`
}

export type Mode = 'plain' | 'netsan' | 'option' | 'handles' | 'why'
export const MODES: readonly Mode[] = ['plain', 'netsan', 'option']
/**
 * With `--handles`: netsan with the handle kinds on (kinds: ['network', 'handles']), and plain with
 * why-is-node-running loaded in every process (its async_hooks hook, a stack per async resource).
 */
export const HANDLE_MODES: readonly Mode[] = ['handles', 'why']

/** The runner's own leak option, used in mode `option`. */
export const OPTION_FLAG: Record<RunnerName, string> = {
  vitest: '--detectAsyncLeaks',
  jest: '--detectOpenHandles',
}

const HANDLE_KINDS_OPTION = "{ netsan: { kinds: ['network', 'handles'] } }"

function vitestConfig(netsan: boolean, handles = false): string {
  const env = `    environment: '${netsan ? 'netsan' : 'node'}',\n`
  const options = handles ? `    environmentOptions: ${HANDLE_KINDS_OPTION},\n` : ''
  return `export default {\n  cacheDir: '../.cache/vite',\n  test: {\n    include: ['*.test.mjs'],\n${env}${options}  },\n}\n`
}

function jestConfig(netsan: boolean, handles = false): string {
  const options = handles ? `  testEnvironmentOptions: ${HANDLE_KINDS_OPTION},\n` : ''
  return `module.exports = {\n  rootDir: __dirname,\n  testMatch: ['<rootDir>/*.test.js'],\n  cacheDirectory: '<rootDir>/../.cache/jest',\n  testEnvironment: '${netsan ? 'netsan' : 'node'}',\n${options}}\n`
}

/** Writes the suite into `dir` (replacing what is there); returns the per-runner project folders. */
export function generateSuite(dir: string, size: SuiteSize): Record<RunnerName, string> {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(join(dir, 'node_modules'), { recursive: true })
  for (const name of LINKED) symlinkSync(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name))
  for (const [name, from] of Object.entries(INSTALLED))
    install(name, join(ROOT, from), join(dir, 'node_modules'))
  writeFileSync(join(dir, 'package.json'), '{ "private": true }\n')

  const vitest = join(dir, 'vitest')
  mkdirSync(vitest)
  writeFileSync(join(vitest, 'package.json'), '{ "private": true, "type": "module" }\n')
  writeFileSync(join(vitest, 'vitest.plain.config.mjs'), vitestConfig(false))
  writeFileSync(join(vitest, 'vitest.netsan.config.mjs'), vitestConfig(true))
  writeFileSync(join(vitest, 'vitest.handles.config.mjs'), vitestConfig(true, true))

  const jest = join(dir, 'jest')
  mkdirSync(jest)
  writeFileSync(join(jest, 'package.json'), '{ "private": true, "type": "commonjs" }\n')
  writeFileSync(join(jest, 'jest.plain.config.js'), jestConfig(false))
  writeFileSync(join(jest, 'jest.netsan.config.js'), jestConfig(true))
  writeFileSync(join(jest, 'jest.handles.config.js'), jestConfig(true, true))

  for (let f = 0; f < size.files; f++) {
    const name = `file${String(f).padStart(2, '0')}`
    writeFileSync(join(vitest, `${name}.test.mjs`), testFile('vitest', f, size.tests, size.handles === true))
    writeFileSync(join(jest, `${name}.test.js`), testFile('jest', f, size.tests, size.handles === true))
  }
  return { vitest, jest }
}

/** The command line that runs `mode` of `runner` in its generated project; `out` receives a JSON report. */
export function runnerArgs(runner: RunnerName, mode: Mode, out: string): { bin: string; args: string[] } {
  const config = mode === 'netsan' || mode === 'handles' ? mode : 'plain'
  const command = runnerCommand(
    runner,
    runner === 'vitest' ? `vitest.${config}.config.mjs` : `jest.${config}.config.js`,
    out,
  )
  if (mode === 'option') command.args.push(OPTION_FLAG[runner])
  return command
}

/** Environment variables of a mode: `why` loads why-is-node-running in the runner and every worker. */
export function modeEnv(mode: Mode, dir: string): NodeJS.ProcessEnv {
  if (mode !== 'why') return {}
  const entry = pathToFileURL(join(dir, 'node_modules', 'why-is-node-running', 'index.js')).href
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${entry}`.trim() }
}
