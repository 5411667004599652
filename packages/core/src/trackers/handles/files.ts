import type { FileHandle } from 'node:fs/promises'
import type { Engine } from '../../engine.ts'
import type { Scope } from '../../scope.ts'
import type { Site } from '../../stack.ts'
import type { HandleLedger, HandleRecord } from './ledger.ts'
import { handleSite } from './ledger.ts'
import { Patches } from './patch.ts'

const { AsyncLocalStorage } = process.getBuiltinModule('node:async_hooks')

function pathOf(value: unknown): string {
  if (typeof value === 'string') return value
  if (value instanceof URL) return value.href
  if (Buffer.isBuffer(value)) return value.toString()
  return String(value)
}

// Node's file streams open and close their descriptor through the fs module, on a later tick.
const STREAMS = 'node:internal/fs/streams'
const STREAM_FIX = 'read the stream to its end, or call stream.destroy() when done'

/**
 * `file`: a descriptor from `fs.open`/`fs.openSync` (file streams included) or a `FileHandle` from
 * `fs.promises.open` not closed when its scope ends. Descriptors are forgotten when `fs.close`/
 * `fs.closeSync` closes them; a FileHandle is held weakly (Node closes one that is collected).
 */
export function installFileTracker(engine: Engine, ledger: HandleLedger): () => void {
  const fs = process.getBuiltinModule('node:fs')
  const fds = new Map<number, { record: HandleRecord; waiting: (() => void)[] }>()
  const patches = new Patches()

  // A file stream opens its descriptor with no user frame on the stack: the site of the
  // createReadStream()/createWriteStream() call travels to that open in the async context.
  const streamCalls = new AsyncLocalStorage<Site>()
  const streamSites = new WeakSet<Site>()
  const createStream = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const site = handleSite()
        if (!site) return Reflect.apply(original, this, args)
        return streamCalls.run(site, () => Reflect.apply(original, this, args))
      },
  )
  const siteOfOpen = (): Site | undefined => {
    const site = handleSite()
    if (!site || !site.files().some((f) => f.file === STREAMS)) return site
    const call = streamCalls.getStore()
    if (call) streamSites.add(call)
    return call ?? site
  }

  const trackFd = (fd: number, path: unknown, site: Site, owner: Scope | undefined) => {
    if (!Number.isInteger(fd) || fd < 0) return
    const entry = { record: undefined as unknown as HandleRecord, waiting: [] as (() => void)[] }
    const stream = streamSites.has(site)
    entry.record = ledger.add({
      kind: 'file',
      site,
      owner: owner?.live(),
      describe: () =>
        `${stream ? 'file stream of ' : ''}${JSON.stringify(pathOf(path))} (fd ${fd}), never closed`,
      isOpen: () => fds.get(fd) === entry,
      isDone: () => fds.get(fd) !== entry,
      keepsAlive: () => false,
      whenClosed: (done) => (fds.get(fd) === entry ? entry.waiting.push(done) : done()),
      close: () => {
        if (fds.get(fd) === entry) fs.close(fd, () => {})
      },
      fix: stream ? STREAM_FIX : undefined,
    })
    // A number reused: the descriptor it stood for was closed where netsan could not see it.
    const stale = fds.get(fd)
    if (stale) ledger.done(stale.record)
    fds.set(fd, entry)
  }

  const closed = (fd: unknown) => {
    if (typeof fd !== 'number') return
    const entry = fds.get(fd)
    if (!entry) return
    fds.delete(fd)
    ledger.done(entry.record)
    for (const done of entry.waiting.splice(0)) done()
  }

  const openSync = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const fd = Reflect.apply(original, this, args) as number
        try {
          const site = handleSite()
          if (site) trackFd(fd, args[0], site, undefined)
        } catch {}
        return fd
      },
  )

  const open = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const last = args.length - 1
        const callback = args[last]
        const site = typeof callback === 'function' ? siteOfOpen() : undefined
        if (site) {
          const owner = engine.current()
          args[last] = function (this: unknown, error: unknown, fd: number) {
            if (!error) {
              try {
                trackFd(fd, args[0], site, owner)
              } catch {}
            }
            // biome-ignore lint/complexity/noArguments: the callback gets exactly what Node passed
            return Reflect.apply(callback as Function, this, arguments)
          }
        }
        return Reflect.apply(original, this, args)
      },
  )

  const closeAny = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        try {
          return Reflect.apply(original, this, args)
        } finally {
          closed(args[0])
        }
      },
  )

  const trackHandle = (handle: FileHandle, path: unknown, site: Site, owner: Scope) => {
    // Held weakly: Node closes a FileHandle that is collected (with a warning); netsan must not keep it
    // from that. Its 'close' event (no default behaviour) says it was closed by code; collected without
    // it, it was left to the garbage collector: a leak all the same.
    const ref = new WeakRef(handle)
    const fd = handle.fd
    let closed = false
    ;(handle as unknown as NodeJS.EventEmitter).once('close', () => {
      closed = true
    })
    const record = ledger.add({
      kind: 'file',
      site,
      owner: owner.live(),
      describe: () =>
        `FileHandle of ${JSON.stringify(pathOf(path))} (fd ${fd}), never closed${ref.deref() ? '' : ' (Node closed it when it was garbage-collected)'}`,
      isOpen: () => !closed,
      isDone: () => closed || (ref.deref() === undefined && record.resource.reported),
      keepsAlive: () => false,
      whenClosed: (done) => {
        const h = ref.deref()
        if (h && !closed) (h as unknown as NodeJS.EventEmitter).once('close', () => done())
        else done()
      },
      close: () => {
        ref
          .deref()
          ?.close()
          .catch(() => {})
      },
    })
  }

  const openHandle = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const promise = Reflect.apply(original, this, args) as Promise<FileHandle>
        const site = handleSite()
        if (!site) return promise
        const owner = engine.current()
        return promise.then((handle) => {
          try {
            trackHandle(handle, args[0], site, owner)
          } catch {}
          return handle
        })
      },
  )

  patches.patch(fs, 'createReadStream', createStream)
  patches.patch(fs, 'createWriteStream', createStream)
  patches.patch(fs, 'openSync', openSync)
  patches.patch(fs, 'open', open)
  patches.patch(fs, 'closeSync', closeAny)
  patches.patch(fs, 'close', closeAny)
  patches.patch(fs.promises, 'open', openHandle)
  return () => {
    patches.dispose()
    fds.clear()
  }
}
