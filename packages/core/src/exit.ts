/**
 * Why the process will not exit. When a worker has run its last test file and something still keeps
 * it alive, the runners print a bare warning ("Jest did not exit one second after the test run has
 * completed", "[vitest-pool]: Timeout terminating forks worker"). netsan says what, and where: the
 * handles its trackers recorded (with the handle kinds on: their creating line and the test or file
 * that made them), and for the rest Node's own count by type, with the kinds that would record them.
 * With `cleanup` on, it then closes what it recorded, so that the process can end.
 */
import { getEngine } from './engine.ts'
import { type FormatOptions, formatLeakBlock, plainColors } from './format.ts'
import type { Scope } from './scope.ts'
import { toLeak } from './scope.ts'
import { handleLedger } from './trackers/handles/index.ts'
import type { HandleResource } from './trackers/handles/ledger.ts'
import { HANDLE_KINDS, type HandleKind, type LeakKind } from './types.ts'

// Node's names (process.getActiveResourcesInfo()) for handles that keep a process alive, and the kind
// that records where they were made. Requests in flight (FSReqCallback, WriteWrap…) end by themselves.
const TYPES: Record<string, { kind: LeakKind; words: string }> = {
  Timeout: { kind: 'timer', words: 'timer' },
  ProcessWrap: { kind: 'child', words: 'child process' },
  FSEventWrap: { kind: 'watcher', words: 'fs.watch watcher' },
  StatWatcher: { kind: 'watcher', words: 'fs.watchFile watcher' },
  TCPSocketWrap: { kind: 'socket', words: 'TCP socket' },
  TCPServerWrap: { kind: 'server', words: 'TCP server' },
  PipeWrap: { kind: 'socket', words: 'pipe' },
  PipeServerWrap: { kind: 'server', words: 'pipe server' },
  UDPWrap: { kind: 'socket', words: 'UDP socket' },
  MessagePort: { kind: 'worker', words: 'MessagePort' },
}

/** Counts of Node's active resource types, by name. */
function census(): Map<string, number> {
  const counts = new Map<string, number>()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return counts
}

export interface ExitReport {
  /** What to print; undefined when netsan has nothing to say (the process exits, or nothing is known). */
  text: string | undefined
  /** How many recorded handles netsan closed. */
  closed: number
}

export interface DiagnoseOptions extends FormatOptions {
  /** The first line, given how many handles keep the process alive. */
  heading: (count: number) => string
  /** Only what outlives the process's own end (Vitest kills its workers: only child processes matter). */
  only?: readonly HandleKind[]
  root: string
  cleanup: boolean
  kinds: ReadonlySet<LeakKind>
}

/**
 * Remembers what the runner itself keeps alive (its IPC channel, stdio pipes) when the first test file
 * starts, so that the diagnosis counts only what came after.
 */
export class ExitWatch {
  private baseline: Map<string, number> | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private done = false

  /** A test file starts: take the runner's baseline once, and forget a pending diagnosis. */
  fileStarted(): void {
    this.baseline ??= census()
    this.cancel()
  }

  cancel(): void {
    if (this.timer) realClearTimeout(this.timer)
    this.timer = undefined
  }

  /**
   * A test file ended. `finished` says, when polled, whether the runner is done with this process (a
   * Jest worker whose channel has been told to end); without it, `idleMs` with no new file means done.
   * The timers are unref'd: a process that can exit is never held, nor told anything.
   */
  fileEnded(options: DiagnoseOptions, when: { idleMs: number } | { finished: () => boolean }): void {
    this.cancel()
    if (this.done) return
    const report = () => {
      this.cancel()
      this.done = true
      const { text } = this.diagnose(options)
      if (text) process.stderr.write(`\n${text}\n\n`)
    }
    if ('idleMs' in when) {
      this.timer = realSetTimeout(report, when.idleMs)
    } else {
      // Polled: the runner tells the worker to end by message; what remains alive shows a moment later.
      let seenAt: number | undefined
      this.timer = realSetInterval(() => {
        if (!when.finished()) return
        seenAt ??= performance.now()
        if (performance.now() - seenAt >= GRACE_MS) report()
      }, POLL_MS)
    }
    this.timer.unref()
  }

