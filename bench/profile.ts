// Summarizes V8 CPU profiles (`--cpu-prof`) to find netsan's hot path. A sample is netsan's own
// when, walking up from the leaf, a netsan frame comes before any other JavaScript frame (frames
// without a URL — V8 builtins such as stack capture — count for the netsan frame that called
// them). Prints netsan's share per profile (one per process) and its functions by that own time;
// the inclusive table also counts what netsan wraps (the original fetch, whole test bodies).
//
// Usage: node bench/profile.ts <dir with .cpuprofile files> [--match <substring>]...
// Default matches: netsan's three packages, in the workspace (packages/…) or installed (node_modules/…).
// To profile a run: NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" npx vitest run … (every
// process of the run, workers included, writes a profile).

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { table } from './lib.ts'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { match: { type: 'string', multiple: true }, top: { type: 'string' } },
})
const dir = positionals[0]
if (!dir) {
  console.error('usage: node bench/profile.ts <dir> [--match <substring>]...')
  process.exit(2)
}
const matches = values.match ?? [
  '/packages/core/',
  '/packages/vitest-env/',
  '/packages/jest-env/',
  '/node_modules/netsan/',
  '/node_modules/vitest-environment-netsan/',
  '/node_modules/jest-environment-netsan/',
]
const top = Number(values.top ?? 15)

const short = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/packages\//, 'packages/')
    .replace(/^.*\/node_modules\/((?:vitest|jest)-environment-)?netsan\//, (_, env) => `${env ?? ''}netsan/`)
const mine = (url: string) => matches.some((m) => url.includes(m))
const label = (n: ProfileNode) =>
  `${short(n.callFrame.url)}:${n.callFrame.functionName || '(anonymous)'}:${n.callFrame.lineNumber + 1}`

let totalUs = 0
let netsanUs = 0
const own = new Map<string, number>()
const inclusive = new Map<string, number>()
const self = new Map<string, number>()
const rows: string[][] = []

for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  let fileTotal = 0
  let fileNetsan = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0
    let id: number | undefined = profile.samples[i]!
    const leaf = byId.get(id)!
    if (leaf.callFrame.functionName === '(idle)') continue
    fileTotal += dt
    if (mine(leaf.callFrame.url)) self.set(label(leaf), (self.get(label(leaf)) ?? 0) + dt)
    const seen = new Set<string>()
    let owner: string | undefined
    let foreign = false
    while (id !== undefined) {
      const node = byId.get(id)!
      if (mine(node.callFrame.url)) {
        seen.add(label(node))
        if (!foreign && owner === undefined) owner = label(node)
      } else if (node.callFrame.url !== '') foreign = true
      id = parent.get(id)
    }
    if (owner !== undefined) {
      fileNetsan += dt
      own.set(owner, (own.get(owner) ?? 0) + dt)
    }
    for (const l of seen) inclusive.set(l, (inclusive.get(l) ?? 0) + dt)
  }
  totalUs += fileTotal
  netsanUs += fileNetsan
  rows.push([file, (fileTotal / 1000).toFixed(0), (fileNetsan / 1000).toFixed(1), pct(fileNetsan, fileTotal)])
}

function pct(part: number, whole: number): string {
  return whole === 0 ? '-' : `${((100 * part) / whole).toFixed(2)}%`
}

console.log(table(['profile', 'busy ms', 'netsan own ms', 'netsan own %'], rows))
console.log(`\nall profiles: busy ${(totalUs / 1000).toFixed(0)} ms, netsan's own ${pct(netsanUs, totalUs)}`)
const list = (m: Map<string, number>, title: string) => {
  console.log(`\n${title}`)
  console.log(
    table(
      ['function', 'ms', '% of busy'],
      [...m]
        .sort((a, b) => b[1] - a[1])
        .slice(0, top)
        .map(([k, v]) => [k, (v / 1000).toFixed(1), pct(v, totalUs)]),
    ),
  )
}
list(own, 'netsan functions by own time (self + the builtins they call):')
list(inclusive, 'netsan functions by inclusive time (on the stack, wrapped calls included):')
