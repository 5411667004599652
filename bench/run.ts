// npm run bench: netsan's overhead on two generated HTTP-heavy suites, under Vitest and Jest: the
// loopback suite (bench/suite.ts) in three modes — plain (no netsan), netsan, and the runner's own
// leak option — and the real-shaped suite (bench/apps.ts) plain and with netsan, under Vitest, Jest
// and Jest with `projects`; then the micro-benchmark (bench/micro.ts), the startup cost
// (bench/startup.ts) and the memory check (bench/memory.ts). Prints medians and ratios and writes
// everything to a JSON file in bench/results/. Nothing here asserts a timing.
//
// Usage: node bench/run.ts [--quick] [--rounds n] [--warmup n] [--files n] [--tests n]
//          [--apps-files n] [--apps-tests n] [--suite loopback|apps]
//          [--only vitest|jest] [--out file] [--dir dir] [--keep] [--timeout ms]
//          [--no-micro (also skips startup)] [--no-memory] [--readme]
//          [--handles (each test also creates and closes timers and a file; two more modes: netsan with
//           the handle kinds on, plain with why-is-node-running; the handle micro-benchmark)]

import { execFileSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { APP_KINDS, APPS_RUNNERS, type AppsRunner, appsArgs, appsRequests, generateApps } from './apps.ts'
import type { HandlesResult } from './handles.ts'
import {
  BENCH_DIR,
  intFlag,
  killAll,
  markdownTable,
  median,
  msSince,
  quantile,
  ROOT,
  type RunResult,
  round,
  run,
  table,
} from './lib.ts'
import type { MemoryResult } from './memory.ts'
import type { MicroResult } from './micro.ts'
import type { StartupResult } from './startup.ts'
import {
  generateSuite,
  HANDLE_MODES,
  MODES,
  type Mode,
  modeEnv,
  OPTION_FLAG,
  REQUESTS_PER_TEST,
  type RunnerName,
  runnerArgs,
} from './suite.ts'

export const SCHEMA = 'netsan-bench/1'

export interface ModeResult {
  /** Wall time of each measured run (spawn to exit), in order. */
  runsMs: number[]
  medianMs: number
  minMs: number
  maxMs: number
  exitCodes: (number | null)[]
  /** CPU time (user + system) of the runner and its workers, median, when /usr/bin/time is there. */
  cpuMedianMs?: number
  /** Tests that passed in every run (checked against the suite size). */
  testsPassed: number
  /** The runner's own leak option: how many leaks / open handles it reported (last run). */
  reported?: number
  flag?: string
}

export interface RunnerResult {
  version: string
  /** `handles` and `why` only in a `--handles` run; the real-shaped suite has no `option`. */
  modes: Partial<Record<Mode, ModeResult>> & Record<'plain' | 'netsan', ModeResult>
  ratios: { netsanPlain: number; optionPlain?: number; handlesPlain?: number; whyPlain?: number }
  /** Each round's handles/plain ratio, as pairedNetsanPlain (a `--handles` run). */
  pairedHandlesPlain?: { median: number; p25: number; p75: number; rounds: number[] }
  /** The same ratios of median CPU time (supplementary; wall time is the budget). */
  cpuRatios?: { netsanPlain: number; optionPlain?: number }
  /**
   * Each round's netsan/plain wall-time ratio (the two runs are next to each other), as median and
   * middle half: the spread says how far one run's ratio can be trusted on this machine.
   */
  pairedNetsanPlain: { median: number; p25: number; p75: number; rounds: number[] }
}

export interface BenchResult {
  schema: typeof SCHEMA
  date: string
  node: string
  platform: string
  cpus: { count: number; model: string }
  command: string
  revision: { commit: string; packagesDirty: boolean } | null
  quick: boolean
  suite: {
    files: number
    testsPerFile: number
    tests: number
    requestsPerTest: number
    warmup: number
    rounds: number
    order: string
  }
  runners: Partial<Record<RunnerName, RunnerResult>>
  /** The real-shaped suite (bench/apps.ts), plain and netsan; absent with `--suite loopback`. */
  apps?: {
    suite: { files: number; testsPerFile: number; tests: number; requests: number; kinds: readonly string[] }
    runners: Partial<Record<AppsRunner, RunnerResult>>
  }
  micro: MicroResult | null
  /** bench/handles.ts, in a `--handles` run. */
  handles?: HandlesResult | null
  startup: StartupResult | null
  memory: MemoryResult | null
  /** Runs that failed once (a transient error) and were run again. */
  retries: number
  durationMs: number
}

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    files: { type: 'string' },
    tests: { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    timeout: { type: 'string' },
    'no-micro': { type: 'boolean', default: false },
    'no-memory': { type: 'boolean', default: false },
    readme: { type: 'boolean', default: false },
    handles: { type: 'boolean', default: false },
    suite: { type: 'string' },
    'apps-files': { type: 'string' },
    'apps-tests': { type: 'string' },
  },
})
const handles = argv.handles === true
const modes: readonly Mode[] = handles ? [...MODES, ...HANDLE_MODES] : MODES

