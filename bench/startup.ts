// Startup cost: what loading and installing netsan adds to a fresh process, which is what every
// Vitest worker pays (one per test file by default), network or not. Pairs of child processes,
// alternating: a bare one, and one that imports netsan, installs it with track() and ends the clean
// scope. Each child reports its own CPU time and uptime at the end; the medians of the differences
// are the cost. Also lists which of Node's heavier modules netsan's installation loads by itself.
//
// Usage: node bench/startup.ts [--quick] [--json <file>]

import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { median, round, table } from './lib.ts'

export interface StartupResult {
  quick: boolean
  pairs: number
  bare: { cpuMs: number; wallMs: number }
  netsan: { cpuMs: number; wallMs: number }
  addedCpuMs: number
  addedWallMs: number
  /** Modules among HEAVY that a bare process lacks and the netsan one has loaded. */
  loadedByNetsan: string[]
}

// Node modules netsan must not load for a test file that makes no request (trackers/*.ts).
const HEAVY = ['http', 'https', 'tls', 'http2', 'internal/deps/undici/undici', 'zlib', 'crypto']

const { values: argv } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, json: { type: 'string' } },
})
const quick = argv.quick === true
const pairs = quick ? 3 : 25

const report = `
  const u = process.cpuUsage()
  const loaded = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13))
  console.log(JSON.stringify({ cpuMs: (u.user + u.system) / 1000, wallMs: performance.now(), loaded }))`
const bare = `${report}`
const withNetsan = `const { track } = await import('netsan'); const scope = track(); await scope.end();${report}`

interface Sample {
  cpuMs: number
  wallMs: number
  loaded: string[]
}

function sample(code: string): Sample {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    cwd: new URL('..', import.meta.url),
    encoding: 'utf8',
    timeout: 30_000,
  })
  if (r.status !== 0) throw new Error(`startup child failed (exit ${r.status ?? r.signal}): ${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Sample
}

const a: Sample[] = []
const b: Sample[] = []
sample(bare) // warm the file system cache
sample(withNetsan)
for (let i = 0; i < pairs; i++) {
  a.push(sample(bare))
  b.push(sample(withNetsan))
}
const med = (xs: Sample[], k: 'cpuMs' | 'wallMs') => round(median(xs.map((x) => x[k])), 1)
const result: StartupResult = {
  quick,
  pairs,
  bare: { cpuMs: med(a, 'cpuMs'), wallMs: med(a, 'wallMs') },
  netsan: { cpuMs: med(b, 'cpuMs'), wallMs: med(b, 'wallMs') },
  addedCpuMs: round(median(b.map((x, i) => x.cpuMs - a[i]!.cpuMs)), 1),
  addedWallMs: round(median(b.map((x, i) => x.wallMs - a[i]!.wallMs)), 1),
  loadedByNetsan: HEAVY.filter((m) => b[0]!.loaded.includes(m) && !a[0]!.loaded.includes(m)),
}

console.log(`startup (${quick ? 'quick' : 'full'}), Node ${process.version}, ${pairs} pairs of processes`)
console.log(
  table(
    ['process', 'CPU ms', 'uptime ms'],
    [
      ['bare', String(result.bare.cpuMs), String(result.bare.wallMs)],
      ['import netsan + track() + end()', String(result.netsan.cpuMs), String(result.netsan.wallMs)],
      ['added (median of pairs)', String(result.addedCpuMs), String(result.addedWallMs)],
    ],
  ),
)
console.log(
  `heavy Node modules loaded by netsan itself: ${result.loadedByNetsan.length > 0 ? result.loadedByNetsan.join(', ') : 'none'}`,
)
if (argv.json) writeFileSync(argv.json, `${JSON.stringify(result, null, 2)}\n`)
