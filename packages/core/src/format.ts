import type { LeakError } from './errors.ts'
import { isNetworkKind, KIND_WORDS } from './kinds.ts'
import { redactText } from './redact.ts'
import type { Leak, Suppressed } from './types.ts'

export interface Colors {
  bold(s: string): string
  red(s: string): string
  dim(s: string): string
  cyan(s: string): string
  yellow(s: string): string
  green(s: string): string
}

const identity = (s: string) => s

/** No colours: what netsan prints unless the adapter says the runner colours its output. */
export const plainColors: Colors = {
  bold: identity,
  red: identity,
  dim: identity,
  cyan: identity,
  yellow: identity,
  green: identity,
}

function sgr(open: number, close: number): (s: string) => string {
  const start = `\u001b[${open}m`
  const end = `\u001b[${close}m`
  // A style nested inside another ends with the same code: the outer one is re-opened after it.
  return (s) => (s === '' ? s : start + s.replaceAll(end, end + start) + end)
}

/** ANSI colours, the codes Vitest's tinyrainbow and Jest's chalk use; the adapters decide when. */
export const ansiColors: Colors = {
  bold: sgr(1, 22),
  red: sgr(31, 39),
  dim: sgr(2, 22),
  cyan: sgr(36, 39),
  yellow: sgr(33, 39),
  green: sgr(32, 39),
}

export interface FormatOptions {
  colors?: Colors
  /** Reads one source line for a code frame under the first user frame; omitted, no code frame. */
  sourceLine?: (file: string, line: number) => string | undefined
  /** Project root, for resolving `frame.file` when reading source. */
  root?: string
}

/**
 * How the adapter of this process wants netsan's reports, wherever a report is made: at a scope's end,
 * and in `expectNoLeakedConnections()`, which may run in another copy of netsan (Jest's sandbox). `shape`
 * fits a LeakError to what the runner prints best (its own code frame at the creating line, the report
 * kept whole as the message).
 */
export interface Presentation extends FormatOptions {
  shape?: (error: LeakError) => LeakError
}

/** `test "name"`, `describe "outer > inner"` or `file "path"`: what the heading says left things open. */
export interface Subject {
  type: 'test' | 'describe' | 'file' | 'worker' | 'scope'
  name: string
  /** One line under the heading, from the adapter: why a test that expects to fail still fails. */
  note?: string
  /** Which run of a test this was, when the runner ran it more than once. */
  attempt?: number
  /** The runner retried the test (or the describe block) after this attempt: its leaks are a warning. */
  retried?: boolean
}

/**
 * A creation frame as the report prints it: `at fn (src/a.ts:14)`, without the column. Both runners read
 * an error's text for stack frames (Jest: a line `at …:<line>:<column>` ends the message and the rest is
 * re-rendered as a stack; Vitest: any line `at …<file>:<line>`), so the report's frames must not be taken
 * for the error's own: the adapters' `shape` gives Vitest the frames itself, and a frame with one colon
 * never matches Jest's pattern. The column stays in the JSON report and the runners' code frames.
 * @note docs/discoveries/runner-output.md
 */
