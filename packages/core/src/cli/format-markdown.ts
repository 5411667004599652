import { KIND_WORDS } from '../kinds.ts'
import { connectionLine, verdict } from './format-text.ts'
import { leakTotal, type Summary, where } from './summary.ts'

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ')
const code = (s: string) => `\`${s.replaceAll('`', "'")}\``

/** For a pull-request comment or `$GITHUB_STEP_SUMMARY`. */
export function formatMarkdown(s: Summary): string {
  const lines = [`### ${verdict(s)}`, '']
  lines.push('| | |', '|---|---|')
  lines.push(`| reports | ${s.reports.length} (${cell(s.runners.join(', '))}) |`)
  lines.push(`| files / tests | ${s.files} / ${s.tests} |`)
  lines.push(`| tests with leaks | ${s.testsWithLeaks} |`)
  lines.push(`| leaks | ${leakTotal(s.leaks)} |`)
  lines.push(`| suppressed | ${leakTotal(s.suppressed)} |`)
  if (s.stale) lines.push(`| stale baseline entries | ${s.stale.length} |`)
  lines.push(`| connections | ${cell(connectionLine(s))} |`)
  if (s.leaks.length > 0) {
    lines.push('', s.baseline ? '#### New leaks' : '#### Leaks', '')
    lines.push('| test | kind | what | created at | fix |', '|---|---|---|---|---|')
    for (const i of s.leaks) {
      const at = i.leak.frame ? code(`${i.leak.frame.file}:${i.leak.frame.line}`) : ''
      const times = i.leak.count > 1 ? ` (×${i.leak.count})` : ''
      lines.push(
        `| ${cell(where(i))} | ${KIND_WORDS[i.leak.kind]}${times} | ${cell(i.leak.description)} | ${at} | ${cell(i.leak.fix)} |`,
      )
    }
  }
  if (s.suppressed.length > 0) {
    lines.push('', '#### Suppressed', '', '| by | reason | test | kind |', '|---|---|---|---|')
    for (const i of s.suppressed) {
      lines.push(`| ${i.by} | ${cell(i.reason)} | ${cell(where(i))} | ${KIND_WORDS[i.leak.kind]} |`)
    }
  }
  if (s.stale && s.stale.length > 0) {
    lines.push('', '#### Stale baseline entries', '')
    for (const e of s.stale)
      lines.push(`- ${cell(where(e))}: ${KIND_WORDS[e.kind]} (${code(e.fn || e.file || '?')})`)
  }
  if (s.churn.length > 0) {
    lines.push('', '#### Connection churn', '')
    for (const c of s.churn) lines.push(`- ${cell(where(c))}: ${cell(c.message.split('\n')[0] ?? '')}`)
  }
  return lines.join('\n')
}
