// Micro-benchmark of netsan's core through its public track() API:
//   1. the cost per tracked request: batches of loopback requests (body consumed) with netsan
//      installed (inside a track() scope) vs not installed, alternating batch by batch;
//   2. the cost of a clean test scope: file.track() + await end() with nothing in it;
//   3. the added wait of a clean scope: end() of a scope whose request finished, against end() of
//      an empty scope (should be ~0: settle returns at once when nothing is open).
//
// Usage: node bench/micro.ts [--quick] [--json <file>] [--client fetch|undici|node:http]

import { writeFileSync } from 'node:fs'
import http from 'node:http'
import { parseArgs } from 'node:util'
import { DEFAULT_OPTIONS, type Scope, track } from 'netsan'
import { request } from 'undici'
import { type Loopback, median, msSince, quantile, round, startLoopback, table } from './lib.ts'

export interface MicroResult {
  quick: boolean
  settleMs: number
  requests: {
    client: string
    batch: number
    rounds: number
    plainUsPerOp: number
    netsanUsPerOp: number
    addedUsPerOp: number
    ratio: number
  }[]
  scope: { ops: number; nsPerOp: number }
  wait: {
    ops: number
    emptyEndUs: { median: number; p99: number }
    afterRequestEndUs: { median: number; p99: number }
    addedWaitUs: number
    maxEndMs: number
    waited: number
  }
  leaks: number
}

const { values: argv } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    client: { type: 'string' },
  },
})
const quick = argv.quick === true

const SIZE = quick
  ? { batch: 20, rounds: 2, warmup: 20, scopeOps: 500, scopeBatch: 100, waitOps: 50 }
  : { batch: 100, rounds: 30, warmup: 300, scopeOps: 20_000, scopeBatch: 1000, waitOps: 2000 }

let leaks = 0

type Client = (url: string) => Promise<void>

/** A request client; `open` sets up what a test file would (a keep-alive agent), `close` tears it down. */
interface ClientKind {
  open(): { send: Client; close(): void }
}

const shared = (send: Client): ClientKind => ({ open: () => ({ send, close() {} }) })

const CLIENTS: Record<string, ClientKind> = {
  fetch: shared(async (url) => {
    const res = await fetch(url)
    await res.arrayBuffer()
  }),
  'undici.request': shared(async (url) => {
    const { body } = await request(url)
    await body.text()
  }),
  'node:http (keep-alive)': {
    open() {
      // One agent per batch, destroyed at its end, as a test file does in afterAll.
      const agent = new http.Agent({ keepAlive: true })
      const send: Client = (url) =>
        new Promise<void>((resolve, reject) => {
          http
            .get(url, { agent }, (res) => {
              res.on('data', () => {})
              res.on('end', resolve)
              res.on('error', reject)
            })
            .on('error', reject)
        })
      return { send, close: () => agent.destroy() }
    },
  },
}

async function batch(kind: ClientKind, url: string, n: number): Promise<number> {
  const { send, close } = kind.open()
  const start = process.hrtime.bigint()
  for (let i = 0; i < n; i++) await send(url)
  const ms = msSince(start)
  close()
  return ms
}

/** One batch inside a file + test scope (netsan installed for the batch only); returns its ms. */
async function trackedBatch(kind: ClientKind, url: string, n: number): Promise<number> {
  const file = track()
  const t = file.track('batch')
  const ms = await batch(kind, url, n)
  leaks += (await t.end()).length
  leaks += (await file.end()).length
  return ms
}

async function requests(
  server: Loopback,
  name: string,
  client: ClientKind,
): Promise<MicroResult['requests'][0]> {
  await batch(client, server.url, SIZE.warmup)
  await trackedBatch(client, server.url, SIZE.warmup)
  const plain: number[] = []
  const netsan: number[] = []
  for (let r = 0; r < SIZE.rounds; r++) {
    plain.push((await batch(client, server.url, SIZE.batch)) / SIZE.batch)
    netsan.push((await trackedBatch(client, server.url, SIZE.batch)) / SIZE.batch)
  }
  const p = median(plain) * 1000
  const n = median(netsan) * 1000
  return {
    client: name,
    batch: SIZE.batch,
    rounds: SIZE.rounds,
    plainUsPerOp: round(p, 2),
    netsanUsPerOp: round(n, 2),
    addedUsPerOp: round(n - p, 2),
    ratio: round(n / p, 3),
  }
}

