// Where the time goes: runs one generated suite (the real-shaped one by default, or the loopback one)
// under one runner, plain and with netsan in alternating rounds, with a reporter that records each
// file's phases (Vitest: environment setup, prepare, collect, setup, tests; Jest: loading the test
// environment, setup files, run time) and each test's timing. Prints, per phase, the median over the
// rounds of its sum over files, plain against netsan; and what netsan adds to each test: its duration
// plus the gap until the next test of its file starts (netsan's per-test hooks and its end-of-test
// check run there), paired test by test, as a distribution (a clean test should add no waiting).
// `--prof <dir>` also writes V8 CPU profiles of every process (`--cpu-prof`), one folder
// per mode, for `node bench/profile.ts <dir>/netsan`. No timing is asserted anywhere.
//
// Usage: node bench/phases.ts [--suite apps|loopback] [--runner vitest|jest|jest-projects]
//          [--rounds n] [--files n] [--tests n] [--prof dir] [--dir dir] [--keep] [--json file]

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { type AppsRunner, appsArgs, generateApps } from './apps.ts'
import { intFlag, median, quantile, round, run, table } from './lib.ts'
import { generateSuite, runnerArgs } from './suite.ts'

const { values: argv } = parseArgs({
  options: {
    suite: { type: 'string', default: 'apps' },
    runner: { type: 'string', default: 'vitest' },
    rounds: { type: 'string' },
    files: { type: 'string' },
    tests: { type: 'string' },
    prof: { type: 'string' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
})
const suite = argv.suite === 'loopback' ? 'loopback' : 'apps'
const runner = argv.runner as AppsRunner
if (
  !['vitest', 'jest', 'jest-projects'].includes(runner) ||
  (suite === 'loopback' && runner === 'jest-projects')
) {
  console.error(`--runner: expected vitest, jest or (real-shaped suite) jest-projects, got "${runner}"`)
  process.exit(2)
}
const rounds = intFlag(argv.rounds, 'rounds', 4)
const size =
  suite === 'apps'
    ? { files: intFlag(argv.files, 'files', 32), tests: intFlag(argv.tests, 'tests', 6) }
    : { files: intFlag(argv.files, 'files', 8), tests: intFlag(argv.tests, 'tests', 32) }
const vitest = runner === 'vitest'

const dir = argv.dir ? resolve(argv.dir) : mkdtempSync(join(os.tmpdir(), 'netsan-phases-'))
const loopback = generateSuite(dir, suite === 'loopback' ? size : { files: 1, tests: 1 })
const apps = generateApps(dir, suite === 'apps' ? size : { files: 1, tests: 1 })
const cwd = suite === 'apps' ? apps[runner] : loopback[vitest ? 'vitest' : 'jest']
const out = join(dir, '.phases')
mkdirSync(out, { recursive: true })

// Reporters that write what the runner knows of each file and test to PHASES_OUT.
const VITEST_REPORTER = `import { writeFileSync } from 'node:fs'
export default class {
  onTestRunEnd(modules) {
    const files = modules.map((m) => {
      const d = m.diagnostic()
      const tests = [...m.children.allTests()].map((t) => {
        const td = t.diagnostic()
        return { name: t.fullName, start: td?.startTime, duration: td?.duration, concurrent: t.options.concurrent === true || /(concurrent)/.test(t.fullName) }
      })
      return {
        file: m.moduleId,
        phases: { environment: d.environmentSetupDuration, prepare: d.prepareDuration, collect: d.collectDuration, setup: d.setupDuration, tests: d.duration },
        tests,
      }
    })
    writeFileSync(process.env.PHASES_OUT, JSON.stringify(files))
  }
}
`
const JEST_REPORTER = `const { writeFileSync } = require('node:fs')
module.exports = class {
  constructor() { this.files = [] }
  onTestResult(_test, result) {
    const p = result.perfStats
    this.files.push({
      file: result.testFilePath,
      phases: { environment: p.loadTestEnvironmentEnd - p.loadTestEnvironmentStart, setup: p.setupFilesEnd - p.setupFilesStart, tests: p.runtime },
      tests: result.testResults.map((t) => ({ name: t.fullName, start: t.startAt, duration: t.duration, concurrent: /(concurrent)/.test(t.fullName) })),
    })
  }
  onRunComplete() { writeFileSync(process.env.PHASES_OUT, JSON.stringify(this.files)) }
}
`
const reporter = join(cwd, vitest ? 'phases-reporter.mjs' : 'phases-reporter.js')
writeFileSync(reporter, vitest ? VITEST_REPORTER : JEST_REPORTER)

interface FileTiming {
  file: string
  phases: Record<string, number>
  tests: { name: string; start: number; duration: number; concurrent: boolean }[]
}

type ModeName = 'plain' | 'netsan'

function command(mode: ModeName, json: string): { bin: string; args: string[] } {
  const c =
    suite === 'apps' ? appsArgs(runner, mode, json) : runnerArgs(vitest ? 'vitest' : 'jest', mode, json)
  c.args.push(vitest ? `--reporter=${reporter}` : `--reporters=${reporter}`)
  return c
}

const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }
delete childEnv.NETSAN

const runs: Record<ModeName, { wallMs: number; files: FileTiming[] }[]> = { plain: [], netsan: [] }
console.log(
  `phases: ${suite} suite, ${size.files} files × ${size.tests} tests, ${runner}, 1 warm-up + ${rounds} rounds, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
)
for (let r = 0; r <= rounds; r++) {
  const order: ModeName[] = r % 2 === 0 ? ['plain', 'netsan'] : ['netsan', 'plain']
  const cells: string[] = []
  for (const mode of order) {
    const phasesOut = join(out, `${mode}-${r}.json`)
    const json = join(out, `${mode}-${r}.runner.json`)
    const env: NodeJS.ProcessEnv = { ...childEnv, PHASES_OUT: phasesOut }
    const { bin, args } = command(mode, json)
    if (argv.prof && r > 0) {
      const profDir = resolve(argv.prof, mode)
      mkdirSync(profDir, { recursive: true })
      // Vitest's workers do not take NODE_OPTIONS' --cpu-prof: its own --execArgv passes it on.
      if (vitest) args.push('--execArgv=--cpu-prof', `--execArgv=--cpu-prof-dir=${profDir}`)
      else env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profDir}`.trim()
    }
    const result = await run(process.execPath, [bin, ...args], { cwd, timeoutMs: 300_000, env })
    if (result.code !== 0 || !existsSync(phasesOut)) {
      console.error(
        `${mode} round ${r}: exit ${result.code ?? result.signal}\n${result.stdout.slice(-3000)}\n${result.stderr.slice(-3000)}`,
      )
      process.exit(1)
    }
    cells.push(`${mode} ${(result.ms / 1000).toFixed(2)}s`)
    if (r > 0) runs[mode].push({ wallMs: result.ms, files: JSON.parse(readFileSync(phasesOut, 'utf8')) })
  }
  console.log(`  ${r === 0 ? 'warm-up' : `round ${r}`}: ${cells.join('  ')}`)
}

