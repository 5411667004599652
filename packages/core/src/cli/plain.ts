/**
 * Report values (test names, URLs, stack frames) are the tested code's, and `netsan report` prints them
 * into CI logs. There a newline in a test name would start a line of netsan's own, and a GitHub Actions
 * runner treats a line as a workflow command when its first non-blank characters are `::` (`::error::…`,
 * `::add-mask::…`, `::stop-commands::…`), or when it holds `##[` anywhere (the legacy syntax,
 * actions/runner `ActionCommand.TryParse`). The text and markdown outputs go through both guards below;
 * GitHub annotations are escaped as the runner requires (format-github.ts).
 */
import type { Summary } from './summary.ts'

/** Control characters shown as escapes (`\n`, `\u001b`): the value stays on its line and cannot colour it. */
export function oneLine(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  return s.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

function mapStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === 'string') return f(value)
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f))
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f)]))
  }
  return value
}

/** The summary with every string on one line; churn warnings keep their own line breaks. */
export function printable(s: Summary): Summary {
  const clean = mapStrings(s, oneLine) as Summary
  clean.churn = clean.churn.map((c, i) => ({
    ...c,
    message: s.churn[i]!.message.split('\n').map(oneLine).join('\n'),
  }))
  return clean
}

/** No line of `text` reads as a workflow command: a leading `::` becomes `:\:`, and `##[` becomes `#\#[`. */
export function inertLines(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/^(\s*):(?=:)/, '$1:\\').replaceAll('##[', '#\\#['))
    .join('\n')
}
