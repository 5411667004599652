// The compatibility matrix: leak/clean pairs across Node lines, undici copies, HTTP clients and
// test runners. See docs/compatibility.md for what it covers and the last full run.
//
//   npm run test:matrix                  full matrix (downloads into the cache on first use)
//   npm run test:matrix -- --write-doc   …and regenerate the table in docs/compatibility.md
//   npm run test:matrix -- --quick       CI subset: Node 24 from the repo, bundled undici + the repo's
//                                        undici 8, the client cells of the repo's devDependencies (axios,
//                                        got, node-fetch, nock, ws); no download, no install
//   options: --json (results on stdout), --only <text> (cells whose name contains it),
//            --cache <dir> (default $NETSAN_MATRIX_CACHE or ~/.cache/netsan-matrix),
//            --source <git revision> (test netsan as committed there, built in the cache from
//            `git archive`, instead of the working tree's packages/*/dist)
//
// Extra packages are installed with npm into folders of the cache dir, never into the repo.
// Everything runs one process at a time, on 127.0.0.1, each child with a timeout and killed by
// its own process group if it outlives it.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

const REPO = path.resolve(import.meta.dirname, '..')
const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'write-doc': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    cache: { type: 'string' },
    source: { type: 'string' },
  },
})
const CACHE = path.resolve(
  args.cache ?? process.env.NETSAN_MATRIX_CACHE ?? path.join(os.homedir(), '.cache', 'netsan-matrix'),
)
const log = (...a) => (args.json ? console.error(...a) : console.log(...a))
/** Where the built netsan packages come from: the working tree, or a build of `--source`. */
let PKG = path.join(REPO, 'packages')

/** Node lines of the full matrix: the engines floor, then the live LTS lines. */
const NODE_VERSIONS = ['20.19.0', '22.23.3', '24.21.0', '26.12.1']
const UNDICI_MAJORS = [6, 7, 8]
// Majors pinned: npm may otherwise pick an older major whose engines admit the Node that runs it
// (got 14 and msw 2 instead of got 16 and msw 3), and the tables would change with the machine.
const CLIENTS = ['axios@1', 'got@16', 'node-fetch@3', 'msw@3']
const CLIENT_NAMES = CLIENTS.map((s) => s.replace(/(.)@.*$/, '$1'))

// ---- processes ----------------------------------------------------------------------------------
function run(command, argv, { cwd = REPO, env = {}, timeoutMs = 120_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, timeoutMs)
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ code: -1, stdout, stderr: `${stderr}${error.message}`, timedOut })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, timedOut })
    })
  })
}
async function must(command, argv, options) {
  const r = await run(command, argv, { timeoutMs: 600_000, ...options })
  if (r.code !== 0)
    throw new Error(`${command} ${argv.join(' ')} failed (${r.code}):\n${r.stderr}${r.stdout}`)
  return r
}

// ---- engines ranges (the forms npm packages here use: ||, ^x.y.z, >=x.y.z, x.y.z, spaces = and) --
const parse = (v) => v.replace(/^v/, '').split('.').map(Number)
const cmp = (a, b) => {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0)
  return 0
}
function satisfies(version, range) {
  if (!range) return true
  const v = parse(version)
  return range.split('||').some((part) =>
    part
      .trim()
      .split(/\s+/)
      .every((c) => {
        const m = /^(\^|~|>=|>|<=|<|=)?v?(\d+)(?:\.(\d+|x))?(?:\.(\d+|x))?$/.exec(c)
        if (!m) return true
        const b = [Number(m[2]), Number(m[3] ?? 0) || 0, Number(m[4] ?? 0) || 0]
        switch (m[1]) {
          case '^':
            return v[0] === b[0] && cmp(v, b) >= 0
          case '~':
            return v[0] === b[0] && v[1] === b[1] && cmp(v, b) >= 0
          case '>=':
            return cmp(v, b) >= 0
          case '>':
            return cmp(v, b) > 0
          case '<=':
            return cmp(v, b) <= 0
          case '<':
            return cmp(v, b) < 0
          default:
            return m[3] === undefined ? v[0] === b[0] : cmp(v, b) === 0
        }
      }),
  )
}
const manifest = (dir, name) => {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'node_modules', name, 'package.json'), 'utf8'))
  } catch {
    return undefined
  }
}
/** Why `pkg` (installed under `dir`) does not run on `node`, from its engines field; undefined when it does. */
function outOfEngines(dir, name, node) {
  const m = manifest(dir, name)
  const range = m?.engines?.node
  return range && !satisfies(node, range) ? `${name} ${m.version} needs Node ${range}` : undefined
}

