import { ErrorCodes, NetsanError } from './errors.ts'
import {
  type BodiesPolicy,
  LEAK_KINDS,
  type LeakKind,
  type Mode,
  type NetsanOptions,
  type ResolvedOptions,
  type SharedPoolsPolicy,
} from './types.ts'

const MODES: readonly Mode[] = ['fail', 'warn', 'off']
const SHARED_POOLS: readonly SharedPoolsPolicy[] = ['allow', 'close', 'fail']
const BODIES: readonly BodiesPolicy[] = ['app', 'all', 'held']
const IGNORE_KEYS = ['kind', 'origin', 'stack']
const KEYS = [
  'mode',
  'kinds',
  'settleMs',
  'sharedPools',
  'bodies',
  'ignore',
  'cleanup',
  'report',
  'baseline',
  'base',
  'churn',
  'root',
] as const

/**
 * How long a scope end waits for closing resources. Measured in docs/discoveries/settle.md:
 * a destroyed socket closes within one event-loop turn, a graceful close within a few ms on loopback.
 */
export const DEFAULT_SETTLE_MS = 100

export const DEFAULT_OPTIONS: ResolvedOptions = Object.freeze({
  mode: 'fail',
  kinds: new Set(LEAK_KINDS),
  settleMs: DEFAULT_SETTLE_MS,
  sharedPools: 'allow',
  bodies: 'app',
  ignore: [],
  cleanup: true,
  report: undefined,
  baseline: undefined,
  base: 'node',
  churn: false,
  root: process.cwd(),
}) as ResolvedOptions

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (value instanceof RegExp) return String(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

function invalid(key: string, value: unknown, allowed: string): NetsanError {
  return new NetsanError(
    ErrorCodes.INVALID_OPTION,
    `netsan: invalid value for option "${key}": received ${show(value)}; allowed: ${allowed}`,
  )
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
  throw invalid(key, value, allowed.map((a) => `'${a}'`).join(', '))
}

function matcher(key: string, value: unknown): string | RegExp {
  if (typeof value === 'string' || value instanceof RegExp) return value
  throw invalid(key, value, 'a string or a RegExp')
}

/** The environment variable wins over config, so CI can switch netsan off or to warnings without edits. */
export function modeFromEnv(env: NodeJS.ProcessEnv = process.env): Mode | undefined {
  const raw = env.NETSAN
  if (raw === undefined || raw === '') return undefined
  return oneOf('NETSAN (environment variable)', raw.trim().toLowerCase(), MODES)
}

/** Validates user options; every error names the key, the value received and what is allowed. */
export function resolveOptions(input: unknown = {}, env: NodeJS.ProcessEnv = process.env): ResolvedOptions {
  if (input === undefined || input === null) input = {}
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw invalid('netsan', input, 'an object of options')
  }
  const given = input as Record<string, unknown>
  for (const key of Object.keys(given)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new NetsanError(
        ErrorCodes.UNKNOWN_OPTION,
        `netsan: unknown option "${key}"; known options: ${KEYS.join(', ')}`,
      )
    }
  }
  const o = given as NetsanOptions
  const out: ResolvedOptions = { ...DEFAULT_OPTIONS, kinds: new Set(LEAK_KINDS), ignore: [] }
  if (o.mode !== undefined) out.mode = oneOf('mode', o.mode, MODES)
  if (o.kinds !== undefined) {
    if (!Array.isArray(o.kinds)) throw invalid('kinds', o.kinds, `an array of ${LEAK_KINDS.join(', ')}`)
    out.kinds = new Set(o.kinds.map((k, i) => oneOf<LeakKind>(`kinds[${i}]`, k, LEAK_KINDS)))
  }
  if (o.settleMs !== undefined) {
    if (
      typeof o.settleMs !== 'number' ||
      !Number.isFinite(o.settleMs) ||
      o.settleMs < 0 ||
      o.settleMs > 60_000
    ) {
      throw invalid('settleMs', o.settleMs, 'a number of milliseconds from 0 to 60000')
    }
    out.settleMs = o.settleMs
  }
  if (o.sharedPools !== undefined) out.sharedPools = oneOf('sharedPools', o.sharedPools, SHARED_POOLS)
  if (o.bodies !== undefined) out.bodies = oneOf('bodies', o.bodies, BODIES)
  if (o.ignore !== undefined) {
    if (!Array.isArray(o.ignore)) throw invalid('ignore', o.ignore, 'an array of { kind?, origin?, stack? }')
    out.ignore = o.ignore.map((rule, i) => {
      if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
        throw invalid(`ignore[${i}]`, rule, 'an object { kind?, origin?, stack? }')
      }
      for (const k of Object.keys(rule)) {
        if (!IGNORE_KEYS.includes(k))
          throw invalid(`ignore[${i}].${k}`, (rule as any)[k], 'keys kind, origin, stack')
      }
      if (Object.keys(rule).length === 0)
        throw invalid(`ignore[${i}]`, rule, 'at least one of kind, origin, stack')
      return {
        ...(rule.kind !== undefined && { kind: oneOf<LeakKind>(`ignore[${i}].kind`, rule.kind, LEAK_KINDS) }),
        ...(rule.origin !== undefined && { origin: matcher(`ignore[${i}].origin`, rule.origin) }),
        ...(rule.stack !== undefined && { stack: matcher(`ignore[${i}].stack`, rule.stack) }),
      }
    })
  }
  if (o.cleanup !== undefined) {
    if (typeof o.cleanup !== 'boolean') throw invalid('cleanup', o.cleanup, 'true or false')
    out.cleanup = o.cleanup
  }
  for (const key of ['report', 'baseline', 'base', 'root'] as const) {
    const value = o[key]
    if (value === undefined) continue
    if (typeof value !== 'string' || value === '') throw invalid(key, value, 'a non-empty path string')
    out[key] = value
  }
  if (o.churn !== undefined && o.churn !== false) {
    const n = (o.churn as { maxConnectionsPerOrigin?: unknown }).maxConnectionsPerOrigin
    if (typeof o.churn !== 'object' || typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
      throw invalid('churn', o.churn, 'false or { maxConnectionsPerOrigin: a positive integer }')
    }
    out.churn = { maxConnectionsPerOrigin: n }
  }
  const envMode = modeFromEnv(env)
  if (envMode) out.mode = envMode
  return out
}
