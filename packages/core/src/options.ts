import { ErrorCodes, NetsanError } from './errors.ts'
import {
  type BodiesPolicy,
  HANDLE_KINDS,
  type KindGroup,
  LEAK_KINDS,
  type LeakKind,
  type Mode,
  NETWORK_KINDS,
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
  kinds: new Set(NETWORK_KINDS),
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

const { isRegExp } = process.getBuiltinModule('node:util').types

/** A value as the user wrote it: JSON-like, but NaN, Infinity, 12n and RegExps stay what they are. */
function show(value: unknown, depth = 0): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value)
  if (typeof value === 'bigint') return `${value}n`
  if (isRegExp(value)) return String(value)
  if (typeof value !== 'object' || value === null) return String(value)
  if (depth > 2) return Array.isArray(value) ? '[…]' : '{…}'
  try {
    if (Array.isArray(value)) return `[${value.map((v) => show(v, depth + 1)).join(',')}]`
    const entries = Object.entries(value).filter(([, v]) => v !== undefined && typeof v !== 'function')
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${show(v, depth + 1)}`).join(',')}}`
  } catch {
    return String(value)
  }
}

/** `of`: where the options were given, when not in the config (` of expectNoLeakedConnections()`). */
function invalid(key: string, value: unknown, allowed: string, of = ''): NetsanError {
  return new NetsanError(
    ErrorCodes.INVALID_OPTION,
    `netsan: invalid value for option "${key}"${of}: received ${show(value)}; allowed: ${allowed}`,
  )
}

function unknown(key: string, value: unknown, known: readonly string[], of = ''): NetsanError {
  const near = known.find((k) => distance(k.toLowerCase(), key.toLowerCase()) <= 2)
  const hint = near ? `; did you mean "${near}"?` : ''
  return new NetsanError(
    ErrorCodes.UNKNOWN_OPTION,
    `netsan: unknown option "${key}"${of} (received ${show(value)}${hint}); known options: ${known.join(', ')}`,
  )
}

/** Edit distance, for a misspelt key. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length]!
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[], of = ''): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T
  throw invalid(key, value, allowed.map((a) => `'${a}'`).join(', '), of)
}

/**
 * A RegExp (of any realm: Jest's sandbox has its own RegExp) is copied: the copy is netsan's, so
 * matching can reset its `lastIndex` (`g` and `y` keep state between calls) without touching the user's.
 */
function matcher(key: string, value: unknown): string | RegExp {
  if (typeof value === 'string') return value
  if (isRegExp(value)) return new RegExp(value.source, value.flags)
  throw invalid(key, value, 'a string or a RegExp')
}

// Group words of `kinds`: handle kinds are opt-in, so enabling one must not mean listing every network kind.
const GROUPS: Record<KindGroup, readonly LeakKind[]> = { network: NETWORK_KINDS, handles: HANDLE_KINDS }
const KIND_WORDS_ALLOWED: readonly string[] = [...LEAK_KINDS, ...Object.keys(GROUPS)]

/** `kinds`: a non-empty list of known kinds and groups. `empty` says what to do instead of checking nothing. */
function kindsOption(value: unknown, empty: string, of = ''): Set<LeakKind> {
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid(
      'kinds',
      value,
      `a non-empty array of ${LEAK_KINDS.join(', ')}, or the groups 'network', 'handles' (${empty})`,
      of,
    )
  }
  const kinds = new Set<LeakKind>()
  value.forEach((k, i) => {
    const word = oneOf(`kinds[${i}]`, k, KIND_WORDS_ALLOWED, of)
    for (const kind of GROUPS[word as KindGroup] ?? [word as LeakKind]) kinds.add(kind)
  })
  return kinds
}

function settleMsOption(value: unknown, of = ''): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 60_000) {
    throw invalid('settleMs', value, 'a number of milliseconds from 0 to 60000', of)
  }
  return value
}

/** What `expectNoLeakedConnections(options)` accepts: a subset of the config, checked the same way. */
export interface CheckOptions {
  kinds?: (LeakKind | KindGroup)[]
  /** How long this check waits for closing resources; the config's `settleMs` when omitted. */
  settleMs?: number
}

const CHECK_KEYS = ['kinds', 'settleMs'] as const
const CHECK_OF = ' of expectNoLeakedConnections()'

/** Validates the options of `expectNoLeakedConnections()` with the config's messages. */
export function resolveCheckOptions(input: unknown): { kinds?: Set<LeakKind>; settleMs?: number } {
  if (input === undefined) return {}
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new NetsanError(
      ErrorCodes.INVALID_OPTION,
      `netsan: invalid value for the options${CHECK_OF}: received ${show(input)}; allowed: an object { kinds?, settleMs? }`,
    )
  }
  for (const [key, value] of Object.entries(input)) {
    if (!(CHECK_KEYS as readonly string[]).includes(key)) throw unknown(key, value, CHECK_KEYS, CHECK_OF)
  }
  const o = input as CheckOptions
  return {
    ...(o.kinds !== undefined && {
      kinds: kindsOption(o.kinds, 'to check nothing, do not call it', CHECK_OF),
    }),
    ...(o.settleMs !== undefined && { settleMs: settleMsOption(o.settleMs, CHECK_OF) }),
  }
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
  for (const [key, value] of Object.entries(given)) {
    if (!(KEYS as readonly string[]).includes(key)) throw unknown(key, value, KEYS)
  }
  const o = given as NetsanOptions
  const out: ResolvedOptions = { ...DEFAULT_OPTIONS, kinds: new Set(NETWORK_KINDS), ignore: [] }
  if (o.mode !== undefined) out.mode = oneOf('mode', o.mode, MODES)
  if (o.kinds !== undefined) out.kinds = kindsOption(o.kinds, "to check nothing, use mode: 'off'")
  if (o.settleMs !== undefined) out.settleMs = settleMsOption(o.settleMs)
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
