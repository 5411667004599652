/** The kinds of network resource netsan tracks. */
export type LeakKind = 'body' | 'request' | 'socket' | 'idle' | 'server' | 'http2' | 'websocket'

export const LEAK_KINDS: readonly LeakKind[] = [
  'body',
  'request',
  'socket',
  'idle',
  'server',
  'http2',
  'websocket',
]

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
  kinds?: LeakKind[]
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
  /** The scope that owns it: a test name, or a file. */
  owner: string
  /** Identical leaks are merged; this says how many. */
  count: number
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
