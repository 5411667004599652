// Redaction on every output: the URL rules, then real leaks through a Session into the failure
// message, the JSON report, and `netsan report` in each format (the CLI run as a child process).
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { startServer } from '../fixtures/server.ts'
import {
  allowLeaks,
  formatLeaks,
  type NetsanOptions,
  redactUrl,
  resolveOptions,
  Session,
} from '../src/index.ts'
import { isSecretName, redactText } from '../src/redact.ts'

const ROOT = path.resolve(new URL('..', import.meta.url).pathname)
const MAIN = path.join(ROOT, 'src/cli/main.ts')

/** The names issue 13 found printed in clear; each gets a value that must never reach an output. */
export const SECRET_NAMES = [
  'jwt',
  'x-api-key',
  'api_token',
  'auth_token',
  'access-token',
  'accessToken',
  'sessionToken',
  'client-secret',
  'id-token',
  'X-Goog-Signature',
  'X-Goog-Credential',
  'AWSAccessKeyId',
  'sas',
  'otp',
  'token_hash',
]
const secretQuery = SECRET_NAMES.map((n, i) => `${n}=LEAKED${i}x`).join('&')
const redactedQuery = SECRET_NAMES.map((n) => `${n}=***`).join('&')

describe('redactUrl', () => {
  test('every name issue 13 found in clear is redacted', () => {
    assert.equal(
      redactUrl(`https://api.example.com/v1/items?page=2&${secretQuery}`),
      `https://api.example.com/v1/items?page=2&${redactedQuery}`,
    )
  })

  const secret = [
    'token',
    'refresh_token',
    'key',
    'apikey',
    'API_KEY',
    'Signature',
    'X-Amz-Signature',
    'X-Amz-Credential',
    'X-Amz-Security-Token',
    'password',
    'passwd',
    'pwd',
    'auth',
    'authorization',
    'code',
    'auth_code',
    'session',
    'PHPSESSID',
    'jsessionid',
    'sid',
    'credentials',
    'assertion',
    'SAMLResponse',
    'ticket',
    'client_secret',
    'private_key',
    'hmac',
    'totp',
    'pin',
    'sig',
    'access%5Ftoken',
  ]
  const harmless = ['page', 'bytes', 'q', 'sort', 'limit', 'id', 'user', 'format', 'lang', 'state', 'v', 'sv']
  test(`pattern names are secret: ${secret.join(', ')}`, () => {
    for (const name of secret) assert.ok(isSecretName(name), name)
  })
  test(`ordinary names are not: ${harmless.join(', ')}`, () => {
    for (const name of harmless) assert.ok(!isSecretName(name), name)
  })

  test('a JWT is redacted wherever it sits: an unknown parameter, a bare parameter, a path segment', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl'
    assert.equal(redactUrl(`http://h/a/${jwt}/b?x=${jwt}&${jwt}&page=1`), 'http://h/a/***/b?x=***&***&page=1')
  })

  test(';path parameters with a secret name are redacted', () => {
    assert.equal(redactUrl('http://h/app;jsessionid=ABC123/x;v=1'), 'http://h/app;jsessionid=***/x;v=1')
  })

  test('userinfo and the fragment, as before', () => {
    assert.equal(redactUrl('https://u:p@host/p?token=abc&x=1#frag'), 'https://***@host/p?token=***&x=1#…')
    assert.equal(redactUrl('http://127.0.0.1:8080/big?bytes=10'), 'http://127.0.0.1:8080/big?bytes=10')
  })

  test('a URL that does not parse (a proxy target glued to its host) still loses userinfo, secrets and fragment', () => {
    assert.equal(
      redactUrl('http://127.0.0.1:3128http://u:p@target/p?access-token=s3cr3t&page=1#x'),
      'http://127.0.0.1:3128http://***@target/p?access-token=***&page=1#…',
    )
    assert.equal(redactUrl('not a url //user:pw@x'), 'not a url //***@x')
    assert.equal(redactUrl('/relative/path?jwt=abc'), '/relative/path?jwt=***')
  })

  test('redaction is idempotent', () => {
    const once = redactUrl(`https://u:p@h/p;jsessionid=1?${secretQuery}#f`)
    assert.equal(redactUrl(once), once)
  })
})

describe('redactText', () => {
  test('redacts every URL in a sentence and keeps the punctuation around it', () => {
    assert.equal(
      redactText(`GET http://h/x?otp=123456, no response yet; then ws://h/s?sessionToken=abc (open).`),
      'GET http://h/x?otp=***, no response yet; then ws://h/s?sessionToken=*** (open).',
    )
  })
  test('the code frame under a leak: a URL written in the source line is redacted too', () => {
    const text = formatLeaks(
      { type: 'test', name: 't' },
      [
        {
          kind: 'request',
          description: 'GET http://h/x, no response yet',
          stack: ['at src/a.ts:3:1'],
          frame: { file: 'src/a.ts', line: 3, column: 1 },
          fix: 'abort it',
          owner: 't',
          count: 1,
        },
      ],
      { sourceLine: () => "  await fetch('https://bot:hunter2@api.example.com/send?api_token=abc123')" },
    )
    assert.ok(text.includes("3 | await fetch('https://***@api.example.com/send?api_token=***')"), text)
  })
  test('a URL with nothing to hide is left exactly as written (no "/" added, case kept)', () => {
    for (const text of [
      'session to http://127.0.0.1:43811, never closed',
      'GET HTTP://Example.com:80/a?b=1 → 200',
      'ws://[::1]:9000 (open)',
    ]) {
      assert.equal(redactText(text), text)
    }
  })
  test('leaves text without URLs alone', () => {
    const text = 'TCP socket to 127.0.0.1:4000 (connected), never destroyed'
    assert.equal(redactText(text), text)
  })
})

