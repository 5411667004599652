// A user's project, three times: the packed tarballs installed with npm, pnpm and yarn (each from the
// registry and its own cache; pnpm and yarn are devDependencies of this repository), the same versions
// of Vitest, Jest, ts-jest and TypeScript as this repository. In each project:
//   - Vitest (ESM), Jest with ts-jest (CommonJS) and Jest with --experimental-vm-modules (ESM) run a
//     file whose leaking test must fail with netsan's report while its clean twin passes, and whose
//     third test uses LeakError and track() from 'netsan' at run time;
//   - tsc type-checks `import { LeakError, track, type NetsanOptions } from 'netsan'` from ESM and
//     CommonJS, and the typed options (a misspelt key must fail: `@ts-expect-error` lines).
// The project template is packaging/consumer/. Needs `npm run build` first (the root test script does it).
// NETSAN_CONSUMER=npm,pnpm picks package managers (default: all three); =off skips the file.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { npmCommand, packAll, REPO, run, show } from './pack.mjs'

const TEMPLATE = path.join(import.meta.dirname, 'consumer')
const ALL = ['npm', 'pnpm', 'yarn']
const asked = (process.env.NETSAN_CONSUMER ?? ALL.join(',')).split(',').filter(Boolean)
const MANAGERS = ALL.filter((pm) => asked.includes(pm))
const INSTALL_MS = 600_000

/** The repository's own versions: installs then come from the caches `npm ci` and earlier runs filled. */
const version = (name) =>
  JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8')).version
const TOOLS = ['vitest', 'vite', 'jest', 'jest-environment-node', '@jest/globals', 'ts-jest', 'typescript']
const toolVersions = Object.fromEntries([...TOOLS, '@types/node'].map((name) => [name, version(name)]))

const binOf = (pkg, file) => path.join(REPO, 'node_modules', pkg, file)
const INSTALL = {
  npm: () => {
    const [npm, prefix] = npmCommand()
    return [npm, [...prefix, 'install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']]
  },
  pnpm: () => [process.execPath, [binOf('pnpm', 'bin/pnpm.mjs'), 'install', '--no-frozen-lockfile']],
  yarn: () => [process.execPath, [binOf('@yarnpkg/cli-dist', 'bin/yarn.js'), 'install']],
}

/** The template plus what each package manager needs to take netsan from the tarballs. */
function writeProject(pm, dir, tarballs) {
  fs.cpSync(TEMPLATE, dir, { recursive: true })
  const local = {}
  for (const [name, file] of Object.entries(tarballs)) {
    fs.copyFileSync(file, path.join(dir, path.basename(file)))
    local[name] = `file:./${path.basename(file)}`
  }
  const manifest = {
    name: `netsan-consumer-${pm}`,
    private: true,
    devDependencies: { ...local, ...toolVersions },
  }
  // The env packages depend on netsan 0.1.0, which the registry does not have: point it at the tarball.
  const pin = { netsan: local.netsan }
  if (pm === 'npm') manifest.overrides = pin
  if (pm === 'yarn') manifest.resolutions = pin
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  if (pm === 'pnpm') {
    // pnpm 10+ reads its settings here; build scripts (a file watcher's) stay off without failing.
    fs.writeFileSync(
      path.join(dir, 'pnpm-workspace.yaml'),
      `overrides:\n  netsan: '${local.netsan}'\nstrictDepBuilds: false\n`,
    )
  }
  if (pm === 'yarn') {
    const registry = process.env.npm_config_registry || 'https://registry.npmjs.org'
    fs.writeFileSync(
      path.join(dir, '.yarnrc.yml'),
      [
        'nodeLinker: node-modules',
        `npmRegistryServer: "${registry.replace(/\/$/, '')}"`,
        'enableTelemetry: false',
        'enableGlobalCache: true',
        'enableImmutableInstalls: false',
        '',
      ].join('\n'),
    )
    fs.writeFileSync(path.join(dir, 'yarn.lock'), '')
  }
}

/** The test named `name` in a runner's JSON report (Vitest's json reporter and Jest's --json share the shape). */
function results(file) {
  const json = JSON.parse(fs.readFileSync(file, 'utf8'))
  return json.testResults.flatMap((f) =>
    f.assertionResults.map((a) => ({ file: f.name, name: a.fullName ?? a.title, ...a })),
  )
}

/**
 * The leaking test failed with netsan's report naming the creating line of the test file, and no
 * frame of netsan's own; the clean twin and the API test passed.
 */