async function scopeCost(file: Scope): Promise<MicroResult['scope']> {
  const perOp: number[] = []
  for (let done = 0; done < SIZE.scopeOps; done += SIZE.scopeBatch) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < SIZE.scopeBatch; i++) {
      const t = file.track('t')
      leaks += (await t.end()).length
    }
    perOp.push((msSince(start) * 1e6) / SIZE.scopeBatch)
  }
  return { ops: SIZE.scopeOps, nsPerOp: Math.round(median(perOp)) }
}

async function addedWait(server: Loopback, file: Scope): Promise<MicroResult['wait']> {
  const empty: number[] = []
  const after: number[] = []
  for (let i = 0; i < SIZE.waitOps; i++) {
    const e = file.track('empty')
    let start = process.hrtime.bigint()
    leaks += (await e.end()).length
    empty.push(msSince(start))

    const t = file.track('request')
    const res = await fetch(server.url)
    await res.arrayBuffer()
    start = process.hrtime.bigint()
    leaks += (await t.end()).length
    after.push(msSince(start))
  }
  const us = (ms: number) => round(ms * 1000, 1)
  const maxEnd = Math.max(...after)
  return {
    ops: SIZE.waitOps,
    emptyEndUs: { median: us(median(empty)), p99: us(quantile(empty, 0.99)) },
    afterRequestEndUs: { median: us(median(after)), p99: us(quantile(after, 0.99)) },
    addedWaitUs: us(median(after) - median(empty)),
    maxEndMs: round(maxEnd, 2),
    // An end that took half of settleMs or more most likely waited for something.
    waited: after.filter((ms) => ms >= DEFAULT_OPTIONS.settleMs / 2).length,
  }
}

export async function micro(): Promise<MicroResult> {
  const server = await startLoopback()
  try {
    const rows: MicroResult['requests'] = []
    for (const [name, client] of Object.entries(CLIENTS)) {
      if (argv.client === undefined || name.startsWith(argv.client))
        rows.push(await requests(server, name, client))
    }
    const file = track()
    const scope = await scopeCost(file)
    const wait = await addedWait(server, file)
    leaks += (await file.end()).length
    return { quick, settleMs: DEFAULT_OPTIONS.settleMs, requests: rows, scope, wait, leaks }
  } finally {
    await server.close()
  }
}

const result = await micro()
console.log(`micro (${quick ? 'quick' : 'full'}), Node ${process.version}`)
console.log(
  table(
    ['client', 'requests', 'plain µs/op', 'netsan µs/op', 'added µs/op', 'ratio'],
    result.requests.map((r) => [
      r.client,
      String(r.batch * r.rounds),
      r.plainUsPerOp.toFixed(1),
      r.netsanUsPerOp.toFixed(1),
      r.addedUsPerOp.toFixed(1),
      r.ratio.toFixed(3),
    ]),
  ),
)
const w = result.wait
console.log(`clean test scope (track + end): ${result.scope.nsPerOp} ns/op over ${result.scope.ops} scopes`)
console.log(
  `end() of an empty scope: median ${w.emptyEndUs.median} µs (p99 ${w.emptyEndUs.p99}); after a finished request: median ${w.afterRequestEndUs.median} µs (p99 ${w.afterRequestEndUs.p99}); added wait ${w.addedWaitUs} µs; max ${w.maxEndMs} ms; ends ≥ settleMs/2 (${result.settleMs / 2} ms): ${w.waited} of ${w.ops}`,
)
if (result.leaks > 0) console.log(`warning: netsan reported ${result.leaks} leaks in the micro-benchmark`)
if (argv.json) writeFileSync(argv.json, `${JSON.stringify(result, null, 2)}\n`)
