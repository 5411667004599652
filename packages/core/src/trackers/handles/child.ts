import type { ChildProcess } from 'node:child_process'
import { CHANNELS, subscribe } from '../../channels.ts'
import type { Engine } from '../../engine.ts'
import { isSecretName, redactText } from '../../redact.ts'
import type { HandleLedger } from './ledger.ts'
import { handleSite } from './ledger.ts'

const { setTimeout: realSetTimeout } = process.getBuiltinModule('node:timers')

// A child that ignores SIGTERM gets SIGKILL this long after cleanup asked it to stop.
const KILL_GRACE_MS = 1000

/** `--token=abc`, `--password abc`, URLs with credentials: hidden before any output. */
export function redactArgs(args: readonly string[]): string[] {
  return args.map((arg, i) => {
    const flag = /^(-{1,2}[^=\s]+)=(.*)$/s.exec(arg)
    if (flag && isSecretName(flag[1]!.replace(/^-+/, ''))) return `${flag[1]}=***`
    const previous = args[i - 1]
    if (previous && /^-{1,2}[^=\s]+$/.test(previous) && isSecretName(previous.replace(/^-+/, '')))
      return '***'
    return redactText(arg)
  })
}

function commandOf(child: ChildProcess): string {
  const args = child.spawnargs?.length ? [...child.spawnargs] : [child.spawnfile ?? '?']
  // `/usr/local/bin/node -e …` reads as `node -e …`: the executable's directory says nothing about the leak.
  if (args[0] && /^(\/|[A-Za-z]:\\)/.test(args[0])) args[0] = args[0].split(/[\\/]/).pop()!
  const text = redactArgs(args).join(' ')
  return text.length > 120 ? `${text.slice(0, 117)}…` : text
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null
}

/** `child`: a child process (spawn, exec, execFile, fork) still running when its scope ends; from Node's `child_process` channel. */
export function installChildTracker(_engine: Engine, ledger: HandleLedger): () => void {
  return subscribe<{ process: ChildProcess }>(CHANNELS.childProcess, ({ process: child }) => {
    if (!child) return
    const site = handleSite()
    if (!site) return
    const ref = new WeakRef(child)
    ledger.add(
      {
        kind: 'child',
        describe: () => {
          const c = ref.deref()
          return c ? `${commandOf(c)} (pid ${c.pid ?? '?'}), still running` : 'child process'
        },
        isOpen: () => {
          const c = ref.deref()
          return c !== undefined && running(c)
        },
        isDone: () => {
          const c = ref.deref()
          return c === undefined || !running(c)
        },
        keepsAlive: () => {
          const c = ref.deref() as
            | (ChildProcess & { _handle?: { hasRef?: () => boolean } | null })
            | undefined
          return c !== undefined && running(c) && (c._handle?.hasRef?.() ?? true)
        },
        whenClosed: (done) => {
          const c = ref.deref()
          if (!c || !running(c)) done()
          else c.once('exit', () => done())
        },
        close: () => {
          const c = ref.deref()
          if (!c || !running(c)) return
          c.kill()
          realSetTimeout(() => {
            if (running(c)) c.kill('SIGKILL')
          }, KILL_GRACE_MS).unref()
        },
      },
      site,
    )
  })
}
