#!/usr/bin/env node
// npm run demo: runs examples/vitest and examples/jest with netsan, prints netsan's real
// report for every leaking test, a table of pattern × runner, and exits 0 only when every
// outcome matches examples/expected.json.
//
// Usage: node scripts/demo.mjs [--only vitest|jest] [--verbose] [--timeout <ms>]
//   --verbose   also print each runner's own console output
//   --timeout   per-runner limit (default 180000, or NETSAN_DEMO_TIMEOUT_MS); on expiry the
//               runner's process group (and only it) is killed and the demo fails

import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  checkExitDiagnosis,
  compareOutcomes,
  expectationsFor,
  extractClosingSummary,
  formatTable,
  KIND_WORDS,
  parseJsonReport,
  summarize,
} from './demo-lib.mjs'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const EXAMPLES = join(ROOT, 'examples')

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    timeout: { type: 'string', default: process.env.NETSAN_DEMO_TIMEOUT_MS ?? '180000' },
  },
})
const timeoutMs = Number(flags.timeout)

const RUNNERS = {
  vitest: {
    cwd: join(EXAMPLES, 'vitest'),
    pkg: 'vitest',
    // A --reporter flag replaces the config's list: netsan's closing summary is named again.
    args: (out) => [
      'run',
      '--reporter=default',
      '--reporter=vitest-environment-netsan/reporter',
      '--reporter=json',
      `--outputFile.json=${out}`,
    ],
  },
  jest: {
    cwd: join(EXAMPLES, 'jest'),
    pkg: 'jest',
    args: (out) => ['--ci', '--json', `--outputFile=${out}`],
  },
}

if (flags.only && !(flags.only in RUNNERS)) {
  console.error(`--only: expected one of ${Object.keys(RUNNERS).join(', ')}, got "${flags.only}"`)
  process.exit(2)
}
if (!(timeoutMs > 0)) {
  console.error(`--timeout: expected a positive number of milliseconds, got "${flags.timeout}"`)
  process.exit(2)
}
if (Number(process.versions.node.split('.')[0]) < 22) {
  console.warn(
    `warning: Node ${process.version}; the examples need Node 22+ (run \`npm run demo\` for the pinned Node)`,
  )
}

/** The runner's CLI entry, resolved from the example project the way its npm script would. */
function binOf(pkg, cwd) {
  const require = createRequire(join(cwd, 'package.json'))
  const manifestPath = require.resolve(`${pkg}/package.json`)
  const { bin } = JSON.parse(readFileSync(manifestPath, 'utf8'))
  return join(dirname(manifestPath), typeof bin === 'string' ? bin : bin[pkg])
}

const live = new Set()

/** Kills the process group of a child this script spawned (detached, so the group is its own). */
function killGroup(child, signal) {
  try {
    if (process.platform === 'win32') child.kill(signal)
    else process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of live) killGroup(child, 'SIGKILL')
    process.exit(130)
  })
}

/** Runs node <bin> <args> with a deadline. Resolves on exit; never rejects. */
function runNode(bin, args, cwd) {
  return new Promise((done) => {
    const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }
    delete env.NETSAN // the demo shows the default mode, 'fail'
    const started = Date.now()
    const child = spawn(process.execPath, [bin, ...args], {
      cwd,
      env,
      detached: process.platform !== 'win32',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    live.add(child)
    let output = ''
    child.stdout.on('data', (chunk) => {
      output += chunk
    })
    child.stderr.on('data', (chunk) => {
      output += chunk
    })
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      killGroup(child, 'SIGTERM')
      setTimeout(() => killGroup(child, 'SIGKILL'), 3000).unref()
    }, timeoutMs)
    const finish = (code, signal) => {
      clearTimeout(timer)
      live.delete(child)
      killGroup(child, 'SIGKILL') // any worker the runner left behind
      done({ code, signal, timedOut, output, ms: Date.now() - started })
    }
    child.once('exit', finish)
    child.once('error', (err) => {
      output += `\n${err.stack}`
      finish(null, null)
    })
  })
}