const quick = argv.quick === true
const size = {
  files: intFlag(argv.files, 'files', quick ? 2 : 8),
  tests: intFlag(argv.tests, 'tests', quick ? 10 : 32),
  rounds: intFlag(argv.rounds, 'rounds', quick ? 1 : 6),
  warmup: argv.warmup === '0' ? 0 : intFlag(argv.warmup, 'warmup', quick ? 0 : 1),
}
const appsSize = {
  files: intFlag(argv['apps-files'], 'apps-files', quick ? 4 : 32),
  tests: intFlag(argv['apps-tests'], 'apps-tests', quick ? 3 : 6),
}
if (argv.suite !== undefined && argv.suite !== 'loopback' && argv.suite !== 'apps') {
  console.error(`--suite: expected loopback or apps, got "${argv.suite}"`)
  process.exit(2)
}
const withLoopback = argv.suite !== 'apps'
const withApps = argv.suite !== 'loopback' && !handles
const timeoutMs = intFlag(argv.timeout, 'timeout', 180_000)
const runners: RunnerName[] =
  argv.only === undefined
    ? ['vitest', 'jest']
    : argv.only === 'vitest' || argv.only === 'jest'
      ? [argv.only]
      : []
if (runners.length === 0) {
  console.error(`--only: expected vitest or jest, got "${argv.only}"`)
  process.exit(2)
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll()
    cleanup()
    process.exit(130)
  })
}

const started = process.hrtime.bigint()
const dir = argv.dir ? resolve(argv.dir) : mkdtempSync(join(os.tmpdir(), 'netsan-bench-'))
const reports = join(dir, '.reports')
/** Removes the generated suite unless it was asked for (--keep, --dir). */
function cleanup(): void {
  if (!argv.keep && !argv.dir) rmSync(dir, { recursive: true, force: true })
}
const projects = generateSuite(dir, { files: size.files, tests: size.tests, handles })
const appsProjects = generateApps(dir, appsSize)
const appsRunners: AppsRunner[] = APPS_RUNNERS.filter((r) =>
  runners.includes(r === 'vitest' ? 'vitest' : 'jest'),
)
mkdirSync(reports, { recursive: true })

// The runners must see neither a user's NETSAN override nor colors in the output we parse.
const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }
delete childEnv.NETSAN

const expectedTests = size.files * size.tests
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined
const log = (line: string) => console.log(line)

function versionOf(name: string): string {
  return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n')
}

/** How many leaks / open handles the runner's own option reported. */
function reportedByOption(runner: RunnerName, result: RunResult): number {
  const text = `${result.stdout}\n${result.stderr}`
  if (runner === 'vitest') return Number(/Leaks\s+(\d+) leaks?/.exec(text)?.[1] ?? 0)
  return Number(/detected the following (\d+) open handles?/.exec(text)?.[1] ?? 0)
}

interface OneRun {
  result: RunResult
  cpuMs: number | undefined
  passed: number
  reported: number
}

/** Why a run does not count (undefined when it is valid). */
function invalid(mode: Mode, result: RunResult, passed: number, expected: number): string | undefined {
  if (result.timedOut) return `timed out after ${timeoutMs} ms`
  if (passed !== expected) return `${passed} of ${expected} tests passed`
  // The runner's own leak option may fail the run on what it reports; every other mode must pass.
  if (mode !== 'option' && result.code !== 0) return 'the run failed'
  return undefined
}

