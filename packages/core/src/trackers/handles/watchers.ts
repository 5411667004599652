import type { FSWatcher, StatWatcher } from 'node:fs'
import type { Engine } from '../../engine.ts'
import type { HandleLedger } from './ledger.ts'
import { handleSite } from './ledger.ts'
import { Patches } from './patch.ts'

interface Handle {
  hasRef?: () => boolean
}

function pathOf(value: unknown): string {
  if (typeof value === 'string') return value
  if (value instanceof URL) return value.href
  if (Buffer.isBuffer(value)) return value.toString()
  return String(value)
}

/**
 * `watcher`: `fs.watch`, `fs.watchFile` and `fs.promises.watch` not closed when their scope ends.
 * Node publishes no channel for them: the three functions are wrapped (the caller gets what the
 * original returns; fs.promises.watch gets a signal of netsan's beside the caller's, to close it).
 */
export function installWatcherTracker(_engine: Engine, ledger: HandleLedger): () => void {
  const fs = process.getBuiltinModule('node:fs')
  const unwatchFile = fs.unwatchFile
  const patches = new Patches()

  const watch = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const watcher = Reflect.apply(original, this, args) as FSWatcher & { _handle?: Handle | null }
        try {
          const site = handleSite()
          if (!site) return watcher
          let closed = false
          // 'close' has no default behaviour: listening changes nothing. A recursive watcher (Linux) has no _handle.
          watcher.once('close', () => {
            closed = true
          })
          const open = () => !closed && watcher._handle !== null
          ledger.add(
            {
              kind: 'watcher',
              describe: () => `fs.watch(${JSON.stringify(pathOf(args[0]))}), never closed`,
              isOpen: open,
              isDone: () => !open(),
              keepsAlive: () => open() && (watcher._handle?.hasRef?.() ?? true),
              whenClosed: (done) => (open() ? watcher.once('close', () => done()) : done()),
              close: () => watcher.close(),
            },
            site,
          )
        } catch {}
        return watcher
      },
  )

  const watchFile = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const watcher = Reflect.apply(original, this, args) as StatWatcher & { _handle?: Handle | null }
        try {
          const listener = args.findLast((a) => typeof a === 'function') as (...a: unknown[]) => void
          const site = handleSite()
          if (!site || !listener) return watcher
          const filename = args[0]
          // Node shares one StatWatcher per file: this call is open while its listener is on it.
          const open = () => watcher._handle !== null && watcher.listeners('change').includes(listener)
          ledger.add(
            {
              kind: 'watcher',
              describe: () => `fs.watchFile(${JSON.stringify(pathOf(filename))}), never unwatched`,
              isOpen: open,
              isDone: () => !open(),
              keepsAlive: () => open() && (watcher._handle?.hasRef?.() ?? true),
              close: () => unwatchFile(filename as string, listener),
              fix: () => 'call fs.unwatchFile(file, listener) when done',
            },
            site,
          )
        } catch {}
        return watcher
      },
  )

  const promisesWatch = patches.wrapper(
    (original) =>
      function (this: unknown, filename: unknown, options?: unknown, ...rest: unknown[]) {
        const site = handleSite()
        if (!site) return Reflect.apply(original, this, [filename, options, ...rest])
        const controller = new AbortController()
        const given = (typeof options === 'object' && options !== null ? options : {}) as {
          signal?: AbortSignal
          persistent?: boolean
        }
        const signal = given.signal ? AbortSignal.any([given.signal, controller.signal]) : controller.signal
        const opts = typeof options === 'string' ? { encoding: options, signal } : { ...given, signal }
        const inner = Reflect.apply(original, this, [filename, opts, ...rest]) as AsyncGenerator
        let started = false
        let finished = false
        const waiting: (() => void)[] = []
        // The watch starts at the first next() (Node's watch is an async generator) and ends with it.
        async function* watching() {
          started = true
          try {
            return yield* inner
          } finally {
            finished = true
            for (const done of waiting.splice(0)) done()
          }
        }
        const open = () => started && !finished
        ledger.add(
          {
            kind: 'watcher',
            describe: () => `fs.promises.watch(${JSON.stringify(pathOf(filename))}), never closed`,
            isOpen: open,
            isDone: () => finished,
            keepsAlive: () => open() && given.persistent !== false,
            whenClosed: (done) => (open() ? waiting.push(done) : done()),
            close: () => controller.abort(),
            fix: () => 'break out of its for await loop when done, or abort the signal passed to it',
          },
          site,
        )
        return watching()
      },
  )

  patches.patch(fs, 'watch', watch)
  patches.patch(fs, 'watchFile', watchFile)
  patches.patch(fs.promises, 'watch', promisesWatch)
  return () => patches.dispose()
}
