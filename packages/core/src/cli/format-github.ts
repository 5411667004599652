import { lateWork } from '../format.ts'
import { KIND_WORDS } from '../kinds.ts'
import { checkoutPath, type LeakItem, type Summary, where } from './summary.ts'

/** GitHub's workflow-command escaping for the message part. */
export function escapeData(s: string): string {
  return s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}

/** …and for property values (`file=`, `title=`), where `:` and `,` are separators too. */
export function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(':', '%3A').replaceAll(',', '%2C')
}

function command(
  level: 'error' | 'warning' | 'notice',
  props: Record<string, string | number | undefined>,
  message: string,
): string {
  const p = Object.entries(props)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${escapeProperty(String(v))}`)
    .join(',')
  return `::${level}${p ? ` ${p}` : ''}::${escapeData(message)}`
}

function location(item: LeakItem, base: string): Record<string, string | number | undefined> {
  const f = item.leak.frame
  if (!f) return item.testFile === '' ? {} : { file: checkoutPath(item.testFile, item.root, base) }
  return { file: checkoutPath(f.file, item.root, base), line: f.line, col: f.column }
}

/** ` (first request at fn (file:line:col))`: the other lines an annotation can only mention. */
function related(item: LeakItem): string {
  return (item.leak.related ?? [])
    .filter((r) => r.stack[0])
    .map((r) => ` (${r.title} ${r.stack[0]})`)
    .join('')
}

/** ` (opened in: one — started 42 ms after the test ended…)` for work a test left running. */
function lateNote(item: LeakItem): string {
  const late = lateWork(item.leak)
  return late ? ` (opened in: ${late})` : ''
}

function subject(item: LeakItem): string {
  if (item.testFile === '') return where(item)
  const file = item.project ? `[${item.project}] ${item.testFile}` : item.testFile
  return item.test === '' ? `${file} (file level)` : item.test
}

/** GitHub shows at most 10 annotations of each level per step: a longer list ends in one that counts the rest. */
export const NOTICES_SHOWN = 10

/**
 * Workflow commands: an error at the creating line of every failing leak, a warning for every leak of a
 * retried attempt and every leak the baseline accepted, a notice per stale baseline entry (the first
 * ten, then their count) and a warning per churning test.
 * `base` is the checkout root (GITHUB_WORKSPACE): annotation paths must be relative to it.
 */
export function formatGithub(s: Summary, base: string): string {
  const lines: string[] = []
  for (const item of s.leaks) {
    const times = item.leak.count > 1 ? ` (×${item.leak.count})` : ''
    lines.push(
      command(
        'error',
        { ...location(item, base), title: `netsan: ${KIND_WORDS[item.leak.kind]}` },
        `${subject(item)}: ${item.leak.description}${times}${related(item)}${lateNote(item)} — fix: ${item.leak.fix}`,
      ),
    )
  }
  for (const item of s.retried) {
    lines.push(
      command(
        'warning',
        { ...location(item, base), title: `netsan (retried attempt): ${KIND_WORDS[item.leak.kind]}` },
        `${subject(item)}, attempt ${item.attempt ?? 1}: ${item.leak.description} — the test was retried, and its last attempt decides — fix: ${item.leak.fix}`,
      ),
    )
  }
  for (const item of s.workerEnd) {
    lines.push(
      command(
        'warning',
        { ...location(item, base), title: `netsan (worker end): ${KIND_WORDS[item.leak.kind]}` },
        `${subject(item)}: ${item.leak.description} — still open when the worker ended; no file failed for it — fix: ${item.leak.fix}`,
      ),
    )
  }
  for (const item of s.suppressed) {
    if (item.by !== 'baseline') continue
    lines.push(
      command(
        'warning',
        { ...location(item, base), title: `netsan (baseline): ${KIND_WORDS[item.leak.kind]}` },
        `${subject(item)}: ${item.leak.description} — known leak, ${item.reason} — fix: ${item.leak.fix}`,
      ),
    )
  }
  const stale = s.stale ?? []
  for (const e of stale.slice(0, NOTICES_SHOWN)) {
    lines.push(
      command(
        'notice',
        { file: e.file || e.testFile, title: 'netsan: stale baseline entry' },
        `${where(e)}: ${KIND_WORDS[e.kind]}${e.fn ? ` created in ${e.fn}` : ''} no longer occurs; regenerate the baseline to drop it`,
      ),
    )
  }
  if (stale.length > NOTICES_SHOWN) {
    lines.push(
      command(
        'notice',
        { title: 'netsan: stale baseline entries' },
        `${stale.length - NOTICES_SHOWN} more stale baseline entries (${stale.length} in all); regenerate the baseline to drop them`,
      ),
    )
  }
  for (const c of s.churn) {
    lines.push(command('warning', { file: c.testFile, title: 'netsan: connection churn' }, c.message))
  }
  return lines.join('\n')
}