async function runExample(name, workdir) {
  const runner = RUNNERS[name]
  const out = join(workdir, `${name}.json`)
  let bin
  try {
    bin = binOf(runner.pkg, runner.cwd)
  } catch (err) {
    return {
      actual: { tests: {}, files: {}, error: `cannot find ${runner.pkg}: ${err.message}` },
      run: null,
    }
  }
  const run = await runNode(bin, runner.args(out), runner.cwd)
  writeFileSync(join(workdir, `${name}.out.txt`), run.output)
  let actual
  if (existsSync(out)) {
    try {
      actual = parseJsonReport(JSON.parse(readFileSync(out, 'utf8')), runner.cwd)
    } catch (err) {
      actual = { tests: {}, files: {}, error: `unreadable JSON report: ${err.message}` }
    }
  } else if (run.timedOut) {
    actual = { tests: {}, files: {} }
  } else {
    const tail = run.output.trim().split('\n').slice(-15).join('\n')
    actual = {
      tests: {},
      files: {},
      error: `wrote no JSON report (exit ${run.code ?? run.signal})\n${indent(tail, '    ')}`,
    }
  }
  if (!actual.error && !run.timedOut && Object.keys(actual.tests).length === 0) {
    const head = run.output
      .split('\n')
      .filter((l) => l.trim())
      .slice(0, 12)
      .join('\n')
    actual.error = `no test ran (exit ${run.code ?? run.signal}); its output begins:\n${indent(head, '    ')}`
  }
  if (run.timedOut) {
    const why = `did not exit within ${timeoutMs} ms and was killed (raise the limit with --timeout <ms>)`
    actual.error = actual.error ? `${why}\n${actual.error}` : why
  }
  return { actual, run }
}

function indent(text, pad = '  ') {
  return text
    .split('\n')
    .map((l) => (l ? pad + l : l))
    .join('\n')
}

const expected = JSON.parse(readFileSync(join(EXAMPLES, 'expected.json'), 'utf8'))
const names = flags.only ? [flags.only] : Object.keys(RUNNERS)
const workdir = mkdtempSync(join(tmpdir(), 'netsan-demo-'))
const byRunner = {}
const mismatches = []

for (const name of names) {
  const expectations = expectationsFor(expected, name)
  console.log(`\n▶ ${name}: running examples/${name} …`)
  const { actual, run } = await runExample(name, workdir)
  if (run) {
    const n = Object.keys(actual.tests).length
    console.log(`  ${n} tests, exit ${run.code ?? run.signal}, ${(run.ms / 1000).toFixed(1)} s`)
    if (flags.verbose) console.log(indent(run.output.trimEnd(), '  │ '))
  }
  const { results, mismatches: found } = compareOutcomes(expectations, actual)
  byRunner[name] = results
  mismatches.push(...found.map((m) => `${name}: ${m}`))

  for (const r of results.filter((r) => r.expect === 'fail')) {
    const file = actual.tests[r.name]?.file ?? '?'
    const mark = r.ok ? '✔ caught' : '✖ NOT caught'
    console.log(`\n── ${name} › ${r.name}  (${file})  ${mark}, expected ${KIND_WORDS[r.kind]}`)
    if (r.message) console.log(indent(r.message.trimEnd(), '   '))
    else console.log(`   (${r.detail})`)
  }

  const closing = run && extractClosingSummary(run.output)
  if (run && !run.timedOut) {
    console.log(`\n── ${name}: netsan's closing summary`)
    console.log(closing ?? "   (none: is netsan's reporter in the config?)")
    if (!closing) mismatches.push(`${name}: netsan's reporter printed no closing summary`)
  }

  // The "won't exit" case: the run ended by itself, and netsan said what would have held it.
  if (expected.exit && run && !run.timedOut) {
    const { text, mismatch } = checkExitDiagnosis(run.output, expected.exit)
    console.log(`\n── ${name} › ${expected.exit.test}: after the last test, netsan's exit diagnosis`)
    console.log(indent(text || '(none)', '   '))
    if (mismatch) mismatches.push(`${name}: ${mismatch}`)
  }
}

const rows = summarize(byRunner).map((r) => [r.pattern, r.runner, r.caught, r.fixed])
console.log(`\n${formatTable(['pattern', 'runner', 'caught?', 'fixed twin passes?'], rows)}\n`)

if (mismatches.length === 0) {
  const total = Object.values(byRunner).reduce((n, results) => n + results.length, 0)
  console.log(`✔ all ${total} outcomes as expected (examples/expected.json)`)
  rmSync(workdir, { recursive: true, force: true })
} else {
  console.log(`✖ ${mismatches.length} outcome(s) differ from examples/expected.json:`)
  for (const m of mismatches) console.log(indent(`- ${m}`))
  console.log(`\nrunner output and JSON reports kept in ${workdir}`)
  process.exitCode = 1
}
