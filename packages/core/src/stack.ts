import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Frame } from './types.ts'

/**
 * A creation site. The V8 stack is captured eagerly (cheap). Its raw call sites (file and function
 * names, unmapped) are read only when netsan needs to classify the site (user code, a library, the
 * runner), and the text with source maps applied is made only when a leak is reported: running the
 * runner's source-mapping formatter is the expensive part (≈ 20 ms for a deep stack under Vitest).
 */
export class Site {
  private holder: object | undefined
  private callsites: NodeJS.CallSite[] | undefined
  private raw: RawFrame[] | undefined
  private parsed: ParsedFrame[] | undefined
  constructor(holder: object) {
    this.holder = holder
  }

  /** Where each frame's code lives, before source maps: enough to tell user code from the rest. */
  files(): RawFrame[] {
    this.raw ??= this.sites().map((cs) => {
      const file = fileOf(cs)
      return { file, kind: classify(file) }
    })
    return this.raw
  }

  /**
   * The innermost constructor running where this site was captured whose name `matches`, above the
   * first user frame: a pool created inside another pool's constructor (undici's ProxyAgent makes an
   * Agent and a Pool) finds the outer class here. Only the frames up to that constructor are
   * classified (reading a frame's file costs; a pool undici makes per origin has ≈ 40 frames and
   * usually no such constructor).
   */
  constructorMatching(matches: (name: string) => boolean): string | undefined {
    const sites = this.sites()
    for (let i = 0; i < sites.length; i++) {
      let name: string | undefined
      try {
        if (sites[i]!.isConstructor()) name = sites[i]!.getFunctionName() ?? ''
      } catch {}
      if (name === undefined || !matches(name)) continue
      for (let j = 0; j <= i; j++) if (this.kindAt(j) === 'user') return undefined
      return name
    }
    return undefined
  }

  /**
   * The first frame, innermost first, that `accepts`; only the frames up to it are read (most callers
   * want the first frame that is not Node's or netsan's, a few frames down a 48-frame stack).
   */
  findFile(accepts: (frame: RawFrame) => boolean): RawFrame | undefined {
    if (this.raw) return this.raw.find(accepts)
    for (const cs of this.sites()) {
      const file = fileOf(cs)
      const frame = { file, kind: classify(file) }
      if (accepts(frame)) return frame
    }
    return undefined
  }

  /** The kind of one frame, without classifying the others. */
  private kindAt(i: number): ParsedFrame['kind'] | undefined {
    if (this.raw) return this.raw[i]?.kind
    const cs = this.sites()[i]
    return cs && classify(fileOf(cs))
  }

  /** The frames as reported: mapped by the runner's formatter, with V8's function names. */
  frames(): ParsedFrame[] {
    if (!this.parsed) {
      this.parsed = format(this.holder, this.sites())
      this.holder = undefined
    }
    return this.parsed
  }

  private sites(): NodeJS.CallSite[] {
    if (!this.callsites) {
      let captured: NodeJS.CallSite[] = []
      const previous = Error.prepareStackTrace
      // V8 formats a stack once, on first access, through Error.prepareStackTrace: keep the call
      // sites and defer the runner's formatter to format() below.
      Error.prepareStackTrace = (_error, callsites) => {
        captured = callsites
        return ''
      }
      try {
        void (this.holder as { stack?: unknown } | undefined)?.stack
      } finally {
        Error.prepareStackTrace = previous
      }
      this.callsites = captured
    }
    return this.callsites
  }
}

export interface RawFrame {
  file: string
  kind: ParsedFrame['kind']
}

function fileOf(cs: NodeJS.CallSite): string {
  let file = cs.getFileName() ?? cs.getScriptNameOrSourceURL?.() ?? ''
  if (file.startsWith('file://')) {
    try {
      file = fileURLToPath(file)
    } catch {}
  }
  return file
}

/**
 * Formats call sites through the runner's own formatter (source maps: original files and lines),
 * but keeps V8's function names: Jest's source-map-support renames each frame after the identifier
 * at the mapped position, which is the callee, one frame off.
 */
function format(holder: object | undefined, callsites: NodeJS.CallSite[]): ParsedFrame[] {
  const formatter = Error.prepareStackTrace
  let text: string | undefined
  if (formatter && holder) {
    try {
      text = String(formatter(holder as Error, callsites))
    } catch {}
  }
  text ??= ['Error', ...callsites.map((cs) => `    at ${cs}`)].join('\n')
  const names = callsites.map(rawName)
  const lines = text.split('\n')
  if (lines.filter((l) => AT_LINE.test(l)).length !== names.length) return parseStack(text)
  let i = 0
  const renamed = lines.map((line) => {
    const m = AT_LINE.exec(line)
    if (!m) return line
    const name = names[i++]
    const loc = m[2]!
    return name ? `    at ${name} (${loc})` : `    at ${loc}`
  })
  return parseStack(renamed.join('\n'))
}