let retries = 0

/** One runner on one suite: where it runs, how many tests must pass, its command line per mode. */
interface Target {
  /** `vitest`, `jest`, `apps-vitest`, `apps-jest`, `apps-jest-projects`: also names its report files. */
  key: string
  runner: RunnerName
  cwd: string
  expected: number
  modes: readonly Mode[]
  command(mode: Mode, out: string): { bin: string; args: string[] }
}

/** Runs one mode once; an invalid run is retried once (counted in `retries`), a second failure stops the bench. */
async function runOnce(target: Target, mode: Mode, label: string): Promise<OneRun> {
  for (let attempt = 1; ; attempt++) {
    const out = join(reports, `${target.key}-${mode}-${label}.json`)
    rmSync(out, { force: true })
    const { bin, args } = target.command(mode, out)
    const cpuFile = join(reports, `${target.key}-${mode}-${label}.cpu`)
    rmSync(cpuFile, { force: true })
    // /usr/bin/time adds the CPU time of the runner and the workers it waited for (supplementary).
    const [command, commandArgs] = TIME
      ? [TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, bin, ...args]]
      : [process.execPath, [bin, ...args]]
    const env = { ...childEnv, ...modeEnv(mode, dir) }
    const result = await run(command, commandArgs, { cwd: target.cwd, timeoutMs, env })
    let cpuMs: number | undefined
    try {
      const [user, sys] = readFileSync(cpuFile, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number)
      if (Number.isFinite(user) && Number.isFinite(sys)) cpuMs = (user! + sys!) * 1000
    } catch {}
    let passed = -1
    try {
      passed = JSON.parse(readFileSync(out, 'utf8')).numPassedTests
    } catch {}
    const why = invalid(mode, result, passed, target.expected)
    if (why === undefined) {
      return {
        result,
        passed,
        cpuMs,
        reported: mode === 'option' ? reportedByOption(target.runner, result) : 0,
      }
    }
    console.error(`\n${target.key} ${mode} (${label}): ${why}; exit ${result.code ?? result.signal}`)
    console.error(tail(result.stdout, 20))
    console.error(tail(result.stderr, 60))
    if (attempt === 2) {
      killAll()
      cleanup()
      process.exit(1)
    }
    retries++
    console.error('retrying once\n')
  }
}

const targets: Target[] = []
if (withLoopback) {
  for (const runner of runners) {
    targets.push({
      key: runner,
      runner,
      cwd: projects[runner],
      expected: expectedTests,
      modes,
      command: (mode, out) => runnerArgs(runner, mode, out),
    })
  }
}
if (withApps) {
  for (const runner of appsRunners) {
    targets.push({
      key: `apps-${runner}`,
      runner: runner === 'vitest' ? 'vitest' : 'jest',
      cwd: appsProjects[runner],
      expected: appsSize.files * appsSize.tests,
      modes: ['plain', 'netsan'],
      command: (mode, out) => appsArgs(runner, mode === 'netsan' ? 'netsan' : 'plain', out),
    })
  }
}
const runs = new Map<Target, Partial<Record<Mode, OneRun[]>>>(targets.map((t) => [t, {}]))

log(
  `netsan bench${quick ? ' (quick)' : ''}: ${size.warmup} warm-up + ${size.rounds} rounds, ${runners.join(' and ')}, Node ${process.version}, ${os.cpus().length} CPUs`,
)
if (withLoopback)
  log(
    `  loopback suite: ${size.files} files × ${size.tests} tests × ${REQUESTS_PER_TEST} requests (one server per file)`,
  )
if (withApps)
  log(
    `  real-shaped suite: ${appsSize.files} files × ${appsSize.tests} tests, ${appsRequests(appsSize)} requests (${APP_KINDS.join(', ')}; ${appsRunners.join(', ')})`,
  )
