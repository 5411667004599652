// The handle kinds' cost, against the alternatives issue 17 names: why-is-node-running (an async_hooks
// `init` hook that captures a stack for every async resource but promises) and the same idea narrowed
// to the handle types netsan tracks (async_hooks, per-test owner from AsyncLocalStorage, a stack only
// for Timeout/Immediate/PROCESSWRAP/FSEVENTWRAP/STATWATCHER/WORKER/FILEHANDLE).
//
// Each mode runs in a fresh process (an async hook, once enabled, changes the whole process); rounds
// alternate the modes, and the table gives each workload's median per operation and its ratio to
// plain within the same run. Nothing here asserts a timing.
//
//   plain           no tracking
//   netsan          netsan with its default kinds (handle kinds off)
//   netsan+handles  netsan, kinds: ['network', 'handles']: wrappers (timers, fs) and channels (child, worker)
//   async_hooks     createHook({ init, destroy }) for the handle types, owner and stack per handle
//   why             `import 'why-is-node-running'` (its hook, a stack for every non-promise resource)
//
// Usage: node bench/handles.ts [--quick] [--rounds n] [--json <file>]
//        node bench/handles.ts --child <mode>   (one process's measurements, as JSON on stdout)

import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import { markdownTable, median, ROOT, round, startLoopback, table } from './lib.ts'

export const HANDLE_MODES = ['plain', 'netsan', 'netsan+handles', 'async_hooks', 'why'] as const
export type HandleMode = (typeof HANDLE_MODES)[number]

/** What one workload costs, per operation, in microseconds. */
type Sample = Record<string, number>

export interface HandlesResult {
  quick: boolean
  rounds: number
  node: string
  workloads: Record<string, { unit: string; ops: number }>
  /** Median µs per operation, per mode and workload. */
  usPerOp: Record<HandleMode, Sample>
  /** usPerOp / plain's, per mode and workload. */
  ratio: Record<HandleMode, Sample>
}

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    json: { type: 'string' },
    child: { type: 'string' },
  },
})
const quick = argv.quick === true
const N = quick
  ? { timers: 2000, files: 300, awaits: 20_000, requests: 30, tests: 100 }
  : { timers: 20_000, files: 3000, awaits: 200_000, requests: 300, tests: 1000 }

export const WORKLOADS: Record<string, { unit: string; ops: number }> = {
  'setTimeout + clearTimeout': { unit: 'handle', ops: N.timers },
  'fs.openSync + fs.closeSync': { unit: 'handle', ops: N.files },
  'await (promise)': { unit: 'await', ops: N.awaits },
  'fetch (loopback, body read)': { unit: 'request', ops: N.requests },
  'test: 3 timers, 1 file, 20 awaits': { unit: 'test', ops: N.tests },
}

async function measure(mode: HandleMode): Promise<Sample> {
  let netsan: typeof import('netsan') | undefined
  if (mode === 'netsan' || mode === 'netsan+handles') netsan = await import('netsan')
  if (mode === 'why') {
    // The copy Vitest's hanging-process reporter uses.
    const fromVitest = createRequire(createRequire(`${ROOT}/`).resolve('vitest/package.json'))
    await import(fromVitest.resolve('why-is-node-running'))
  }
  if (mode === 'async_hooks') installTypedHook()
  const fs = process.getBuiltinModule('node:fs')
  const devNull = process.getBuiltinModule('node:os').devNull
  const file = netsan?.track(mode === 'netsan+handles' ? { kinds: ['network', 'handles'] } : {})
  const server = await startLoopback()
  const out: Sample = {}
  // Each workload runs twice, and the second run counts: the first warms up the JIT and the pools.
  // A full GC before each timed run and one inside it, after the work: each workload pays for its own
  // garbage (a stack captured per handle is some), and none for the previous one's.
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
  const time = async (name: string, ops: number, body: () => unknown) => {
    await body()
    gc()
    const t0 = process.hrtime.bigint()
    await body()
    gc()
    await new Promise((resolve) => setImmediate(resolve))
    out[name] = Number(process.hrtime.bigint() - t0) / 1e3 / ops
  }
  const noop = () => {}
  const inTest = async <T>(fn: () => Promise<T>) => {
    const t = file?.track('t')
    try {
      return await (t ? t.run(fn) : fn())
    } finally {
      await t?.end()
    }
  }
  await inTest(async () => {
    await time('await (promise)', N.awaits, async () => {
      for (let i = 0; i < N.awaits; i++) await Promise.resolve(i)
    })
    await time('setTimeout + clearTimeout', N.timers, () => {
      for (let i = 0; i < N.timers; i++) clearTimeout(setTimeout(noop, 1000))
    })
    await time('fs.openSync + fs.closeSync', N.files, () => {
      for (let i = 0; i < N.files; i++) fs.closeSync(fs.openSync(devNull, 'r'))
    })
    await time('fetch (loopback, body read)', N.requests, async () => {
      for (let i = 0; i < N.requests; i++) await (await fetch(server.url)).arrayBuffer()
    })
  })
  await time('test: 3 timers, 1 file, 20 awaits', N.tests, async () => {
    for (let i = 0; i < N.tests; i++) {
      await inTest(async () => {
        const interval = setInterval(noop, 1000)
        await new Promise((resolve) => setTimeout(resolve, 0))
        clearInterval(interval)
        clearTimeout(setTimeout(noop, 1000))
        fs.closeSync(fs.openSync(devNull, 'r'))
        for (let j = 0; j < 20; j++) await Promise.resolve(j)
      })
    }
  })
  await file?.end()
  await server.close()
  return out
}