export function printedFrame(frame: string): string {
  return frame.replace(/^(at (?:.*\()?.*:\d+):\d+(\)?)$/, '$1$2')
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** Identical leaks (same kind, description and stack) become one block with a count. */
export function mergeLeaks(leaks: Leak[]): Leak[] {
  const byKey = new Map<string, Leak>()
  for (const leak of leaks) {
    // Late work is told apart by the test that ran when it started (the report names it).
    const related = (leak.related ?? []).map((r) => `${r.title}\n${r.stack.join('\n')}`).join('\n')
    const key = [
      leak.kind,
      leak.description,
      leak.stack.join('\n'),
      related,
      leak.owner,
      leak.ownerType,
      leak.late?.during,
    ].join('\0')
    const seen = byKey.get(key)
    if (seen) seen.count += leak.count
    else byKey.set(key, { ...leak })
  }
  return [...byKey.values()]
}

/** The failure message: a pure function of the leaks, snapshot-tested. */
export function formatLeaks(subject: Subject, leaks: Leak[], options: FormatOptions = {}): string {
  const c = options.colors ?? plainColors
  const total = leaks.reduce((n, l) => n + l.count, 0)
  const who =
    subject.type === 'worker' ? "modules shared by this worker's files" : `${subject.type} "${subject.name}"`
  const attempt = subject.attempt ? ` on attempt ${subject.attempt}` : ''
  const retried = subject.retried
    ? c.yellow(
        ` — a warning, not a failure: the ${subject.type === 'describe' ? 'block' : 'test'} was retried, and its last attempt decides`,
      )
    : ''
  // Handle kinds (timers, child processes…) are resources, not network resources.
  const what = leaks.every((l) => isNetworkKind(l.kind)) ? 'network resource' : 'resource'
  const lines = [c.bold(`netsan: ${who} left ${plural(total, what)} open${attempt}`) + retried]
  if (subject.note) lines.push(`  (${subject.note})`)
  for (const leak of mergeLeaks(leaks))
    lines.push('', ...formatLeakBlock(leak, openedIn(subject, leak), options))
  return lines.join('\n')
}

/**
 * One leak's block: the kind and what it was, its creating frames (titled when more stacks follow), a
 * code frame at the first one, the related stacks, which scope opened it, and the fix. Shared by every
 * report of a leak or a handle (scope ends, `expectNoLeakedConnections()`, the exit diagnosis).
 */
export function formatLeakBlock(
  leak: Leak,
  opened: string | undefined,
  options: FormatOptions = {},
): string[] {
  const c = options.colors ?? plainColors
  const times = leak.count > 1 ? ` (×${leak.count})` : ''
  const lines = [`  ${c.red('✖')} ${c.bold(KIND_WORDS[leak.kind])}${times} — ${leak.description}`]
  if (leak.stackTitle) lines.push(`    ${leak.stackTitle}:`)
  if (leak.stack.length === 0) lines.push(c.dim('      (no user code on the creation stack)'))
  lines.push(...printedFrames(leak.stack, c))
  const code = leak.frame && options.sourceLine?.(leak.frame.file, leak.frame.line)
  if (code !== undefined && code !== '' && leak.frame) {
    const n = String(leak.frame.line)
    // The source line may hold a URL with a secret in it: redacted like every URL netsan prints.
    lines.push(`      ${c.dim(`${n} |`)} ${redactText(code.trim())}`)
  }
  for (const more of leak.related ?? []) {
    lines.push(`    ${more.title}:`)
    lines.push(...printedFrames(more.stack, c))
  }
  if (opened) lines.push(c.dim(`    opened in: ${opened}`))
  lines.push(`    ${c.cyan('fix:')} ${leak.fix}`)
  return lines
}

/** A stack's frames as printed: two frames on one line (a callback and its caller) print the same without their columns: once. */
function printedFrames(stack: string[], c: Colors): string[] {
  return stack
    .map(printedFrame)
    .filter((f, i, all) => f !== all[i - 1])
    .map((f) => `      ${c.dim(f)}`)
}

/**
 * Which scope opened a resource that another scope reports: a test (`opened in: uploads a file`), a
 * describe block, and for work a scope left running, how late it started and which test ran then.
 */
function openedIn(subject: Subject, leak: Leak): string | undefined {
  if (subject.type === 'test') return undefined
  const sameScope =
    leak.owner === subject.name && (leak.ownerType === 'describe') === (subject.type === 'describe')
  if (sameScope && !leak.late) return undefined
  return lateWork(leak) ?? ownerName(leak)
}

const ownerName = (leak: Leak) => (leak.ownerType === 'describe' ? `describe "${leak.owner}"` : leak.owner)

/**
 * `one — started 42 ms after the test ended, while "two" ran` for work a scope left running, else
 * undefined: the runner's `opened in:` words, which `netsan report` prints too (cli/format-*.ts).
 */
export function lateWork(leak: Leak): string | undefined {
  if (!leak.late) return undefined
  const what = leak.ownerType === 'describe' ? 'the block' : 'the test'
  const during = leak.late.during === undefined ? '' : `, while "${leak.late.during}" ran`
  return `${ownerName(leak)} — started ${leak.late.ms} ms after ${what} ended${during}`
}

/**
 * A short list of what was found but not failed, so nothing is hidden silently. It names the test or
 * file: Jest prints a worker's stderr as it comes, ahead of the file's results, under no test's name.
 */
export function formatSuppressed(
  suppressed: Suppressed[],
  options: FormatOptions = {},
  subject?: Pick<Subject, 'type' | 'name'>,
): string {
  const c = options.colors ?? plainColors
  if (suppressed.length === 0) return ''
  const where = subject ? ` in ${subject.type} "${subject.name}"` : ''
  const lines = [c.yellow(`netsan: ${plural(suppressed.length, 'leak')} allowed${where}`)]
  for (const s of suppressed) {
    lines.push(`  - ${KIND_WORDS[s.leak.kind]} — ${s.leak.description} (${s.by}: ${s.reason})`)
  }
  return lines.join('\n')
}
