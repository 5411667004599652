import { KIND_WORDS } from './kinds.ts'
import { redactText } from './redact.ts'
import type { Leak, Suppressed } from './types.ts'

export interface Colors {
  bold(s: string): string
  red(s: string): string
  dim(s: string): string
  cyan(s: string): string
  yellow(s: string): string
}

const plain: Colors = { bold: (s) => s, red: (s) => s, dim: (s) => s, cyan: (s) => s, yellow: (s) => s }

export interface FormatOptions {
  colors?: Colors
  /** Reads one source line for a code frame under the first user frame; omitted, no code frame. */
  sourceLine?: (file: string, line: number) => string | undefined
  /** Project root, for resolving `frame.file` when reading source. */
  root?: string
}

/** `test "name"` or `file "path"`: what the heading says left things open. */
export interface Subject {
  type: 'test' | 'file' | 'worker' | 'scope'
  name: string
  /** One line under the heading, from the adapter: why a test that expects to fail still fails. */
  note?: string
  /** Which run of a test this was, when the runner ran it more than once. */
  attempt?: number
  /** The runner retried the test after this attempt: its leaks are a warning. */
  retried?: boolean
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** Identical leaks (same kind, description and stack) become one block with a count. */
export function mergeLeaks(leaks: Leak[]): Leak[] {
  const byKey = new Map<string, Leak>()
  for (const leak of leaks) {
    const related = (leak.related ?? []).map((r) => `${r.title}\n${r.stack.join('\n')}`).join('\n')
    const key = `${leak.kind}\0${leak.description}\0${leak.stack.join('\n')}\0${related}\0${leak.owner}`
    const seen = byKey.get(key)
    if (seen) seen.count += leak.count
    else byKey.set(key, { ...leak })
  }
  return [...byKey.values()]
}

/** The failure message: a pure function of the leaks, snapshot-tested. */
export function formatLeaks(subject: Subject, leaks: Leak[], options: FormatOptions = {}): string {
  const c = options.colors ?? plain
  const total = leaks.reduce((n, l) => n + l.count, 0)
  const who =
    subject.type === 'worker' ? "modules shared by this worker's files" : `${subject.type} "${subject.name}"`
  const attempt = subject.attempt ? ` on attempt ${subject.attempt}` : ''
  const retried = subject.retried
    ? c.yellow(' — a warning, not a failure: the test was retried, and its last attempt decides')
    : ''
  const lines = [c.bold(`netsan: ${who} left ${plural(total, 'network resource')} open${attempt}`) + retried]
  if (subject.note) lines.push(`  (${subject.note})`)
  for (const leak of mergeLeaks(leaks)) {
    lines.push('')
    const times = leak.count > 1 ? ` (×${leak.count})` : ''
    lines.push(`  ${c.red('✖')} ${c.bold(KIND_WORDS[leak.kind])}${times} — ${leak.description}`)
    if (leak.stackTitle) lines.push(`    ${leak.stackTitle}:`)
    if (leak.stack.length === 0) lines.push(c.dim('      (no user code on the creation stack)'))
    for (const frame of leak.stack) lines.push(c.dim(`      ${frame}`))
    const code = leak.frame && options.sourceLine?.(leak.frame.file, leak.frame.line)
    if (code !== undefined && code !== '' && leak.frame) {
      const n = String(leak.frame.line)
      // The source line may hold a URL with a secret in it: redacted like every URL netsan prints.
      lines.push(`      ${c.dim(`${n} |`)} ${redactText(code.trim())}`)
    }
    for (const more of leak.related ?? []) {
      lines.push(`    ${more.title}:`)
      for (const frame of more.stack) lines.push(c.dim(`      ${frame}`))
    }
    if (subject.type !== 'test' && leak.owner !== subject.name)
      lines.push(c.dim(`    opened in: ${leak.owner}`))
    lines.push(`    ${c.cyan('fix:')} ${leak.fix}`)
  }
  return lines.join('\n')
}

/** A short list of what was found but not failed, so nothing is hidden silently. */
export function formatSuppressed(suppressed: Suppressed[], options: FormatOptions = {}): string {
  const c = options.colors ?? plain
  if (suppressed.length === 0) return ''
  const lines = [c.yellow(`netsan: ${plural(suppressed.length, 'leak')} allowed`)]
  for (const s of suppressed) {
    lines.push(`  - ${KIND_WORDS[s.leak.kind]} — ${s.leak.description} (${s.by}: ${s.reason})`)
  }
  return lines.join('\n')
}