// ---- the cache: Node binaries and isolated installs ------------------------------------------------
async function nodeBinary(version) {
  const repoNode = path.join(REPO, 'node_modules/node/bin/node')
  if (args.quick) {
    if (fs.existsSync(repoNode)) return repoNode
    return process.execPath
  }
  const dir = path.join(CACHE, `node-${version}`)
  const bin = path.join(dir, 'bin/node')
  if (fs.existsSync(bin)) return bin
  const pkg = `node-${process.platform}-${process.arch}@${version}`
  log(`  fetching ${pkg} (npm pack) into ${dir}`)
  fs.mkdirSync(dir, { recursive: true })
  const { stdout } = await must('npm', ['pack', pkg, '--pack-destination', dir, '--silent'])
  const tgz = path.join(dir, stdout.trim().split('\n').pop())
  await must('tar', ['xzf', tgz, '-C', dir, '--strip-components=1', 'package/bin/node'])
  fs.rmSync(tgz)
  return bin
}
async function install(folder, specs) {
  const dir = path.join(CACHE, folder)
  // Cached when every package is there in the version its spec asks for (`name@range`).
  const cached = specs.every((spec) => {
    const [, name, range] = /^(.+?)(?:@([^@]+))?$/.exec(spec)
    const version = manifest(dir, name)?.version
    return version !== undefined && (!range || satisfies(version, range))
  })
  if (cached) return dir
  log(`  npm i ${specs.join(' ')} in ${dir}`)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ private: true }, null, 2)}\n`)
  await must('npm', ['i', '--no-audit', '--no-fund', '--loglevel=error', ...specs], { cwd: dir })
  return dir
}
/** Entries the cell process imports (ESM-only packages resolve from the folder that holds them). */
function writeClientEntries(dir) {
  const load = (name, expr = 'm.default') =>
    `export const ${name.replace(/-(\w)/g, (_, c) => c.toUpperCase())} = await import('${name}').then((m) => ${expr}, () => undefined)\n`
  fs.writeFileSync(path.join(dir, 'clients.mjs'), load('axios') + load('got') + load('node-fetch'))
  fs.writeFileSync(
    path.join(dir, 'msw.mjs'),
    "export * as msw from 'msw'\nexport * as mswNode from 'msw/node'\n" +
      "import { createRequire } from 'node:module'\n" +
      "export const mswVersion = createRequire(import.meta.url)('msw/package.json').version\n",
  )
}
/** The workspace packages as a user gets them: package.json plus the built files, copied. */
function copyNetsan(home, packages) {
  for (const [folder, name, parts] of [
    ['core', 'netsan', ['package.json', 'dist', 'cjs']],
    ['vitest-env', 'vitest-environment-netsan', ['package.json', 'dist']],
    ['jest-env', 'jest-environment-netsan', ['package.json', 'dist']],
  ]) {
    if (!packages.includes(name)) continue
    const to = path.join(home, 'node_modules', name)
    fs.rmSync(to, { recursive: true, force: true })
    for (const part of parts)
      fs.cpSync(path.join(PKG, folder, part), path.join(to, part), { recursive: true })
  }
  const suite = path.join(home, 'fixtures')
  fs.rmSync(suite, { recursive: true, force: true })
  fs.cpSync(path.join(REPO, 'compat/fixtures'), suite, { recursive: true })
  return suite
}

// ---- cells --------------------------------------------------------------------------------------
const results = []
const record = (r) => {
  if (args.only && !r.crashed && !`${r.row} ${r.col}`.includes(args.only)) return
  results.push(r)
  const mark = r.status === 'pass' ? 'ok  ' : r.status === 'fail' ? 'FAIL' : 'n/a '
  log(`  ${mark} ${r.section} | ${r.row} | ${r.col}${r.detail ? ` — ${r.detail}` : ''}`)
}

async function clientProcess(node, nodeVersion, section, rowOf, colOf, cellArgs) {
  const r = await run(
    node,
    [
      path.join(REPO, 'compat/cells.mjs'),
      '--netsan',
      path.join(PKG, 'core/dist/netsan.js'),
      ...cellArgs,
      ...(args.only ? ['--only', args.only] : []),
    ],
    // The fixture certificate, trusted for the cells that use a default dispatcher over TLS.
    {
      timeoutMs: 180_000,
      env: { NODE_EXTRA_CA_CERTS: path.join(REPO, 'packages/core/fixtures/tls-cert.pem') },
    },
  )
  let out
  try {
    out = JSON.parse(r.stdout.trim().split('\n').pop())
  } catch {
    record({
      section,
      row: rowOf(cellArgs.join(' ')),
      col: colOf('process'),
      crashed: true,
      status: 'fail',
      detail: `cell process exited ${r.code}${r.timedOut ? ' (timeout)' : ''}: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 6).join(' / ')}`,
    })
    return
  }
  for (const c of out.cells)
    record({
      section,
      node: nodeVersion,
      row: rowOf(c.cell, out),
      col: colOf(c.cell, out),
      status: c.na ? 'n/a' : c.ok ? 'pass' : 'fail',
      detail: c.detail,
      note: c.note,
      ms: c.ms,
    })
  return out
}

/** A runner cell: the fixture suite (one leaking, one fixed test) through the adapter. */
async function runnerCell(node, nodeVersion, runner) {
  const { label, home, kind } = runner
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-matrix-'))
  const out = path.join(tmp, 'results.json')
  const suite = path.join(home, 'fixtures')
  const bin =
    kind === 'vitest'
      ? path.join(home, 'node_modules/vitest/vitest.mjs')
      : path.join(home, 'node_modules/jest/bin/jest.js')
  const argv =
    kind === 'vitest'
      ? [bin, 'run', '--root', path.join(suite, 'vitest'), '--reporter=json', `--outputFile=${out}`]
      : [
          bin,
          '--ci',
          '--rootDir',
          path.join(suite, 'jest'),
          '--maxWorkers=1',
          '--json',
          `--outputFile=${out}`,
        ]
  const env = { PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` }
  for (const key of Object.keys(process.env)) if (key.startsWith('NETSAN')) env[key] = ''
  const r = await run(node, argv, { cwd: path.join(suite, kind), env, timeoutMs: 180_000 })
  let failed = []
  let passed = []
  let detail = ''
  try {
    const json = JSON.parse(fs.readFileSync(out, 'utf8'))
    for (const file of json.testResults)
      for (const t of file.assertionResults) (t.status === 'failed' ? failed : passed).push(t.title)
    const message = json.testResults
      .flatMap((f) => f.assertionResults.flatMap((t) => t.failureMessages))
      .join('\n')
    if ((message.match(/unconsumed response body/g) ?? []).length < 2)
      detail = 'no netsan report in the failure messages'
  } catch {
    detail = `no results (exit ${r.code}${r.timedOut ? ', timeout' : ''}): ${(r.stderr || r.stdout).trim().split('\n').slice(0, 8).join(' / ')}`
  }
  fs.rmSync(tmp, { recursive: true, force: true })
  failed = failed.sort()
  passed = passed.sort()
  const wantFailed = ['leaks: body never read', 'leaks: http response never read']
  // Jest: require('netsan') in the sandbox gives the whole API (compat/fixtures/jest/api.test.js).
  const wantPassed = [
    ...(kind === 'jest' ? ['api: require(netsan) gives the whole API'] : []),
    'fixed: body read',
    'fixed: http response read',
  ]
  if (!detail && (failed.join() !== wantFailed.join() || passed.join() !== wantPassed.join()))
    detail = `failed [${failed.join(', ')}], passed [${passed.join(', ')}]`
  if (!detail && r.code === 0) detail = 'the run exited 0 despite the leak'
  record({
    section: 'runners',
    node: nodeVersion,
    row: label,
    col: `Node ${nodeVersion}`,
    status: detail ? 'fail' : 'pass',
    detail,
  })
}