log(`suites in ${dir}`)
/** Plain and netsan swap places every round, so that a drift of the machine favours neither. */
function roundOrder(r: number, target: Target): readonly Mode[] {
  if (!target.modes.includes('option')) return r % 2 === 0 ? ['plain', 'netsan'] : ['netsan', 'plain']
  const order: Mode[] = r % 2 === 0 ? ['plain', 'netsan', 'option'] : ['netsan', 'plain', 'option']
  if (!handles) return order
  // With the handle modes, plain and netsan with handle kinds sit next to each other, swapping too.
  return r % 2 === 0
    ? ['plain', 'handles', 'netsan', 'why', 'option']
    : ['handles', 'plain', 'why', 'netsan', 'option']
}
const totalRounds = size.warmup + size.rounds
for (let r = 0; r < totalRounds; r++) {
  const warm = r < size.warmup
  const label = warm ? `warmup${r + 1}` : `round${r - size.warmup + 1}`
  const cells: string[] = []
  for (const target of targets) {
    for (const mode of roundOrder(r, target)) {
      const one = await runOnce(target, mode, label)
      if (!warm) (runs.get(target)![mode] ??= []).push(one)
      cells.push(`${target.key} ${mode} ${(one.result.ms / 1000).toFixed(2)}s`)
    }
  }
  log(`  ${label.padEnd(8)} ${cells.join('  ')}`)
}

/** Medians, ratios and the round-by-round ratios of one target's runs. */
function summarize(target: Target, runner: string): RunnerResult {
  const byRuns = runs.get(target)!
  const byMode = {} as Record<Mode, ModeResult>
  for (const mode of target.modes) {
    const list = byRuns[mode] ?? []
    const ms = list.map((o) => round(o.result.ms, 1))
    const cpu = list.map((o) => o.cpuMs).filter((v) => v !== undefined)
    byMode[mode] = {
      runsMs: ms,
      medianMs: round(median(ms), 1),
      minMs: Math.min(...ms),
      maxMs: Math.max(...ms),
      exitCodes: list.map((o) => o.result.code),
      ...(cpu.length === list.length && { cpuMedianMs: round(median(cpu), 0) }),
      testsPassed: Math.min(...list.map((o) => o.passed)),
      ...(mode === 'option' && { flag: OPTION_FLAG[target.runner], reported: list.at(-1)!.reported }),
    }
  }
  const pairedWith = (mode: Mode) => {
    const paired = byRuns[mode]!.map((o, i) => o.result.ms / byRuns.plain![i]!.result.ms)
    return {
      median: round(median(paired), 3),
      p25: round(quantile(paired, 0.25), 3),
      p75: round(quantile(paired, 0.75), 3),
      rounds: paired.map((v) => round(v, 3)),
    }
  }
  const toPlain = (mode: Mode) => round(byMode[mode].medianMs / byMode.plain.medianMs, 3)
  const cpuToPlain = (mode: Mode) => round(byMode[mode].cpuMedianMs! / byMode.plain.cpuMedianMs!, 3)
  const option = target.modes.includes('option')
  return {
    version: versionOf(runner),
    modes: byMode,
    pairedNetsanPlain: pairedWith('netsan'),
    ...(handles && option && { pairedHandlesPlain: pairedWith('handles') }),
    ratios: {
      netsanPlain: toPlain('netsan'),
      ...(option && { optionPlain: toPlain('option') }),
      ...(handles && option && { handlesPlain: toPlain('handles'), whyPlain: toPlain('why') }),
    },
    ...(byMode.plain.cpuMedianMs !== undefined && {
      cpuRatios: {
        netsanPlain: cpuToPlain('netsan'),
        ...(option && { optionPlain: cpuToPlain('option') }),
      },
    }),
  }
}

const results: Partial<Record<RunnerName, RunnerResult>> = {}
const appsResults: Partial<Record<AppsRunner, RunnerResult>> = {}
for (const target of targets) {
  if (target.key.startsWith('apps-'))
    appsResults[target.key.slice(5) as AppsRunner] = summarize(target, target.runner)
  else results[target.runner] = summarize(target, target.runner)
}