/** The async_hooks design netsan did not take: a type-filtered init hook with owner and stack. */
function installTypedHook(): void {
  const { createHook, AsyncLocalStorage } = process.getBuiltinModule('node:async_hooks')
  const owners = new AsyncLocalStorage<object>()
  owners.enterWith({ test: 'bench' })
  const TYPES = new Set([
    'Timeout',
    'Immediate',
    'PROCESSWRAP',
    'FSEVENTWRAP',
    'STATWATCHER',
    'WORKER',
    'FILEHANDLE',
  ])
  const live = new Map<number, { owner: object | undefined; stack: object; resource: object }>()
  createHook({
    init(id, type, _trigger, resource) {
      if (!TYPES.has(type)) return
      const stack = {}
      Error.captureStackTrace(stack)
      live.set(id, { owner: owners.getStore(), stack, resource })
    },
    destroy(id) {
      live.delete(id)
    },
  }).enable()
}

async function parent(): Promise<void> {
  const rounds = Number(argv.rounds ?? (quick ? 1 : 5))
  const samples = Object.fromEntries(HANDLE_MODES.map((m) => [m, [] as Sample[]])) as Record<
    HandleMode,
    Sample[]
  >
  for (let r = 0; r < rounds; r++) {
    // Rotate the order each round, so that a drift of the machine favours no mode.
    const order = HANDLE_MODES.map((_, i) => HANDLE_MODES[(i + r) % HANDLE_MODES.length]!)
    for (const mode of order) {
      const stdout = execFileSync(
        process.execPath,
        [import.meta.filename, '--child', mode, ...(quick ? ['--quick'] : [])],
        {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 300_000,
        },
      )
      samples[mode].push(JSON.parse(stdout.trim().split('\n').at(-1)!))
    }
  }
  const usPerOp = {} as Record<HandleMode, Sample>
  const ratio = {} as Record<HandleMode, Sample>
  for (const mode of HANDLE_MODES) {
    usPerOp[mode] = {}
    for (const w of Object.keys(WORKLOADS))
      usPerOp[mode][w] = round(median(samples[mode].map((s) => s[w]!)), 3)
  }
  for (const mode of HANDLE_MODES) {
    ratio[mode] = {}
    for (const w of Object.keys(WORKLOADS)) ratio[mode][w] = round(usPerOp[mode][w]! / usPerOp.plain[w]!, 2)
  }
  const result: HandlesResult = { quick, rounds, node: process.version, workloads: WORKLOADS, usPerOp, ratio }
  const head = ['workload', ...HANDLE_MODES.map((m) => `${m} µs (×plain)`)]
  const rows = Object.entries(WORKLOADS).map(([w, { unit }]) => [
    `${w} (per ${unit})`,
    ...HANDLE_MODES.map((m) => `${usPerOp[m][w]!.toFixed(2)} (${ratio[m][w]!.toFixed(2)})`),
  ])
  console.log(`handle tracking, ${rounds} round(s), medians per operation, Node ${process.version}:`)
  console.log(table(head, rows))
  if (argv.json) writeFileSync(argv.json, `${JSON.stringify(result, null, 2)}\n`)
  else console.log(`\n${markdownTable(head, rows)}`)
}

if (argv.child) {
  if (!(HANDLE_MODES as readonly string[]).includes(argv.child))
    throw new Error(`--child: unknown mode ${argv.child}`)
  console.log(JSON.stringify(await measure(argv.child as HandleMode)))
  process.exit(0)
} else {
  await parent()
}
