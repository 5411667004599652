// require('netsan') inside Jest 29.0.0's sandbox gets the whole API: Jest 29.0 parses the ES module build
// as CommonJS and throws a SyntaxError (not ERR_REQUIRE_ESM), which the CommonJS entry once took for a
// real error (LeakError and track were a SyntaxError). Real Jest 29.0.0 (the adapter's peer floor), from
// the compatibility matrix's cache (installed there with npm on first use, as the matrix does), on a
// project whose node_modules holds the built netsan. Needs `npm run build` first.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'

const REPO = path.resolve(import.meta.dirname, '..')
const CACHE = path.resolve(
  process.env.NETSAN_MATRIX_CACHE ?? path.join(os.homedir(), '.cache', 'netsan-matrix'),
  'jest29.0.0',
)
const SPECS = ['jest@29.0.0', 'jest-environment-node@29.0.0']

/** The matrix's Jest 29.0.0 folder, installed with npm when it is missing. */
function jest29() {
  const version = (name) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(CACHE, 'node_modules', name, 'package.json'), 'utf8'))
        .version
    } catch {
      return undefined
    }
  }
  if (version('jest') !== '29.0.0' || version('jest-environment-node') !== '29.0.0') {
    fs.mkdirSync(CACHE, { recursive: true })
    fs.writeFileSync(path.join(CACHE, 'package.json'), `${JSON.stringify({ private: true }, null, 2)}\n`)
    const npm = spawnSync('npm', ['i', '--no-audit', '--no-fund', '--loglevel=error', ...SPECS], {
      cwd: CACHE,
      encoding: 'utf8',
      timeout: 300_000,
    })
    assert.equal(npm.status, 0, `npm i ${SPECS.join(' ')} in ${CACHE}: ${npm.stderr}`)
  }
  return CACHE
}

test("Jest 29.0.0: require('netsan') in the sandbox gives the whole API", () => {
  const home = jest29()
  const project = fs.mkdtempSync(path.join(os.tmpdir(), 'netsan-jest29-'))
  try {
    // The built package as a registry user gets it (package.json, dist, cjs), not the workspace link.
    const netsan = path.join(project, 'node_modules', 'netsan')
    for (const part of ['package.json', 'dist', 'cjs'])
      fs.cpSync(path.join(REPO, 'packages/core', part), path.join(netsan, part), { recursive: true })
    fs.copyFileSync(path.join(REPO, 'compat/fixtures/jest/api.test.js'), path.join(project, 'api.test.js'))
    const environment = path.join(home, 'node_modules', 'jest-environment-node')
    fs.writeFileSync(
      path.join(project, 'jest.config.js'),
      `module.exports = { testEnvironment: ${JSON.stringify(environment)} }\n`,
    )
    // What a plain require() outside Jest gives: the sandbox must give the same names.
    const names = Object.keys(createRequire(path.join(project, 'x.js'))('netsan')).sort()
    const run = spawnSync(
      process.execPath,
      [path.join(home, 'node_modules/jest/bin/jest.js'), '--ci', '--rootDir', project, '--runInBand'],
      {
        cwd: project,
        encoding: 'utf8',
        timeout: 120_000,
        killSignal: 'SIGKILL',
        env: { ...process.env, NETSAN_API_NAMES: names.join(','), NO_COLOR: '1', FORCE_COLOR: '0' },
      },
    )
    const output = `${run.stdout}\n${run.stderr}`
    assert.equal(run.status, 0, output)
    assert.match(output, /✓ api: require\(netsan\) gives the whole API/)
    assert.match(output, /Tests: {7}1 passed, 1 total/)
  } finally {
    fs.rmSync(project, { recursive: true, force: true })
  }
})