function assertLeakReported(dir, r, reportFile, testFile) {
  assert.equal(r.code, 1, show(r))
  const all = results(reportFile)
  const status = Object.fromEntries(all.map((t) => [t.name, t.status]))
  assert.deepEqual(
    status,
    {
      'leaks a socket': 'failed',
      'closes its socket': 'passed',
      'netsan exports what its types declare': 'passed',
    },
    `${JSON.stringify(
      all.map((t) => [t.name, t.status, t.failureMessages]),
      null,
      2,
    )}\n${show(r)}`,
  )
  const message = all.find((t) => t.name === 'leaks a socket').failureMessages.join('\n')
  assert.match(message, /netsan: test "leaks a socket" left 1 network resource open/, message)
  assert.match(message, /✖ open socket — TCP socket to 127\.0\.0\.1:\d+/, message)
  const line =
    fs
      .readFileSync(path.join(dir, testFile), 'utf8')
      .split('\n')
      .findIndex((l) => l.includes('// LEAK')) + 1
  // `file:line`, not followed by more digits (the report prints no column; Jest's real frame does).
  assert.ok(
    new RegExp(`${testFile.replaceAll('.', '\\.')}:${line}(?!\\d)`).test(message),
    `expected ${testFile}:${line} in\n${message}`,
  )
  for (const frame of message.split('\n').filter((l) => /^\s*at\s/.test(l))) {
    assert.ok(frame.includes(testFile), `a frame outside the test file: ${frame}\n${message}`)
  }
  assert.doesNotMatch(message, /node_modules|netsan\.c?js|environment-netsan/, message)
}

describe('consumer projects', { skip: MANAGERS.length === 0 && 'NETSAN_CONSUMER=off' }, () => {
  let pack
  let work
  before(async () => {
    pack = await packAll()
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-consumer-'))
  })
  after(() => {
    for (const dir of [pack?.dir, work]) if (dir) fs.rmSync(dir, { recursive: true, force: true })
  })

  for (const pm of MANAGERS) {
    describe(`installed with ${pm}`, () => {
      let dir
      const node = (args, options = {}) => run(process.execPath, args, { cwd: dir, ...options })
      before(async () => {
        dir = path.join(work, pm)
        writeProject(pm, dir, pack.tarballs)
        const [command, args] = INSTALL[pm]()
        const r = await run(command, args, { cwd: dir, timeoutMs: INSTALL_MS })
        assert.equal(r.code, 0, `${pm} install:\n${show(r)}`)
        console.log(`# ${pm} install: ${r.ms} ms`)
      })

      test('tsc: netsan’s API from ESM and CommonJS, and the typed options of both runners', async () => {
        // Under pnpm's strict layout, also every declaration file: ours must find what they import.
        const libCheck = pm === 'pnpm' ? ['--skipLibCheck', 'false'] : []
        const r = await node([path.join(dir, 'node_modules/typescript/bin/tsc'), '-p', '.', ...libCheck])
        assert.equal(r.code, 0, show(r))
      })

      test('Vitest (ESM): the leaking test fails with netsan’s report, its twin passes', async () => {
        const out = path.join(dir, 'vitest.json')
        const r = await node([
          path.join(dir, 'node_modules/vitest/vitest.mjs'),
          'run',
          '--reporter=json',
          `--outputFile=${out}`,
        ])
        assertLeakReported(dir, r, out, 'test-vitest/leak.test.ts')
      })

      test('Jest, CommonJS under ts-jest: the leaking test fails with netsan’s report, its twin passes', async () => {
        const out = path.join(dir, 'jest-cjs.json')
        const jest = path.join(dir, 'node_modules/jest/bin/jest.js')
        const r = await node([jest, '-c', 'jest.cjs.config.js', '--ci', '--json', `--outputFile=${out}`])
        assertLeakReported(dir, r, out, 'test-jest-cjs/leak.test.ts')
      })

      test('Jest, native ESM (--experimental-vm-modules): the leaking test fails, its twin passes', async () => {
        const out = path.join(dir, 'jest-esm.json')
        const jest = path.join(dir, 'node_modules/jest/bin/jest.js')
        const args = [jest, '-c', 'jest.esm.config.js', '--ci', '--json', `--outputFile=${out}`]
        const r = await node(['--experimental-vm-modules', '--no-warnings', ...args])
        assertLeakReported(dir, r, out, 'test-jest-esm/leak.test.mjs')
      })
    })
  }
})
