// Memory check: many test scopes inside one file scope, each making one loopback request with its
// body consumed; heap after GC at the end against the start. The ledger must keep no strong
// reference to closed resources, so the heap stays flat and the Responses get collected.
// The same loop without netsan runs first as a control.
//
// Usage: node --expose-gc bench/memory.ts [--quick] [--tests <n>] [--json <file>]

import { writeFileSync } from 'node:fs'
import { setImmediate } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { track } from 'netsan'
import { intFlag, type Loopback, round, startLoopback } from './lib.ts'

export interface MemoryPhase {
  tests: number
  heapStartBytes: number
  heapEndBytes: number
  growthBytes: number
  bytesPerTest: number
  /** Least-squares slope of heap-after-GC over the checkpoints. */
  slopeBytesPerTest: number
  checkpoints: { tests: number; heapBytes: number }[]
  /** Responses of the measured loop that the GC has collected by the end. */
  collected: number
  /** Resources still in the file scope's ledger at the end (netsan phase only). */
  ledger?: number
  leaks?: number
}

export interface MemoryResult {
  quick: boolean
  tests: number
  control: MemoryPhase
  netsan: MemoryPhase
  flat: boolean
}

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    tests: { type: 'string' },
    json: { type: 'string' },
  },
})
const quick = argv.quick === true
const TESTS = intFlag(argv.tests, 'tests', quick ? 1000 : 10_000)
const WARMUP = Math.min(500, TESTS / 5)
const CHECKPOINTS = 10

const gc = (globalThis as { gc?: () => void }).gc
if (typeof gc !== 'function') {
  console.error('bench/memory.ts needs --expose-gc: node --expose-gc bench/memory.ts')
  process.exit(2)
}

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc!()
    await setImmediate()
  }
  return process.memoryUsage().heapUsed
}

function slope(points: { tests: number; heapBytes: number }[]): number {
  const n = points.length
  const mx = points.reduce((s, p) => s + p.tests, 0) / n
  const my = points.reduce((s, p) => s + p.heapBytes, 0) / n
  let num = 0
  let den = 0
  for (const p of points) {
    num += (p.tests - mx) * (p.heapBytes - my)
    den += (p.tests - mx) ** 2
  }
  return den === 0 ? 0 : num / den
}

async function phase(server: Loopback, withNetsan: boolean): Promise<MemoryPhase> {
  let collected = 0
  let counting = false
  const registry = new FinalizationRegistry<boolean>((measured) => {
    if (measured) collected++
  })
  const file = withNetsan ? track() : undefined
  let leaks = 0
  const one = async (i: number) => {
    const t = file?.track(`test ${i}`)
    const res = await fetch(`${server.url}/?i=${i}`)
    await res.arrayBuffer()
    registry.register(res, counting)
    if (t) leaks += (await t.end()).length
  }
  for (let i = 0; i < WARMUP; i++) await one(i)
  const heapStart = await heapAfterGc()
  counting = true
  const checkpoints = [{ tests: 0, heapBytes: heapStart }]
  const every = Math.max(1, Math.floor(TESTS / CHECKPOINTS))
  for (let i = 1; i <= TESTS; i++) {
    await one(i)
    if (i % every === 0 || i === TESTS) {
      if (checkpoints.at(-1)!.tests !== i) checkpoints.push({ tests: i, heapBytes: await heapAfterGc() })
    }
  }
  const heapEnd = checkpoints.at(-1)!.heapBytes
  const ledger = file?.size()
  if (file) leaks += (await file.end()).length
  await heapAfterGc()
  return {
    tests: TESTS,
    heapStartBytes: heapStart,
    heapEndBytes: heapEnd,
    growthBytes: heapEnd - heapStart,
    bytesPerTest: round((heapEnd - heapStart) / TESTS, 1),
    slopeBytesPerTest: round(slope(checkpoints), 1),
    checkpoints,
    collected,
    ...(withNetsan && { ledger, leaks }),
  }
}

const server = await startLoopback()
const control = await phase(server, false)
const netsan = await phase(server, true)
await server.close()

// Flat: under 100 bytes per test beyond the control, and (nearly) every Response collected.
const extra = netsan.slopeBytesPerTest - control.slopeBytesPerTest
const flat = extra < 100 && netsan.collected >= TESTS * 0.95
const result: MemoryResult = { quick, tests: TESTS, control, netsan, flat }

const mb = (b: number) => `${(b / 1048576).toFixed(2)} MB`
console.log(
  `memory (${quick ? 'quick' : 'full'}), Node ${process.version}: ${TESTS} test scopes, one fetch each`,
)
for (const [name, p] of [
  ['control (no netsan)', control],
  ['netsan', netsan],
] as const) {
  console.log(
    `  ${name.padEnd(19)} heap after GC ${mb(p.heapStartBytes)} → ${mb(p.heapEndBytes)} (${p.growthBytes >= 0 ? '+' : ''}${(p.growthBytes / 1024).toFixed(1)} KB, ${p.bytesPerTest} B/test, slope ${p.slopeBytesPerTest} B/test); Responses collected ${p.collected}/${TESTS}${p.ledger !== undefined ? `; ledger at end ${p.ledger}` : ''}`,
  )
}
console.log(`  flat: ${flat ? 'yes' : 'NO'}`)
if ((netsan.leaks ?? 0) > 0) console.log(`warning: netsan reported ${netsan.leaks} leaks in the memory check`)
if (argv.json) writeFileSync(argv.json, `${JSON.stringify(result, null, 2)}\n`)