// Per phase: the sum over files in each run, median over runs.
const phaseNames = [...new Set(runs.plain.flatMap((x) => x.files.flatMap((f) => Object.keys(f.phases))))]
const sumOf = (files: FileTiming[], phase: string) => files.reduce((a, f) => a + (f.phases[phase] ?? 0), 0)
const phaseRows = phaseNames.map((phase) => {
  const p = median(runs.plain.map((x) => sumOf(x.files, phase)))
  const n = median(runs.netsan.map((x) => sumOf(x.files, phase)))
  return [phase, p.toFixed(0), n.toFixed(0), (n - p).toFixed(0), ((n - p) / size.files).toFixed(1)]
})
const wallP = median(runs.plain.map((x) => x.wallMs))
const wallN = median(runs.netsan.map((x) => x.wallMs))
const paired = runs.netsan.map((x, i) => x.wallMs / runs.plain[i]!.wallMs)
console.log(
  `\nwall: plain ${(wallP / 1000).toFixed(2)} s, netsan ${(wallN / 1000).toFixed(2)} s, ratio of medians ${(wallN / wallP).toFixed(3)}, round by round ${paired.map((v) => v.toFixed(3)).join(' ')}`,
)
console.log('\nphases, summed over files (ms; median of rounds):')
console.log(table(['phase', 'plain', 'netsan', 'added', 'added per file'], phaseRows))