// --- real leaks through a Session: every output ---

let srv: Awaited<ReturnType<typeof startServer>>
let tmp: string
const sockets: net.Socket[] = []
/** Accepts connections and never answers. */
const silent = { server: net.createServer((socket) => sockets.push(socket)), port: 0 }
before(async () => {
  srv = await startServer()
  await new Promise<void>((resolve) => silent.server.listen(0, '127.0.0.1', resolve))
  silent.port = (silent.server.address() as net.AddressInfo).port
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-redact-'))
})
after(async () => {
  for (const s of sockets) s.destroy()
  silent.server.close()
  await srv.close()
  fs.rmSync(tmp, { recursive: true, force: true })
})

async function runWorker(file: string, tests: [string, () => Promise<unknown>][], options: NetsanOptions) {
  const session = new Session(resolveOptions({ root: ROOT, settleMs: 50, ...options }), {
    runner: 'node-test',
  })
  try {
    const fileScope = session.startFile(file)
    const outcomes = []
    for (const [name, body] of tests) {
      const scope = session.startTest(fileScope, name)
      await session.runIn(scope, body)
      outcomes.push((await session.endTest(scope))!)
    }
    await session.endFile(fileScope)
    return outcomes
  } finally {
    session.dispose()
  }
}

function cli(args: string[], env: Record<string, string> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env }
  if (!('GITHUB_ACTIONS' in env)) delete childEnv.GITHUB_ACTIONS
  delete childEnv.GITHUB_STEP_SUMMARY
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, env: childEnv, encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

/** No secret value anywhere, and every name shown with `***`. */
function assertRedacted(text: string, what: string): void {
  assert.doesNotMatch(text, /LEAKED\d+x/, `${what} prints a secret:\n${text}`)
  assert.doesNotMatch(text, /hunter2/, `${what} prints the password:\n${text}`)
  for (const name of SECRET_NAMES)
    assert.ok(text.includes(`${name}=***`), `${what} lacks ${name}=***:\n${text}`)
}

describe('redaction on every output (real leaks, a Session, the CLI)', () => {
  let dir: string
  let outcomes: Awaited<ReturnType<typeof runWorker>>
  before(async () => {
    dir = path.join(tmp, 'reports')
    const port = new URL(srv.url).port
    outcomes = await runWorker(
      'test/secrets.test.ts',
      [
        [
          'fetch body never read',
          async () => {
            const res = await fetch(`${srv.url}/big?bytes=65536&${secretQuery}#frag`)
            return res.status
          },
        ],
        [
          'http.get left in flight',
          async () => {
            const req = http.get(`http://user:hunter2@127.0.0.1:${port}/hang?${secretQuery}`)
            req.on('error', () => {})
            await new Promise((resolve) => req.once('socket', resolve))
          },
        ],
        [
          'http.request through a proxy left in flight',
          async () => {
            // Absolute-form target, as an HTTP proxy receives it; the "proxy" here never answers.
            const path = `http://api.example.com/v1/hang?${secretQuery}`
            const req = http.request({ host: '127.0.0.1', port: silent.port, path })
            req.on('error', () => {})
            req.end()
            await new Promise((resolve) => req.once('socket', resolve))
          },
        ],
        [
          'allowed, with a URL in the reason',
          async () => {
            allowLeaks('socket', `the fixture streams from ${srv.url}/feed?${secretQuery}`)
            const socket = net.connect(Number(port), '127.0.0.1')
            sockets.push(socket)
            await new Promise((resolve) => socket.once('connect', resolve))
          },
        ],
      ],
      { report: path.join(dir, 'netsan.json') },
    )
  })

  test('the failure message (LeakError) and its leaks', () => {
    const [body, request, proxied] = outcomes
    for (const o of [body, request, proxied]) {
      assert.ok(o?.error, 'the test fails')
      assertRedacted(o.error.message, 'the failure message')
      assertRedacted(JSON.stringify(o.error.leaks), 'LeakError.leaks')
    }
    assert.match(body!.error!.message, /GET http:\/\/127\.0\.0\.1:\d+\/big\?bytes=65536&jwt=\*\*\*.*#…/)
    assert.ok(
      proxied!.error!.message.includes(
        `GET http://api.example.com/v1/hang?${redactedQuery}, no response yet`,
      ),
      proxied!.error!.message,
    )
  })

  test('the warning of an allowed leak', () => {
    const allowed = outcomes[3]
    assert.ok(allowed?.warning)
    assertRedacted(allowed.warning, 'the allowed-leak note')
  })

  test('the JSON report', () => {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
    assert.ok(files.length > 0)
    for (const f of files) assertRedacted(fs.readFileSync(path.join(dir, f), 'utf8'), `report ${f}`)
  })

  for (const format of ['text', 'github', 'markdown', 'json']) {
    test(`netsan report --format ${format}`, () => {
      const r = cli(['report', dir, '--format', format])
      assert.equal(r.status, 1, r.stderr)
      assertRedacted(r.stdout + r.stderr, `netsan report --format ${format}`)
    })
  }

  test('netsan baseline writes no secret either', () => {
    const out = path.join(tmp, 'baseline.json')
    const r = cli(['baseline', dir, '--out', out])
    assert.equal(r.status, 0, r.stderr)
    const text = fs.readFileSync(out, 'utf8')
    assert.doesNotMatch(text, /LEAKED\d+x|hunter2/, text)
  })
})
