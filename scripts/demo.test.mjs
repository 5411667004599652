// The demo's outcomes are exactly the documented ones (examples/expected.json): every leak pattern
// is caught in both runners and every fixed twin passes. Runs the real `npm run demo`.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

test('npm run demo: every outcome as documented in examples/expected.json', () => {
  const run = spawnSync(process.execPath, ['scripts/demo.mjs'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 300_000,
    env: { ...process.env, FORCE_COLOR: '0' },
  })
  const output = `${run.stdout}\n${run.stderr}`
  assert.equal(run.status, 0, output)
  assert.match(output, /✔ all \d+ outcomes as expected/)
  // The summary table has a row per pattern and runner, each caught with its twin passing.
  for (const runner of ['vitest', 'jest']) {
    for (const pattern of [
      '1 body: fetch',
      '2 request: no deadline',
      '3 idle: undici Agent per call',
      '4 socket',
      '5 http2',
      '6 server',
      '7 websocket',
    ]) {
      const row = output.split('\n').find((line) => line.startsWith(pattern) && line.includes(` ${runner} `))
      assert.ok(row, `no summary row for ${pattern} / ${runner}`)
      assert.match(row, /\byes(?: \(file level\))?\s+yes\s*$/, row)
    }
  }
  // The reports are netsan's, with the creating line of the example's own code.
  assert.match(output, /netsan: test "leaks: fetch body never read" left 1 network resource open/)
  assert.match(output, /✖ unconsumed response body — GET http:\/\/127\.0\.0\.1:\d+\/release\.tar\.gz → 200/)
  assert.match(output, /at assetExists \(src\/assets\.(ts|js):10\)/)
  // netsan's reporter, as README's quick start adds it, sums up each run.
  assert.match(output, /^── vitest: netsan's closing summary\n {5}netsan {2}\d+ leaks in \d+ tests/m)
  assert.match(output, /^── jest: netsan's closing summary\nnetsan: {6}\d+ leaks in \d+ tests/m)
})
