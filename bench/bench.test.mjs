// Proves the bench still works: runs `node bench/run.ts --quick` and checks that it completed and
// wrote a well-formed JSON. No timing is asserted.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const BENCH = dirname(fileURLToPath(import.meta.url))
const LIMIT_MS = 600_000

/** Runs the quick bench in its own process group; on timeout kills that group only. */
function runQuick(out) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(BENCH, 'run.ts'), '--quick', '--out', out], {
      cwd: join(BENCH, '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let output = ''
    child.stdout.on('data', (c) => (output += c))
    child.stderr.on('data', (c) => (output += c))
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
    }, LIMIT_MS)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output })
    })
  })
}

const finite = (value, what) => assert.ok(Number.isFinite(value), `${what} is a finite number: ${value}`)

test(
  'npm run bench -- --quick completes and writes a well-formed JSON',
  { timeout: LIMIT_MS + 10_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netsan-bench-test-'))
    try {
      const out = join(dir, 'bench.json')
      const { code, signal, output } = await runQuick(out)
      assert.equal(code, 0, `bench exited ${code ?? signal}:\n${output}`)
      assert.ok(existsSync(out), `bench wrote ${out}`)
      const bench = JSON.parse(readFileSync(out, 'utf8'))

      assert.equal(bench.schema, 'netsan-bench/1')
      assert.equal(bench.quick, true)
      assert.equal(bench.node, process.version)
      assert.equal(bench.suite.tests, bench.suite.files * bench.suite.testsPerFile)
      for (const runner of ['vitest', 'jest']) {
        const r = bench.runners[runner]
        assert.ok(r, `${runner} results present`)
        for (const mode of ['plain', 'netsan', 'option']) {
          const m = r.modes[mode]
          assert.ok(m, `${runner} ${mode} present`)
          assert.equal(m.runsMs.length, bench.suite.rounds, `${runner} ${mode}: one time per round`)
          for (const ms of m.runsMs) finite(ms, `${runner} ${mode} run`)
          finite(m.medianMs, `${runner} ${mode} median`)
          assert.ok(m.medianMs > 0)
          assert.equal(m.testsPassed, bench.suite.tests, `${runner} ${mode}: every test passed`)
        }
        finite(r.ratios.netsanPlain, `${runner} netsan/plain`)
        finite(r.ratios.optionPlain, `${runner} option/plain`)
        const p = r.pairedNetsanPlain
        assert.equal(p.rounds.length, r.modes.netsan.runsMs.length, `${runner}: one paired ratio per round`)
        for (const v of [p.median, p.p25, p.p75, ...p.rounds]) finite(v, `${runner} paired netsan/plain`)
        assert.ok(p.p25 <= p.median && p.median <= p.p75, `${runner}: paired quantiles in order`)
      }

      // The real-shaped suite: plain and netsan under Vitest, Jest and Jest with projects.
      assert.ok(bench.apps, 'real-shaped suite present')
      assert.equal(bench.apps.suite.tests, bench.apps.suite.files * bench.apps.suite.testsPerFile)
      for (const runner of ['vitest', 'jest', 'jest-projects']) {
        const r = bench.apps.runners[runner]
        assert.ok(r, `real-shaped ${runner} results present`)
        for (const mode of ['plain', 'netsan']) {
          const m = r.modes[mode]
          assert.equal(
            m.runsMs.length,
            bench.suite.rounds,
            `real-shaped ${runner} ${mode}: one time per round`,
          )
          finite(m.medianMs, `real-shaped ${runner} ${mode} median`)
          assert.equal(
            m.testsPassed,
            bench.apps.suite.tests,
            `real-shaped ${runner} ${mode}: every test passed`,
          )
        }
        finite(r.ratios.netsanPlain, `real-shaped ${runner} netsan/plain`)
        assert.equal(r.pairedNetsanPlain.rounds.length, bench.suite.rounds)
      }

      assert.ok(bench.micro, 'micro results present')
      assert.ok(bench.micro.requests.length > 0)
      for (const row of bench.micro.requests) {
        finite(row.plainUsPerOp, `${row.client} plain`)
        finite(row.netsanUsPerOp, `${row.client} netsan`)
        finite(row.ratio, `${row.client} ratio`)
      }
      finite(bench.micro.scope.nsPerOp, 'scope ns/op')
      finite(bench.micro.wait.addedWaitUs, 'added wait')

      assert.ok(bench.startup, 'startup results present')
      finite(bench.startup.addedCpuMs, 'startup added CPU')
      finite(bench.startup.addedWallMs, 'startup added uptime')
      assert.ok(Array.isArray(bench.startup.loadedByNetsan))

      assert.ok(bench.memory, 'memory results present')
      for (const phase of ['control', 'netsan']) {
        finite(bench.memory[phase].heapStartBytes, `${phase} heap start`)
        finite(bench.memory[phase].heapEndBytes, `${phase} heap end`)
        finite(bench.memory[phase].slopeBytesPerTest, `${phase} slope`)
      }
      assert.equal(typeof bench.memory.flat, 'boolean')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  },
)
