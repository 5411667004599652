import type { FileHandle } from 'node:fs/promises'
import type { Engine } from '../../engine.ts'
import type { Scope } from '../../scope.ts'
import type { Site } from '../../stack.ts'
import type { HandleKind } from '../../types.ts'
import type { HandleLedger, HandleResource, HandleSpec } from './ledger.ts'
import { siteOfHandle } from './ledger.ts'
import { Patches } from './patch.ts'

const { AsyncLocalStorage } = process.getBuiltinModule('node:async_hooks')
const fs = process.getBuiltinModule('node:fs')

function pathOf(value: unknown): string {
  if (typeof value === 'string') return value
  if (value instanceof URL) return value.href
  if (Buffer.isBuffer(value)) return value.toString()
  return String(value)
}

const STREAM_FIX = 'read the stream to its end, or call stream.destroy() when done'

/** The descriptors opened through fs.open/openSync and not closed yet, by number. */
type OpenFds = Map<number, FdSpec>

/** A descriptor from fs.open/fs.openSync: open until fs.close/fs.closeSync closes its number. */
class FdSpec implements HandleSpec {
  readonly kind: HandleKind = 'file'
  record: HandleResource | undefined
  waiting: (() => void)[] | undefined
  private readonly fds: OpenFds
  private readonly fd: number
  private readonly path: unknown
  private readonly stream: boolean
  constructor(fds: OpenFds, fd: number, path: unknown, stream: boolean) {
    this.fds = fds
    this.fd = fd
    this.path = path
    this.stream = stream
  }
  describe(): string {
    return `${this.stream ? 'file stream of ' : ''}${JSON.stringify(pathOf(this.path))} (fd ${this.fd}), never closed`
  }
  isOpen(): boolean {
    return this.fds.get(this.fd) === this
  }
  isDone(): boolean {
    return !this.isOpen()
  }
  keepsAlive(): boolean {
    return false
  }
  whenClosed(done: () => void): void {
    if (this.isOpen()) (this.waiting ??= []).push(done)
    else done()
  }
  close(): void {
    if (this.isOpen()) fs.close(this.fd, () => {})
  }
  fix(): string | undefined {
    return this.stream ? STREAM_FIX : undefined
  }
}

/**
 * A FileHandle from fs.promises.open, held weakly: Node closes a FileHandle that is collected (with a
 * warning), and netsan must not keep it from that. Its 'close' event (no default behaviour) says it
 * was closed by code; collected without it, it was left to the garbage collector: a leak all the same.
 */
class FileHandleSpec implements HandleSpec {
  readonly kind: HandleKind = 'file'
  record: HandleResource | undefined
  closed = false
  private readonly ref: WeakRef<FileHandle>
  private readonly fd: number
  private readonly path: unknown
  constructor(handle: FileHandle, path: unknown) {
    this.path = path
    this.ref = new WeakRef(handle)
    this.fd = handle.fd
    ;(handle as unknown as NodeJS.EventEmitter).once('close', () => {
      this.closed = true
    })
  }
  describe(): string {
    const gc = this.ref.deref() ? '' : ' (Node closed it when it was garbage-collected)'
    return `FileHandle of ${JSON.stringify(pathOf(this.path))} (fd ${this.fd}), never closed${gc}`
  }
  isOpen(): boolean {
    return !this.closed
  }
  isDone(): boolean {
    return this.closed || (this.ref.deref() === undefined && this.record?.reported === true)
  }
  keepsAlive(): boolean {
    return false
  }
  whenClosed(done: () => void): void {
    const handle = this.ref.deref()
    if (handle && !this.closed) (handle as unknown as NodeJS.EventEmitter).once('close', () => done())
    else done()
  }
  close(): void {
    this.ref
      .deref()
      ?.close()
      .catch(() => {})
  }
}

/**
 * `file`: a descriptor from `fs.open`/`fs.openSync` (file streams included) or a `FileHandle` from
 * `fs.promises.open` not closed when its scope ends. Descriptors are forgotten when `fs.close`/
 * `fs.closeSync` closes them.
 */
export function installFileTracker(engine: Engine, ledger: HandleLedger): () => void {
  const fds: OpenFds = new Map()
  const patches = new Patches()

  // A file stream opens its descriptor on a later tick, with no user frame on the stack: the site of the
  // createReadStream()/createWriteStream() call travels to that open in the async context (nothing else
  // opens a file in it: the caller's own code after the call runs outside).
  const streamCalls = new AsyncLocalStorage<Site>()
  const createStream = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        return streamCalls.run(siteOfHandle(), () => Reflect.apply(original, this, args))
      },
  )

  const trackFd = (fd: number, path: unknown, site: Site, stream: boolean, owner: Scope | undefined) => {
    if (!Number.isInteger(fd) || fd < 0) return
    // A number reused: the descriptor it stood for was closed where netsan could not see it.
    const stale = fds.get(fd)
    if (stale?.record) ledger.done(stale.record)
    const spec = new FdSpec(fds, fd, path, stream)
    fds.set(fd, spec)
    spec.record = ledger.add(spec, site, owner?.live())
  }

  const closed = (fd: unknown) => {
    if (typeof fd !== 'number') return
    const spec = fds.get(fd)
    if (!spec) return
    fds.delete(fd)
    if (spec.record) ledger.done(spec.record)
    for (const done of spec.waiting?.splice(0) ?? []) done()
  }

  const openSync = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const fd = Reflect.apply(original, this, args) as number
        try {
          trackFd(fd, args[0], siteOfHandle(), false, undefined)
        } catch {}
        return fd
      },
  )

  const open = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const last = args.length - 1
        const callback = args[last]
        if (typeof callback === 'function') {
          const streamSite = streamCalls.getStore()
          const site = streamSite ?? siteOfHandle()
          const owner = engine.current()
          args[last] = function (this: unknown, error: unknown, fd: number) {
            if (!error) {
              try {
                trackFd(fd, args[0], site, streamSite !== undefined, owner)
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

  const openHandle = patches.wrapper(
    (original) =>
      function (this: unknown, ...args: unknown[]) {
        const promise = Reflect.apply(original, this, args) as Promise<FileHandle>
        const site = siteOfHandle()
        const owner = engine.current()
        return promise.then((handle) => {
          try {
            const spec = new FileHandleSpec(handle, args[0])
            spec.record = ledger.add(spec, site, owner.live())
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
