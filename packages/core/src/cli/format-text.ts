import { lateWork } from '../format.ts'
import { KIND_WORDS } from '../kinds.ts'
import type { LeakKind } from '../types.ts'
import { inertLines, printable } from './plain.ts'
import { type LeakItem, leakTotal, type Summary, where } from './summary.ts'

/** Longer lists of stale baseline entries are cut here (the json format lists them all). */
export const STALE_SHOWN = 20

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`

export function kindCounts(byKind: Partial<Record<LeakKind, number>>): string {
  return Object.entries(byKind)
    .map(([kind, n]) => `${n} ${KIND_WORDS[kind as LeakKind]}`)
    .join(', ')
}

export function connectionLine(s: Summary): string {
  const c = s.connections
  return [
    `${plural(c.socketsOpened, 'socket')} opened`,
    plural(c.requests, 'request'),
    `${c.requestsPerConnection} request${c.requestsPerConnection === 1 ? '' : 's'} per connection`,
    plural(c.tlsHandshakes, 'TLS handshake'),
    `peak ${c.peakOpenConnections} open in one scope`,
  ].join(', ')
}

export function verdict(s: Summary): string {
  const n = leakTotal(s.leaks)
  const retried = leakTotal(s.retried)
  const workerEnd = leakTotal(s.workerEnd)
  const kinds = [
    retried && `${plural(retried, 'warning')}: leaks of retried attempts`,
    workerEnd && `${plural(workerEnd, 'warning')}: left open by modules shared by a worker's files`,
  ].filter(Boolean)
  const warnings = kinds.length > 0 ? ` (${kinds.join('; ')})` : ''
  if (n === 0) return `${s.baseline ? 'netsan: OK — no new leaks' : 'netsan: OK — no leaks'}${warnings}`
  return `netsan: FAIL — ${plural(n, s.baseline ? 'new leak' : 'leak')} in ${plural(s.testsWithLeaks, 'test')}${
    s.leaks.some((l) => l.fileLevel) ? ' and at file level' : ''
  }${warnings}`
}

function leakBlock(lines: string[], mark: string, item: LeakItem): void {
  const times = item.leak.count > 1 ? ` (×${item.leak.count})` : ''
  lines.push('', `  ${mark} ${where(item)}`)
  lines.push(`    ${KIND_WORDS[item.leak.kind]}${times} — ${item.leak.description}`)
  if (item.leak.stackTitle) lines.push(`    ${item.leak.stackTitle}:`)
  if (item.leak.stack.length === 0) lines.push('      (no user code on the creation stack)')
  for (const frame of item.leak.stack) lines.push(`      ${frame}`)
  for (const more of item.leak.related ?? []) {
    lines.push(`    ${more.title}:`)
    for (const frame of more.stack) lines.push(`      ${frame}`)
  }
  const late = lateWork(item.leak)
  if (late) lines.push(`    opened in: ${late}`)
  lines.push(`    fix: ${item.leak.fix}`)
}

/** `… and 12 more` under a cut list. */
export function more(total: number, shown: number): string | undefined {
  return total > shown ? `… and ${total - shown} more (the json format lists them all)` : undefined
}

/**
 * The human summary: every failing leak with its stack and fix, leaks of retried attempts, every
 * suppression, stale entries, figures. Report values are printed on one line each (plain.ts).
 */
export function formatText(summary: Summary): string {
  const s = printable(summary)
  const lines: string[] = []
  const total = leakTotal(s.leaks)
  const retried = leakTotal(s.retried)
  const workerEnd = leakTotal(s.workerEnd)
  lines.push(
    `netsan report: ${plural(s.reports.length, 'report')} (${s.runners.join(', ') || 'no runner'}${s.runs.length > 1 ? `; ${plural(s.runs.length, 'run')}` : ''}), ${plural(s.files, 'file')}, ${plural(s.tests, 'test')}`,
  )
  lines.push(
    `  tests with leaks: ${s.testsWithLeaks}; leaks: ${total}${total ? ` (${kindCounts(s.leaksByKind)})` : ''}${retried ? `; leaks of retried attempts: ${retried} (warnings)` : ''}${workerEnd ? `; left open when a worker ended: ${workerEnd} (warnings)` : ''}`,
  )
  lines.push(`  connections: ${connectionLine(s)}`)
  if (s.leaks.length > 0) {
    lines.push('', s.baseline ? `New leaks (not in the baseline ${s.baseline}):` : 'Leaks:')
    for (const item of s.leaks) leakBlock(lines, '✖', item)
  }
  if (s.retried.length > 0) {
    lines.push(
      '',
      `Leaks of retried attempts (${plural(retried, 'leak')}, warnings: the runner retried the test, and its last attempt decides):`,
    )
    for (const item of s.retried) leakBlock(lines, '!', item)
  }
  if (s.workerEnd.length > 0) {
    lines.push(
      '',
      `Left open when a worker ended (${plural(workerEnd, 'leak')}, warnings: made by modules that a worker imported once for all its files, isolate: false; no file failed for them):`,
    )
    for (const item of s.workerEnd) leakBlock(lines, '!', item)
  }
  if (s.suppressed.length > 0) {
    lines.push('', `Suppressed (${plural(leakTotal(s.suppressed), 'leak')}, not failing):`)
    for (const group of s.suppressedByReason) {
      lines.push(`  ${group.by}: ${group.reason} — ${group.count}`)
      for (const item of s.suppressed) {
        if (item.by !== group.by || item.reason !== group.reason) continue
        const at = item.leak.frame ? ` (${item.leak.frame.file}:${item.leak.frame.line})` : ''
        lines.push(`    - ${where(item)}: ${KIND_WORDS[item.leak.kind]} — ${item.leak.description}${at}`)
      }
    }
  }
  if (s.stale && s.stale.length > 0) {
    lines.push(
      '',
      `Stale baseline entries (${s.stale.length}): no longer occur — regenerate with \`netsan baseline\` to drop them`,
    )
    for (const e of s.stale.slice(0, STALE_SHOWN)) {
      const fn = e.fn ? `${e.fn} ` : ''
      lines.push(`  - ${where(e)}: ${KIND_WORDS[e.kind]} created at ${fn}(${e.file || 'unknown'})`)
    }
    const rest = more(s.stale.length, STALE_SHOWN)
    if (rest) lines.push(`  ${rest}`)
  }
  if (s.churn.length > 0) {
    lines.push('', `Connection churn (${plural(s.churn.length, 'test')}, warning):`)
    for (const c of s.churn) {
      lines.push(`  - ${where(c)}`)
      for (const l of c.message.split('\n')) lines.push(`    ${l.replace(/^\s+/, '')}`)
    }
  }
  lines.push('', verdict(s))
  return inertLines(lines.join('\n'))
}
