/** The kinds of network resource netsan tracks: checked by default. */
export type NetworkKind = 'body' | 'request' | 'socket' | 'idle' | 'server' | 'http2' | 'websocket'

/** Other handles a test can leave behind: tracked only when `kinds` names them (trackers/handles/). */
export type HandleKind = 'timer' | 'child' | 'watcher' | 'worker' | 'file'

export type LeakKind = NetworkKind | HandleKind

export const NETWORK_KINDS: readonly NetworkKind[] = [
  'body',
  'request',
  'socket',
  'idle',
  'server',
  'http2',
  'websocket',
]

export const HANDLE_KINDS: readonly HandleKind[] = ['timer', 'child', 'watcher', 'worker', 'file']

/** Every kind netsan knows; `kinds` defaults to NETWORK_KINDS. */
export const LEAK_KINDS: readonly LeakKind[] = [...NETWORK_KINDS, ...HANDLE_KINDS]

/** Words `kinds` accepts for a group of kinds: `kinds: ['network', 'timer']`. */
export type KindGroup = 'network' | 'handles'

export type Mode = 'fail' | 'warn' | 'off'
export type SharedPoolsPolicy = 'allow' | 'close' | 'fail'
export type BodiesPolicy = 'app' | 'all' | 'held'

/** One rule of the `ignore` option: every given field must match for the rule to hide a leak. */
export interface IgnoreRule {
  kind?: LeakKind
  /** Matched against the leak's origin (`http://127.0.0.1:8080`) or redacted URL. */
  origin?: string | RegExp
  /** Matched against any frame of the creation stack (function name or `file:line`). */
  stack?: string | RegExp
}

export interface ChurnOptions {
  /** A test that opens more connections than this to one origin, at about one request each, is reported. */
  maxConnectionsPerOrigin: number
}

/** Options as users write them (`environmentOptions.netsan`, `testEnvironmentOptions.netsan`, `track()`). */
export interface NetsanOptions {
  mode?: Mode
  /** Default: the network kinds. Handle kinds are opt-in: `['network', 'timer']`, `['network', 'handles']`. */
  kinds?: (LeakKind | KindGroup)[]
  settleMs?: number
  sharedPools?: SharedPoolsPolicy
  bodies?: BodiesPolicy
  ignore?: IgnoreRule[]
  cleanup?: boolean
  report?: string
  baseline?: string
  base?: string
  churn?: ChurnOptions | false
  /** Project root used to print relative paths; defaults to `process.cwd()`. */
  root?: string
}

export interface ResolvedOptions {
  mode: Mode
  kinds: ReadonlySet<LeakKind>
  settleMs: number
  sharedPools: SharedPoolsPolicy
  bodies: BodiesPolicy
  ignore: IgnoreRule[]
  cleanup: boolean
  report: string | undefined
  baseline: string | undefined
  base: string
  churn: ChurnOptions | false
  root: string
}

/** A source location in user code. */
export interface Frame {
  fn?: string
  file: string
  line: number
  column: number
}

/** One leaked resource, as reported. */
export interface Leak {
  kind: LeakKind
  /** What it was, in plain words: method, redacted URL, status, bytes read, pool. */
  description: string
  /** Redacted origin (`http://127.0.0.1:8080`) when known. */
  origin?: string
  /** User frames of the creation stack, formatted `at fn (file:line:col)`, paths relative to the root. */
  stack: string[]
  /** The first user frame, for annotations and baseline keys. */
  frame?: Frame
  /** What `stack` is, where the report shows more than one stack (`pool created`). */
  stackTitle?: string
  /** More stacks that matter, each titled (an idle connection's `first request`), formatted as `stack`. */
  related?: { title: string; stack: string[] }[]
  fix: string
  /** The scope that owns it: a test name, a describe block (`ownerType`), or a file. */
  owner: string
  /** Set when `owner` is a describe block (`outer > inner`) rather than a test or a file. */
  ownerType?: 'describe'
  /**
   * Set when it was created in its owner's async context after the owner had ended: work the test (or
   * block) left running, such as a retry loop or an un-awaited promise chain. `ms` after the owner
   * ended; `during`: the test that was running then (never blamed for it).
   */
  late?: LateStart
  /** Identical leaks are merged; this says how many. */
  count: number
}

/** When work a scope left running created a resource: `ms` after the scope ended, while `during` ran. */
export interface LateStart {
  ms: number
  during?: string
}

/** A leak that was found and then deliberately not failed: by `allowLeaks`, an `ignore` rule or the baseline. */
export interface Suppressed {
  leak: Leak
  by: 'allowLeaks' | 'ignore' | 'baseline'
  reason: string
}

/** Connection figures for one scope: visible even when nothing leaks. */
export interface ConnectionStats {
  socketsOpened: number
  requests: number
  /** requests / connections that carried a request; 1 means no reuse. */
  requestsPerConnection: number
  tlsHandshakes: number
  peakOpenConnections: number
  /** Connections opened per origin (redacted). */
  connectionsByOrigin: Record<string, number>
}

export interface ScopeResult {
  owner: string
  leaks: Leak[]
  suppressed: Suppressed[]
  stats: ConnectionStats
}
