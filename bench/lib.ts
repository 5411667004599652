// Shared helpers for the bench scripts: statistics, a loopback server, child processes with a
// deadline, and small formatting utilities. No timing is asserted anywhere.

import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
export const ROOT = resolve(BENCH_DIR, '..')

/** The command line that runs a generated project's `config` with the repo's runner; `out` receives its JSON report. */
export function runnerCommand(
  runner: 'vitest' | 'jest',
  config: string,
  out: string,
): { bin: string; args: string[] } {
  return runner === 'vitest'
    ? {
        bin: resolve(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
        args: [
          'run',
          '--config',
          config,
          '--reporter=default',
          '--reporter=json',
          `--outputFile.json=${out}`,
        ],
      }
    : {
        bin: resolve(ROOT, 'node_modules', 'jest', 'bin', 'jest.js'),
        args: ['--config', config, '--ci', '--json', `--outputFile=${out}`],
      }
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The q-quantile (0..1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i]!
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits
  return Math.round(value * f) / f
}

/** Milliseconds since `start` (from `process.hrtime.bigint()`). */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6
}

export interface Loopback {
  url: string
  close(): Promise<void>
}

const PAYLOAD = 'x'.repeat(1024)

/** A keep-alive HTTP server on 127.0.0.1 answering every request with 1 KiB of text. */
export async function startLoopback(): Promise<Loopback> {
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': PAYLOAD.length })
      res.end(PAYLOAD)
    })
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections()
        server.close(() => done())
      }),
  }
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  ms: number
  timedOut: boolean
  stdout: string
  stderr: string
}

const live = new Set<ChildProcess>()

/** Kills the process group of a child this process spawned (it was started detached: its own group). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    try {
      child.kill(signal)
    } catch {}
  }
}

/** Kills every child still running (used on SIGINT/SIGTERM of the bench itself). */
export function killAll(): void {
  for (const child of live) killGroup(child, 'SIGKILL')
}

/**
 * Runs a command in its own process group and measures its wall time. On `timeoutMs` the group of
 * that child (and only it) is killed.
 */
export async function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  const start = process.hrtime.bigint()
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  live.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout = (stdout + c).slice(-200_000)))
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-200_000)))
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    killGroup(child, 'SIGTERM')
    setTimeout(() => killGroup(child, 'SIGKILL'), 2000).unref()
  }, options.timeoutMs)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((done, fail) => {
    child.on('error', fail)
    child.on('close', (c, s) => done([c, s]))
  }).finally(() => {
    clearTimeout(timer)
    live.delete(child)
  })
  const ms = msSince(start)
  // The runner's own exit leaves no stray workers in its group.
  killGroup(child, 'SIGKILL')
  return { code, signal, ms, timedOut, stdout, stderr }
}

/** A plain-text table with right-aligned columns after the first. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

/** A Markdown table (first column left-aligned, others right-aligned). */
export function markdownTable(head: string[], rows: string[][]): string {
  const sep = head.map((_, i) => (i === 0 ? '---' : '---:'))
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n')
}

/** A positive integer flag, or the default. */
export function intFlag(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name}: expected a positive integer, got "${value}"`)
  return n
}