/**
 * A Vitest below the adapter's peer floor (no aroundEach): the run must fail with netsan's one message,
 * printed once, naming the installed version, and with no other advice from netsan (the setup file).
 */
async function refusedCell(node, nodeVersion, runner) {
  const { label, home } = runner
  const suite = path.join(home, 'fixtures', 'vitest')
  const version = manifest(home, 'vitest').version
  const env = { PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH}` }
  for (const key of Object.keys(process.env)) if (key.startsWith('NETSAN')) env[key] = ''
  const r = await run(node, [path.join(home, 'node_modules/vitest/vitest.mjs'), 'run', '--root', suite], {
    cwd: suite,
    env,
    timeoutMs: 180_000,
  })
  const output = `${r.stdout}\n${r.stderr}`
  const said = output.split('vitest-environment-netsan needs Vitest 4.1 or later').length - 1
  let detail = ''
  if (r.code === 0) detail = 'the run exited 0'
  else if (said !== 1) detail = `the message was printed ${said} times`
  else if (!output.includes(`but Vitest ${version} is installed`))
    detail = `the message does not name Vitest ${version}`
  else if (output.includes('setupFiles')) detail = 'netsan also advised the setup file'
  record({
    section: 'runners',
    node: nodeVersion,
    row: label,
    col: `Node ${nodeVersion}`,
    status: detail ? 'fail' : 'pass',
    detail,
  })
}

/** `git archive <rev>` of the packages into the cache, built there with the repository's tsc. */
async function buildSource(rev) {
  const sha = (await must('git', ['rev-parse', '--short', `${rev}^{commit}`])).stdout.trim()
  const dir = path.join(CACHE, `source-${sha}`)
  if (!fs.existsSync(path.join(dir, 'packages/core/dist/netsan.js'))) {
    log(`  building netsan ${sha} in ${dir}`)
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir, { recursive: true })
    const tar = path.join(dir, 'source.tar')
    await must('git', ['archive', '--output', tar, sha, 'packages', 'tsconfig.base.json'])
    await must('tar', ['xf', tar, '-C', dir])
    fs.rmSync(tar)
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'))
    const tsc = path.join(REPO, 'node_modules/typescript/bin/tsc')
    await must(process.execPath, [tsc, '-b', 'packages/core', 'packages/vitest-env', 'packages/jest-env'], {
      cwd: dir,
    })
  }
  sourceSha = sha
  return path.join(dir, 'packages')
}
let sourceSha

// ---- the plan -----------------------------------------------------------------------------------
async function main() {
  const started = performance.now()
  if (args.source) PKG = await buildSource(args.source)
  if (!fs.existsSync(path.join(PKG, 'core/dist/netsan.js')))
    throw new Error('packages/core/dist is missing: run `npm run build` first')
  const versions = args.quick ? ['24.21.0'] : NODE_VERSIONS
  log(`netsan compatibility matrix${args.quick ? ' (quick)' : ''}; cache ${args.quick ? 'unused' : CACHE}`)

  const undiciDirs = new Map()
  let clientsDir
  const runners = []
  const rootManifest = (n) => manifest(REPO, n)
  // Where the client cells' entries are (clients.mjs, msw.mjs): the packages must resolve from there.
  let entriesDir
  if (args.quick) {
    undiciDirs.set(rootManifest('undici').version.split('.')[0], REPO)
    // The repository's devDependencies: axios, got and node-fetch, in CI too (node-fetch's leak was lost
    // once with only the full matrix to notice). Their entries live under node_modules, whence they resolve.
    if (['axios', 'got', 'node-fetch'].every((n) => rootManifest(n))) {
      clientsDir = REPO
      entriesDir = path.join(REPO, 'node_modules', '.cache', 'netsan-matrix-clients')
      fs.mkdirSync(entriesDir, { recursive: true })
      writeClientEntries(entriesDir)
    }
  } else {
    for (const major of UNDICI_MAJORS)
      undiciDirs.set(String(major), await install(`undici${major}`, [`undici@${major}`]))
    clientsDir = await install('clients', CLIENTS)
    entriesDir = clientsDir
    writeClientEntries(clientsDir)
    // Each runner major twice: the floor of the adapters' peerDependencies and the latest release.
    const isolated = [
      // Below the peer floor: netsan must refuse it with one clear message (refusedCell).
      ['vitest4.0', ['vitest@~4.0.0'], 'vitest', ' (below the peer floor)'],
      ['vitest4.1.0', ['vitest@4.1.0'], 'vitest', ' (peer floor)'],
      ['vitest4', ['vitest@4'], 'vitest', ''],
      ['vitest5.0.0', ['vitest@5.0.0'], 'vitest', ' (peer floor)'],
      ['jest29.0.0', ['jest@29.0.0', 'jest-environment-node@29.0.0'], 'jest', ' (peer floor)'],
      ['jest29', ['jest@29', 'jest-environment-node@29'], 'jest', ''],
      ['jest30.0.0', ['jest@30.0.0', 'jest-environment-node@30.0.0'], 'jest', ' (peer floor)'],
    ]
    // The repository's Vitest and Jest, linked into a cache folder that gets the same copies of the
    // built adapters as the other runner folders (not the workspace links of the repository).
    const repoRunners = path.join(CACHE, 'repo-runners')
    for (const name of ['vitest', 'jest', 'jest-environment-node']) {
      const link = path.join(repoRunners, 'node_modules', name)
      if (!fs.existsSync(link)) {
        fs.mkdirSync(path.dirname(link), { recursive: true })
        fs.symlinkSync(path.join(REPO, 'node_modules', name), link)
      }
    }
    copyNetsan(repoRunners, ['netsan', 'vitest-environment-netsan', 'jest-environment-netsan'])
    for (const [folder, specs, kind, suffix] of isolated) {
      const home = await install(folder, specs)
      copyNetsan(home, [
        'netsan',
        kind === 'vitest' ? 'vitest-environment-netsan' : 'jest-environment-netsan',
      ])
      const label = `${kind === 'vitest' ? 'Vitest' : 'Jest'} ${manifest(home, kind).version}${suffix}`
      runners.push({ label, home, kind, pkg: kind, refused: folder === 'vitest4.0' })
      // The repository's own Vitest 5 and Jest 30 (latest) after their floors.
      if (folder === 'vitest5.0.0' || folder === 'jest30.0.0') {
        const name = kind === 'vitest' ? 'Vitest' : 'Jest'
        runners.push({ label: `${name} ${rootManifest(kind).version}`, home: repoRunners, kind, pkg: kind })
      }
    }
  }

  for (const version of versions) {
    const node = await nodeBinary(version)
    const actual = (
      await must(node, ['-p', 'process.versions.node + " " + (process.versions.undici ?? "")'])
    ).stdout.trim()
    const [nodeVersion, bundledUndici] = actual.split(' ')
    log(`Node ${nodeVersion} (${node}), bundled undici ${bundledUndici}`)
    const undiciRow = (label) => () => `Node ${nodeVersion} · ${label}`
    const byCell = (cell) => cell
    const nodeCol = () => `Node ${nodeVersion}`

    await clientProcess(node, nodeVersion, 'undici', undiciRow(`bundled ${bundledUndici}`), byCell, [
      '--group',
      'undici',
      '--undici',
      'bundled',
    ])
    for (const dir of undiciDirs.values()) {
      const version = manifest(dir, 'undici').version
      const why = outOfEngines(dir, 'undici', nodeVersion)
      if (why) {
        record({
          section: 'undici',
          node: nodeVersion,
          row: undiciRow(`npm ${version}`)(),
          col: '*',
          status: 'n/a',
          detail: why,
        })
        continue
      }
      await clientProcess(node, nodeVersion, 'undici', undiciRow(`npm ${version}`), byCell, [
        '--group',
        'undici',
        '--undici',
        dir,
      ])
    }
    const skip = []
    const naClients = []
    if (clientsDir)
      for (const [name, cells] of [
        ['axios', ['axios']],
        ['got', ['got']],
        ['node-fetch', ['node-fetch']],
      ]) {
        const why = outOfEngines(clientsDir, name, nodeVersion)
        if (why) {
          skip.push(...cells)
          naClients.push([name, why])
        }
      }
    await clientProcess(node, nodeVersion, 'clients', byCell, nodeCol, [
      '--group',
      'node',
      ...(entriesDir ? ['--clients', entriesDir] : []),
      ...(skip.length ? ['--skip', skip.join(',')] : []),
    ])
    for (const [name, why] of naClients)
      record({ section: 'clients', node: nodeVersion, row: name, col: nodeCol(), status: 'n/a', detail: why })
    const nockWhy = outOfEngines(REPO, 'nock', nodeVersion)
    if (nockWhy)
      for (const row of ['nock 15 (fetch)', 'nock 15 (node:http)'])
        record({ section: 'clients', node: nodeVersion, row, col: nodeCol(), status: 'n/a', detail: nockWhy })
    else await clientProcess(node, nodeVersion, 'clients', byCell, nodeCol, ['--group', 'nock'])
    if (clientsDir && manifest(clientsDir, 'msw')) {
      const mswWhy = outOfEngines(clientsDir, 'msw', nodeVersion)
      if (mswWhy)
        for (const row of ['msw (fetch)', 'msw (node:http)'])
          record({
            section: 'clients',
            node: nodeVersion,
            row,
            col: nodeCol(),
            status: 'n/a',
            detail: mswWhy,
          })
      else
        await clientProcess(node, nodeVersion, 'clients', byCell, nodeCol, [
          '--group',
          'msw',
          '--clients',
          entriesDir,
        ])
    }
    for (const runner of runners) {
      const why = outOfEngines(runner.home, runner.pkg, nodeVersion)
      if (why)
        record({
          section: 'runners',
          node: nodeVersion,
          row: runner.label,
          col: nodeCol(),
          status: 'n/a',
          detail: why,
        })
      else if (args.only && !runner.label.includes(args.only)) continue
      else if (runner.refused) await refusedCell(node, nodeVersion, runner)
      else await runnerCell(node, nodeVersion, runner)
    }
  }

  const head = await run('git', ['rev-parse', '--short', 'HEAD'])
  const dirty = await run('git', [
    'status',
    '--porcelain',
    '--',
    'packages/core/src',
    'packages/vitest-env/src',
    'packages/jest-env/src',
  ])
  const summary = {
    quick: args.quick,
    git: sourceSha
      ? `${sourceSha} (--source)`
      : head.code === 0
        ? `${head.stdout.trim()}${dirty.stdout.trim() ? ' with uncommitted changes in packages/*/src' : ''}`
        : undefined,
    date: new Date().toISOString(),
    platform: `${process.platform}-${process.arch}`,
    seconds: Math.round((performance.now() - started) / 1000),
    versions: {
      undici: Object.fromEntries([...undiciDirs].map(([m, d]) => [m, manifest(d, 'undici').version])),
      clients: clientsDir
        ? Object.fromEntries(CLIENT_NAMES.map((n) => [n, manifest(clientsDir, n)?.version]))
        : undefined,
      nock: rootManifest('nock')?.version,
      ws: rootManifest('ws')?.version,
    },
    results,
  }
  const failed = results.filter((r) => r.status === 'fail')
  log(
    `${results.filter((r) => r.status === 'pass').length} passed, ${failed.length} failed, ` +
      `${results.filter((r) => r.status === 'n/a').length} n/a in ${summary.seconds} s`,
  )
  if (!args.quick) {
    fs.mkdirSync(CACHE, { recursive: true })
    fs.writeFileSync(path.join(CACHE, 'last-run.json'), `${JSON.stringify(summary, null, 2)}\n`)
  }
  if (args['write-doc']) {
    if (args.quick || args.only) throw new Error('--write-doc needs the full matrix (no --quick, no --only)')
    const { writeDoc } = await import('./doc.mjs')
    writeDoc(summary, path.join(REPO, 'docs/compatibility.md'))
    log('docs/compatibility.md regenerated')
  }
  if (args.json) process.stdout.write(`${JSON.stringify(summary)}\n`)
  process.exitCode = failed.length ? 1 : 0
}

await main()