// Per test: its duration plus the gap to the next test of its file (sequential tests only).
function perTest(files: FileTiming[]): Map<string, { duration: number; span: number | undefined }> {
  const m = new Map<string, { duration: number; span: number | undefined }>()
  for (const f of files) {
    const tests = [...f.tests].sort((a, b) => a.start - b.start)
    for (let i = 0; i < tests.length; i++) {
      const t = tests[i]!
      const next = tests[i + 1]
      const sequential = !t.concurrent && next !== undefined && !next.concurrent
      m.set(`${f.file}\0${t.name}`, {
        duration: t.duration,
        span: sequential ? next.start - t.start : undefined,
      })
    }
  }
  return m
}
const plainTests = runs.plain.map((x) => perTest(x.files))
const netsanTests = runs.netsan.map((x) => perTest(x.files))
const addedDuration: number[] = []
const addedSpan: number[] = []
// By group: the first word of the test's name (the real-shaped suite's kind of file).
const byGroup = new Map<string, number[]>()
for (const key of plainTests[0]!.keys()) {
  const med = (list: Map<string, { duration: number; span: number | undefined }>[], k: 'duration' | 'span') =>
    median(list.map((m) => m.get(key)?.[k]).filter((v): v is number => typeof v === 'number'))
  const added = med(netsanTests, 'duration') - med(plainTests, 'duration')
  addedDuration.push(added)
  const group = key.split('\0')[1]!.split(/[ >]/)[0]!
  byGroup.set(group, [...(byGroup.get(group) ?? []), added])
  const span = med(netsanTests, 'span') - med(plainTests, 'span')
  if (Number.isFinite(span)) addedSpan.push(span)
}
const dist = (values: number[]) => {
  const q = (p: number) => round(quantile(values, p), 2).toFixed(2)
  return [
    String(values.length),
    q(0.1),
    q(0.5),
    q(0.9),
    q(0.99),
    round(Math.max(...values), 2).toFixed(2),
    String(values.filter((v) => v >= 5).length),
  ]
}
console.log('\nadded per test, netsan − plain, paired test by test (ms; median of rounds for each test):')
console.log(
  table(
    ['measure', 'tests', 'p10', 'median', 'p90', 'p99', 'max', '≥ 5 ms'],
    [
      ['duration (runner-timed)', ...dist(addedDuration)],
      ['start to next start', ...dist(addedSpan)],
    ],
  ),
)
console.log(
  table(
    ['duration by group', 'tests', 'p10', 'median', 'p90', 'p99', 'max', '≥ 5 ms'],
    [...byGroup].map(([group, values]) => [group, ...dist(values)]),
  ),
)
if (argv.prof) console.log(`\nprofiles: node bench/profile.ts ${resolve(argv.prof, 'netsan')} (and …/plain)`)

if (argv.json) {
  writeFileSync(
    argv.json,
    `${JSON.stringify(
      {
        suite,
        runner,
        size,
        rounds,
        load: os.loadavg(),
        wall: { plainMs: wallP, netsanMs: wallN, paired },
        phases: Object.fromEntries(
          phaseRows.map(([p, a, b]) => [p, { plainMs: Number(a), netsanMs: Number(b) }]),
        ),
        addedPerTestMs: { duration: addedDuration, span: addedSpan, byGroup: Object.fromEntries(byGroup) },
      },
      null,
      2,
    )}\n`,
  )
}
if (!argv.keep && !argv.dir) rmSync(dir, { recursive: true, force: true })