/** Runs micro.ts / startup.ts / memory.ts in a child with a deadline; returns its JSON and prints its output. */
async function child<T>(script: string, nodeArgs: string[]): Promise<T | null> {
  const out = join(reports, `${script}.json`)
  const args = [...nodeArgs, join(BENCH_DIR, `${script}.ts`), '--json', out, ...(quick ? ['--quick'] : [])]
  const result = await run(process.execPath, args, { cwd: ROOT, timeoutMs, env: childEnv })
  process.stdout.write(`\n${result.stdout}`)
  if (result.code !== 0) {
    console.error(`${script}: exit ${result.code ?? result.signal}${result.timedOut ? ' (timed out)' : ''}`)
    console.error(tail(result.stderr))
    process.exitCode = 1
    return null
  }
  return JSON.parse(readFileSync(out, 'utf8')) as T
}

const micro = argv['no-micro'] ? null : await child<MicroResult>('micro', [])
const handleMicro = handles && !argv['no-micro'] ? await child<HandlesResult>('handles', []) : null
const startup = argv['no-micro'] ? null : await child<StartupResult>('startup', [])
const memory = argv['no-memory'] ? null : await child<MemoryResult>('memory', ['--expose-gc'])

/** The commit measured, and whether netsan's packages had uncommitted changes (the build includes them). */
function revision(): { commit: string; packagesDirty: boolean } | null {
  try {
    const git = (args: string[]) =>
      execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', timeout: 10_000 }).trim()
    return {
      commit: git(['rev-parse', '--short', 'HEAD']),
      packagesDirty: git(['status', '--porcelain', '--', 'packages']) !== '',
    }
  } catch {
    return null
  }
}

const given = process.argv.slice(2)
const command =
  process.env.npm_lifecycle_event === 'bench'
    ? ['npm run bench', ...(given.length > 0 ? ['--', ...given] : [])].join(' ')
    : ['node bench/run.ts', ...given].join(' ')