const AT_LINE = /^\s*at (?:(.*?) \()?(.+?)\)?$/

function rawName(cs: NodeJS.CallSite): string | undefined {
  try {
    let fn = cs.getFunctionName() ?? undefined
    if (cs.isConstructor()) return fn ? `new ${fn}` : undefined
    const type = cs.isToplevel() ? null : cs.getTypeName()
    if (type && type !== 'global' && fn && !fn.startsWith(`${type}.`)) fn = `${type}.${fn}`
    else if (type && !fn) fn = `${type}.${cs.getMethodName() ?? '<anonymous>'}`
    return fn?.endsWith('<anonymous>') ? undefined : fn
  } catch {
    return undefined
  }
}

export interface ParsedFrame extends Frame {
  kind: 'user' | 'library' | 'internal'
}

const CAPTURE_LIMIT = 48
/**
 * Where a wrapper captures at the user's call itself (fetch, Dispatcher API, http.request), the user
 * frames come first: fewer frames suffice, and each frame costs.
 */
export const CALL_SITE_LIMIT = 12

/** Captures the current stack; call sites from deep inside undici need more than V8's default 10 frames. */
export function captureSite(limit = CAPTURE_LIMIT): Site {
  const previous = Error.stackTraceLimit
  Error.stackTraceLimit = limit
  // An Error by prototype: runners' formatters expect one, and it costs no second capture.
  const holder = Object.create(Error.prototype) as object
  Error.captureStackTrace(holder, captureSite)
  Error.stackTraceLimit = previous
  return new Site(holder)
}

const OWN_DIRS = [path.dirname(fileURLToPath(import.meta.url))]

/** Lets adapters mark their own files as netsan's, so their frames never show up as user code. */
export function addOwnDirectory(dir: string): void {
  if (!OWN_DIRS.includes(dir)) OWN_DIRS.push(dir)
}

const LINE = /^\s*at (?:(?<fn>.*?) \()?(?<loc>.+?):(?<line>\d+):(?<col>\d+)\)?$/

function classify(file: string): ParsedFrame['kind'] {
  if (file.startsWith('node:') || !file.includes('/') || file.startsWith('internal/')) return 'internal'
  if (OWN_DIRS.some((dir) => file.startsWith(dir))) return 'internal'
  if (file.includes('/node_modules/')) return 'library'
  return 'user'
}

export function parseStack(stack: string): ParsedFrame[] {
  const frames: ParsedFrame[] = []
  for (const raw of stack.split('\n')) {
    const m = LINE.exec(raw)
    if (!m?.groups) continue
    let file = m.groups.loc!.replace(/^async /, '')
    if (file.startsWith('file://')) {
      try {
        file = fileURLToPath(file)
      } catch {}
    }
    const fn = m.groups.fn?.replace(/^async /, '').replace(/^new /, 'new ')
    frames.push({
      ...(fn && fn !== '<anonymous>' ? { fn } : {}),
      file,
      line: Number(m.groups.line),
      column: Number(m.groups.col),
      kind: classify(file),
    })
  }
  return frames
}

/** The first frame that is neither Node's nor netsan's: who really created the resource. */
export function directCreator(site: Site): RawFrame | undefined {
  return site.findFile((f) => f.kind !== 'internal')
}

/**
 * The user module whose code led to this site: the outermost frame of the innermost run of user
 * frames, where the caller is a library (a module loader such as Vitest's module runner) or nothing.
 * For code run while a module is imported, that is the module being evaluated, not the file whose
 * `import` started it (which shows up only as an async frame below the loader's).
 */
export function evaluatingModule(site: Site): string | undefined {
  let module: string | undefined
  for (const frame of site.files()) {
    if (frame.kind === 'user') module = frame.file
    else if (frame.kind === 'library' && module !== undefined) break
  }
  return module
}

export function userFrames(site: Site): ParsedFrame[] {
  return site.frames().filter((f) => f.kind === 'user')
}

const TEST_FILE = /(\.(test|spec)\.[cm]?[jt]sx?$)|([\\/](__tests__|test|tests)[\\/])/

export function isTestFile(file: string): boolean {
  return TEST_FILE.test(file)
}

/** Application code made it when its first user frame is not in a test file (the `bodies: 'app'` rule). */
export function createdByAppCode(site: Site): boolean {
  const first = site.findFile((f) => f.kind === 'user')
  return first !== undefined && !isTestFile(first.file)
}

export function relative(root: string, file: string): string {
  if (!path.isAbsolute(file)) return file
  const rel = path.relative(root, file)
  return rel.startsWith('..') ? file : rel
}

export function formatFrame(frame: Frame, root: string): string {
  const loc = `${relative(root, frame.file)}:${frame.line}:${frame.column}`
  return frame.fn ? `at ${frame.fn} (${loc})` : `at ${loc}`
}
