import { lateWork } from '../format.ts'
import { KIND_WORDS } from '../kinds.ts'
import { connectionLine, more, STALE_SHOWN, verdict } from './format-text.ts'
import { inertLines, printable } from './plain.ts'
import { type LeakItem, leakTotal, type Summary, where } from './summary.ts'

const cell = (s: string) => s.replaceAll('|', '\\|')
const code = (s: string) => `\`${s.replaceAll('`', "'")}\``

function leakRows(lines: string[], items: LeakItem[]): void {
  lines.push('| test | kind | what | created at | fix |', '|---|---|---|---|---|')
  for (const i of items) {
    const at = i.leak.frame ? code(`${i.leak.frame.file}:${i.leak.frame.line}`) : ''
    const times = i.leak.count > 1 ? ` (×${i.leak.count})` : ''
    const late = lateWork(i.leak)
    const what = late ? `${i.leak.description} (opened in: ${late})` : i.leak.description
    lines.push(
      `| ${cell(where(i))} | ${KIND_WORDS[i.leak.kind]}${times} | ${cell(what)} | ${at} | ${cell(i.leak.fix)} |`,
    )
  }
}

/** For a pull-request comment or `$GITHUB_STEP_SUMMARY`. Report values stay on their line (plain.ts). */
export function formatMarkdown(summary: Summary): string {
  const s = printable(summary)
  const lines = [`### ${verdict(s)}`, '']
  lines.push('| | |', '|---|---|')
  lines.push(`| reports | ${s.reports.length} (${cell(s.runners.join(', '))}) |`)
  if (s.runs.length > 1) lines.push(`| runs | ${s.runs.length} |`)
  lines.push(`| files / tests | ${s.files} / ${s.tests} |`)
  lines.push(`| tests with leaks | ${s.testsWithLeaks} |`)
  lines.push(`| leaks | ${leakTotal(s.leaks)} |`)
  if (s.retried.length > 0) lines.push(`| leaks of retried attempts (warnings) | ${leakTotal(s.retried)} |`)
  if (s.workerEnd.length > 0)
    lines.push(`| left open when a worker ended (warnings) | ${leakTotal(s.workerEnd)} |`)
  lines.push(`| suppressed | ${leakTotal(s.suppressed)} |`)
  if (s.stale) lines.push(`| stale baseline entries | ${s.stale.length} |`)
  lines.push(`| connections | ${cell(connectionLine(s))} |`)
  if (s.leaks.length > 0) {
    lines.push('', s.baseline ? '#### New leaks' : '#### Leaks', '')
    leakRows(lines, s.leaks)
  }
  if (s.retried.length > 0) {
    lines.push('', '#### Leaks of retried attempts (warnings: the last attempt decides)', '')
    leakRows(lines, s.retried)
  }
  if (s.workerEnd.length > 0) {
    lines.push('', "#### Left open when a worker ended (warnings: modules shared by the worker's files)", '')
    leakRows(lines, s.workerEnd)
  }
  if (s.suppressed.length > 0) {
    lines.push('', '#### Suppressed', '', '| by | reason | test | kind |', '|---|---|---|---|')
    for (const i of s.suppressed) {
      lines.push(`| ${i.by} | ${cell(i.reason)} | ${cell(where(i))} | ${KIND_WORDS[i.leak.kind]} |`)
    }
  }
  if (s.stale && s.stale.length > 0) {
    lines.push('', '#### Stale baseline entries', '')
    for (const e of s.stale.slice(0, STALE_SHOWN))
      lines.push(`- ${cell(where(e))}: ${KIND_WORDS[e.kind]} (${code(e.fn || e.file || '?')})`)
    const rest = more(s.stale.length, STALE_SHOWN)
    if (rest) lines.push(`- ${rest}`)
  }
  if (s.churn.length > 0) {
    lines.push('', '#### Connection churn', '')
    for (const c of s.churn) lines.push(`- ${cell(where(c))}: ${cell(c.message.split('\n')[0] ?? '')}`)
  }
  return inertLines(lines.join('\n'))
}