const bench: BenchResult = {
  schema: SCHEMA,
  date: new Date().toISOString(),
  node: process.version,
  platform: `${process.platform} ${process.arch}`,
  cpus: { count: os.cpus().length, model: os.cpus()[0]?.model ?? 'unknown' },
  command,
  revision: revision(),
  quick,
  suite: {
    files: size.files,
    testsPerFile: size.tests,
    tests: expectedTests,
    requestsPerTest: REQUESTS_PER_TEST,
    warmup: size.warmup,
    rounds: size.rounds,
    order:
      'per round: vitest plain, netsan, option; jest plain, netsan, option; then the real-shaped suite: vitest, jest, jest with projects, plain and netsan (plain and netsan swap places every other round)',
  },
  runners: results,
  ...(withApps && {
    apps: {
      suite: {
        files: appsSize.files,
        testsPerFile: appsSize.tests,
        tests: appsSize.files * appsSize.tests,
        requests: appsRequests(appsSize),
        kinds: APP_KINDS,
      },
      runners: appsResults,
    },
  }),
  micro,
  ...(handles && { handles: handleMicro }),
  startup,
  memory,
  retries,
  durationMs: Math.round(msSince(started)),
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
const loopbackRunners = withLoopback ? runners : []
const head = ['runner', 'plain', 'netsan', 'own option', 'netsan/plain', 'option/plain']
const rows = loopbackRunners.map((runner) => {
  const r = results[runner]!
  const o = r.modes.option!
  return [
    `${runner} ${r.version}`,
    s(r.modes.plain.medianMs),
    s(r.modes.netsan.medianMs),
    `${s(o.medianMs)} (${o.flag})`,
    r.ratios.netsanPlain.toFixed(3),
    r.ratios.optionPlain!.toFixed(3),
  ]
})
if (withLoopback) {
  log(
    `\nloopback suite: median wall time of ${size.rounds} run(s) per mode, ${expectedTests} tests, ${expectedTests * REQUESTS_PER_TEST} requests:`,
  )
  log(table(head, rows))
}
const pairedLine = (name: string, r: RunnerResult) => {
  const p = r.pairedNetsanPlain
  return `${name}: netsan/plain round by round, median ${p.median.toFixed(3)}, middle half ${p.p25.toFixed(3)}–${p.p75.toFixed(3)} (${p.rounds.length} rounds: ${p.rounds.map((v) => v.toFixed(2)).join(' ')})`
}
const pairedLines = loopbackRunners.map((runner) => pairedLine(runner, results[runner]!))
for (const line of pairedLines) log(`  ${line}`)
const cpuLines = loopbackRunners.flatMap((runner) => {
  const r = results[runner]!
  if (!r.cpuRatios) return []
  const m = r.modes
  return [
    `${runner}: CPU time (runner + workers, median) plain ${s(m.plain.cpuMedianMs!)}, netsan ${s(m.netsan.cpuMedianMs!)}, option ${s(m.option!.cpuMedianMs!)}; netsan/plain ${r.cpuRatios.netsanPlain.toFixed(3)}, option/plain ${r.cpuRatios.optionPlain!.toFixed(3)}`,
  ]
})
for (const line of cpuLines) log(`  ${line}`)
const handleLines = handles
  ? loopbackRunners.map((runner) => {
      const r = results[runner]!
      const m = r.modes
      const p = r.pairedHandlesPlain!
      return `${runner}: handle kinds on ${s(m.handles!.medianMs)} (×${r.ratios.handlesPlain!.toFixed(3)} plain, round by round median ${p.median.toFixed(3)}, middle half ${p.p25.toFixed(3)}–${p.p75.toFixed(3)}), handle kinds off ${s(m.netsan.medianMs)} (×${r.ratios.netsanPlain.toFixed(3)}), why-is-node-running ${s(m.why!.medianMs)} (×${r.ratios.whyPlain!.toFixed(3)})`
    })
  : []
for (const line of handleLines) log(`  ${line}`)
for (const runner of loopbackRunners) {
  const o = results[runner]!.modes.option!
  if (o.reported)
    log(`  ${runner} ${o.flag} reported ${o.reported} (false positives: the suite leaks nothing)`)
}

const appsHead = ['runner', 'plain', 'netsan', 'netsan/plain', 'CPU netsan/plain']
const appsRows = withApps
  ? appsRunners.map((runner) => {
      const r = appsResults[runner]!
      const name =
        runner === 'jest-projects'
          ? `jest ${r.version} (${APP_KINDS.length} projects)`
          : `${runner} ${r.version}`
      return [
        name,
        s(r.modes.plain.medianMs),
        s(r.modes.netsan.medianMs),
        r.ratios.netsanPlain.toFixed(3),
        r.cpuRatios ? r.cpuRatios.netsanPlain.toFixed(3) : '-',
      ]
    })
  : []
const appsPairedLines = withApps ? appsRunners.map((runner) => pairedLine(runner, appsResults[runner]!)) : []
if (withApps) {
  log(
    `\nreal-shaped suite: median wall time of ${size.rounds} run(s) per mode, ${appsSize.files * appsSize.tests} tests, ${appsRequests(appsSize)} requests, a server per test or per request:`,
  )
  log(table(appsHead, appsRows))
  for (const line of appsPairedLines) log(`  ${line}`)
}

const resultsDir = join(BENCH_DIR, 'results')
const stamp = bench.date.replace(/[:.]/g, '-')
const out = argv.out ? resolve(argv.out) : join(resultsDir, `bench-${quick ? 'quick-' : ''}${stamp}.json`)
mkdirSync(resolve(out, '..'), { recursive: true })
writeFileSync(out, `${JSON.stringify(bench, null, 2)}\n`)
if (!argv.out) {
  mkdirSync(resultsDir, { recursive: true })
  copyFileSync(out, join(resultsDir, 'latest.json'))
}
log(`\nwrote ${relative(process.cwd(), out) || out} (${(bench.durationMs / 1000).toFixed(0)} s in all)`)

if (argv.readme) {
  const readme = join(BENCH_DIR, 'README.md')
  const text = readFileSync(readme, 'utf8')
  const start = '<!-- results:start -->'
  const end = '<!-- results:end -->'
  const a = text.indexOf(start)
  const b = text.indexOf(end)
  if (a === -1 || b < a) {
    console.error(`--readme: ${readme} has no ${start} … ${end} section`)
    process.exit(1)
  }
  writeFileSync(readme, `${text.slice(0, a + start.length)}\n${resultsMarkdown(bench)}\n${text.slice(b)}`)
  log(`updated ${relative(process.cwd(), readme)}`)
}

function resultsMarkdown(b: BenchResult): string {
  const lines = [
    `Run of ${b.date.slice(0, 16).replace('T', ' ')} UTC, Node ${b.node}, ${b.platform}, ${b.cpus.count} × ${b.cpus.model}; command: \`${b.command}\`${b.revision ? ` at ${b.revision.commit}${b.revision.packagesDirty ? ' (packages/ with uncommitted changes, built as they were)' : ''}` : ''}.`,
  ]
  if (withLoopback) {
    lines.push(
      `Loopback suite: ${b.suite.files} files × ${b.suite.testsPerFile} tests × ${b.suite.requestsPerTest} loopback requests; ${b.suite.warmup} warm-up round, then ${b.suite.rounds} rounds of plain / netsan / own option (plain and netsan swap places every other round); median wall time per mode (spawn to exit).`,
      '',
      markdownTable(head, rows),
      '',
      ...pairedLines.map((line) => `- ${line}`),
      ...cpuLines.map((line) => `- ${line} (supplementary)`),
    )
  }
  if (b.apps) {
    const a = b.apps.suite
    lines.push(
      '',
      `Real-shaped suite (\`bench/apps.ts\`): ${a.files} files × ${a.testsPerFile} tests, ${a.requests} requests (${a.kinds.join(', ')}: a server per request or per test, a forward proxy, hono-style handlers, some \`test.concurrent\`); the same rounds, plain and netsan.`,
      '',
      markdownTable(appsHead, appsRows),
      '',
      ...appsPairedLines.map((line) => `- ${line}`),
    )
  }
  const m = b.micro
  if (m) {
    lines.push(
      '',
      'Micro-benchmark (`bench/micro.ts`, median of batches):',
      '',
      markdownTable(
        ['client', 'plain µs/request', 'netsan µs/request', 'added µs/request', 'ratio'],
        m.requests.map((r) => [
          r.client,
          r.plainUsPerOp.toFixed(1),
          r.netsanUsPerOp.toFixed(1),
          r.addedUsPerOp.toFixed(1),
          r.ratio.toFixed(3),
        ]),
      ),
      '',
      `- clean test scope (\`file.track()\` + \`await end()\`): ${m.scope.nsPerOp} ns/op over ${m.scope.ops} scopes`,
      `- \`end()\` of a scope whose request finished: median ${m.wait.afterRequestEndUs.median} µs vs ${m.wait.emptyEndUs.median} µs for an empty scope (added ${m.wait.addedWaitUs} µs); longest ${m.wait.maxEndMs} ms; ${m.wait.waited} of ${m.wait.ops} ends took ≥ settleMs/2 (settleMs ${m.settleMs} ms)`,
    )
  }
  const st = b.startup
  if (st) {
    lines.push(
      '',
      `Startup (\`bench/startup.ts\`, ${st.pairs} pairs of fresh processes, medians): loading netsan, \`track()\` and ending the clean scope add ${st.addedCpuMs} ms of CPU and ${st.addedWallMs} ms of uptime to a bare \`node\` (${st.bare.cpuMs} ms CPU) — what every Vitest worker pays once; Node modules among http, https, tls, http2, bundled undici, zlib, crypto that netsan loads by itself: ${st.loadedByNetsan.length > 0 ? st.loadedByNetsan.join(', ') : 'none'}.`,
    )
  }
  const mem = b.memory
  if (mem) {
    const kb = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / 1024).toFixed(0)} KB`
    lines.push(
      '',
      `Memory (\`bench/memory.ts\`, ${mem.tests} test scopes with one fetch each, heap after GC): netsan ${kb(mem.netsan.growthBytes)} (slope ${mem.netsan.slopeBytesPerTest} B/test), control without netsan ${kb(mem.control.growthBytes)} (slope ${mem.control.slopeBytesPerTest} B/test); ledger at the end ${mem.netsan.ledger}; Responses collected ${mem.netsan.collected}/${mem.tests}; flat: ${mem.flat ? 'yes' : 'no'}.`,
    )
  }
  return lines.join('\n')
}

cleanup()
