// A Vitest below the peer floor (no aroundEach) gets one message: which version is installed, what
// netsan needs, what to do. The real run on Vitest 4.0 is the compatibility matrix's cell
// "Vitest 4.0.x (below the peer floor)" (compat/matrix.mjs refusedCell).
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { describe, test } from 'node:test'
import * as core from 'netsan'
import { installedVitest, tooOldMessage, unsupportedVitest, VITEST_RANGE } from '../src/version.ts'

const pkg = createRequire(import.meta.url)('../package.json') as { peerDependencies: { vitest: string } }

describe('a Vitest without aroundEach', () => {
  test('the message names the installed version, the need and what to do (snapshot)', () => {
    assert.equal(
      tooOldMessage('4.0.5'),
      "netsan: vitest-environment-netsan needs Vitest 4.1 or later (peerDependency vitest ^4.1.0 || ^5.0.0), but Vitest 4.0.5 is installed: netsan checks each test through Vitest's aroundEach, which 4.1 added, and no setup file or option replaces it. Upgrade Vitest (npm install -D vitest@^4.1), or remove environment: 'netsan' from the config until you can.",
    )
    assert.match(tooOldMessage(undefined), /but the installed Vitest has no aroundEach:/)
  })

  test('the range it quotes is the package.json peerDependency', () => {
    assert.equal(VITEST_RANGE, pkg.peerDependencies.vitest)
  })

  test("netsan's error, with a stable code and no stack frames; none where aroundEach exists", () => {
    const error = unsupportedVitest(core, { afterAll: () => {} })
    assert.ok(error instanceof core.NetsanError)
    assert.equal((error as core.NetsanError).code, core.ErrorCodes.UNSUPPORTED_RUNNER)
    assert.equal(error.stack, `NetsanError: ${error.message}`)
    assert.match(
      error.message,
      new RegExp(`but Vitest ${installedVitest()?.replaceAll('.', '\\.')} is installed`),
    )
    assert.equal(unsupportedVitest(core, { afterAll: () => {}, aroundEach: () => {} }), undefined)
  })

  test('installedVitest reads the version of the vitest this package resolves', () => {
    assert.equal(installedVitest(), createRequire(import.meta.url)('vitest/package.json').version)
  })
})
