// The packed tarballs as the registry would get them: publint --strict, arethetypeswrong (the Vitest
// package with its ESM-only profile), and what each tarball holds. Both tools are devDependencies and
// run offline on the tarballs. Needs `npm run build` first (the root test script does it).
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { PACKAGES, packAll, REPO, run, show } from './pack.mjs'

/** A devDependency's bin script, run with this Node (the system one may be older). */
function bin(pkg, name) {
  const manifest = path.join(REPO, 'node_modules', pkg, 'package.json')
  const { bin } = JSON.parse(fs.readFileSync(manifest, 'utf8'))
  return path.join(path.dirname(manifest), typeof bin === 'string' ? bin : bin[name])
}
const PUBLINT = bin('publint', 'publint')
const ATTW = bin('@arethetypeswrong/cli', 'attw')
const REPOSITORY = 'https://github.com/netsan-dev/netsan'

let pack
before(async () => {
  pack = await packAll()
})
after(() => fs.rmSync(pack.dir, { recursive: true, force: true }))

describe('packed tarballs', () => {
  for (const name of Object.keys(PACKAGES)) {
    test(`${name}: publint --strict finds nothing`, async () => {
      const r = await run(process.execPath, [PUBLINT, 'run', pack.tarballs[name], '--strict'])
      assert.equal(r.code, 0, show(r))
      assert.match(r.stdout, /All good!/, show(r))
    })

    // The Vitest environment is ESM-only by design (Vitest imports it): its profile leaves out
    // node10 and require() resolution.
    const profile = name === 'vitest-environment-netsan' ? 'esm-only' : 'strict'
    test(`${name}: arethetypeswrong (${profile} profile) finds no problem`, async () => {
      const r = await run(process.execPath, [
        ATTW,
        pack.tarballs[name],
        '--profile',
        profile,
        '--format',
        'json',
      ])
      assert.equal(r.code, 0, show(r))
      const { analysis } = JSON.parse(r.stdout)
      const ignored = profile === 'esm-only' ? ['node10', 'node16-cjs'] : []
      const problems = analysis.problems.filter((p) => !ignored.includes(p.resolutionKind))
      assert.deepEqual(problems, [], r.stdout)
    })
  }

  test('each tarball has a README with absolute links only, a LICENSE, and where the project lives', () => {
    for (const entry of pack.packed) {
      const files = entry.files.map((f) => f.path)
      assert.ok(files.includes('README.md'), `${entry.name}: ${files}`)
      assert.ok(files.includes('LICENSE'), `${entry.name}: ${files}`)
      const dir = path.join(REPO, PACKAGES[entry.name])
      assert.equal(
        fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8'),
        fs.readFileSync(path.join(REPO, 'LICENSE'), 'utf8'),
        `${entry.name}: its LICENSE is the repository's`,
      )
      const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8')
      const relative = [...readme.matchAll(/\]\((?!https:\/\/|#)([^)]+)\)/g)].map((m) => m[1])
      assert.deepEqual(relative, [], `${entry.name}: relative links break on the registry's page`)
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
      assert.equal(manifest.repository.url, `git+${REPOSITORY}.git`)
      assert.equal(manifest.repository.directory, PACKAGES[entry.name])
      assert.ok(manifest.homepage.startsWith(REPOSITORY), manifest.homepage)
      assert.equal(manifest.bugs.url, `${REPOSITORY}/issues`)
    }
  })

  test('netsan ships its bundles, declarations, CLI and the require() entry; no sources, no unbundled modules', () => {
    const core = pack.packed.find((p) => p.name === 'netsan')
    assert.deepEqual(core.files.map((f) => f.path).sort(), [
      'LICENSE',
      'README.md',
      'bin/netsan.js',
      'cjs/index.cjs',
      'dist/cli.js',
      'dist/cli.js.map',
      'dist/netsan.cjs',
      'dist/netsan.d.cts',
      'dist/netsan.d.ts',
      'dist/netsan.js',
      'dist/netsan.js.map',
      'package.json',
    ])
    // No src/ in the tarball: the maps must carry the sources they point at.
    const map = JSON.parse(fs.readFileSync(path.join(REPO, 'packages/core/dist/netsan.js.map'), 'utf8'))
    assert.equal(map.sourcesContent?.length, map.sources.length)
  })

  test('the env packages ship dist only, and their source maps carry their sources', () => {
    for (const name of ['jest-environment-netsan', 'vitest-environment-netsan']) {
      const files = pack.packed.find((p) => p.name === name).files.map((f) => f.path)
      const other = files.filter((f) => !/^dist\/[\w-]+\.(js|js\.map|d\.ts)$/.test(f))
      assert.deepEqual(other.sort(), ['LICENSE', 'README.md', 'package.json'], name)
      for (const file of files.filter((f) => f.endsWith('.js.map'))) {
        const map = JSON.parse(fs.readFileSync(path.join(REPO, PACKAGES[name], file), 'utf8'))
        assert.equal(map.sourcesContent?.length, map.sources.length, `${name}/${file}`)
      }
    }
  })
})