  /** What keeps the process alive, as netsan can tell; closes what it recorded when `cleanup` is on. */
  diagnose(options: DiagnoseOptions): ExitReport {
    const ledger = handleLedger(getEngine())
    const only = options.only ? new Set<LeakKind>(options.only) : undefined
    const recorded = (ledger?.alive() ?? []).filter((r) => !only || only.has(r.kind))
    const unrecorded = this.unrecorded(options, only)
    if (recorded.length === 0 && unrecorded.length === 0) return { text: undefined, closed: 0 }
    const c = options.colors ?? plainColors
    const total = recorded.length + unrecorded.reduce((n, u) => n + u.count, 0)
    const lines = [c.bold(options.heading(total))]
    for (const record of recorded) lines.push('', ...block(record, options))
    for (const u of unrecorded) {
      const hint = !options.kinds.has(u.kind)
        ? `add '${u.kind}' to the option kinds (kinds: ['network', '${u.kind}']) to see where it is created`
        : HANDLE_KINDS.includes(u.kind as HandleKind)
          ? 'not made by a test netsan watched (the runner, a setup file, or after its file ended)'
          : 'left open on purpose (allowLeaks, ignore, baseline, cleanup off), or opened outside the tests (the runner, a setup file)'
      lines.push(
        '',
        `  ${c.red('•')} ${u.count} ${u.words}${u.count === 1 ? '' : 's'} (Node: ${u.type}) — ${hint}`,
      )
    }
    let closed = 0
    if (options.cleanup) {
      for (const record of recorded) {
        try {
          record.close?.()
          closed++
        } catch {}
      }
      if (closed > 0)
        lines.push(
          '',
          `netsan closed the ${closed === 1 ? 'handle' : `${closed} handles`} it recorded (option cleanup), so that the process can end.`,
        )
    }
    return { text: lines.join('\n'), closed }
  }

  /** Node's handles beyond the runner's baseline that no recorded handle accounts for. */
  private unrecorded(options: DiagnoseOptions, only: Set<LeakKind> | undefined) {
    const out: { type: string; kind: LeakKind; words: string; count: number }[] = []
    for (const [type, n] of census()) {
      const known = TYPES[type]
      if (!known || (only && !only.has(known.kind))) continue
      // Recorded kinds are listed above with their line; the rest is Node's count, less the runner's own.
      if (options.kinds.has(known.kind) && HANDLE_KINDS.includes(known.kind as HandleKind)) continue
      // The runner's own timers at the first file's start are transient: its baseline counts no timer.
      const count = n - (type === 'Timeout' ? 0 : (this.baseline?.get(type) ?? 0))
      if (count > 0) out.push({ type, ...known, count })
    }
    return out
  }
}

// Node's own timers: a test's fake timers never reach them.
const {
  setTimeout: realSetTimeout,
  setInterval: realSetInterval,
  clearTimeout: realClearTimeout,
} = process.getBuiltinModule('node:timers')
const POLL_MS = 100
const GRACE_MS = 100

function block(record: HandleResource, options: DiagnoseOptions): string[] {
  const leak = toLeak(record, options.root, record.createdIn.name)
  return formatLeakBlock(leak, describeOwner(record.createdIn), options)
}

/** The test or file that created it. */
function describeOwner(scope: Scope): string {
  if (scope.type === 'test') return `test "${scope.name}"${scope.parent ? ` (${scope.parent.name})` : ''}`
  if (scope.type === 'file') return `file ${scope.name} (module level, beforeAll or afterAll)`
  return 'no test file: code that ran before the first or after the last'
}

const KEY = Symbol.for('netsan.exit-watch.v1')

/** The process's one ExitWatch, shared by every copy of netsan. */
export function exitWatch(): ExitWatch {
  const g = globalThis as unknown as Record<symbol, ExitWatch | undefined>
  let watch = g[KEY]
  if (!watch) {
    watch = new ExitWatch()
    Object.defineProperty(g, KEY, { value: watch, configurable: true })
  }
  return watch
}
