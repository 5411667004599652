// Pure helpers for scripts/demo.mjs: read the runners' JSON reports and compare what
// happened with examples/expected.json. No I/O here, so scripts/demo-lib.test.mjs can
// drive every rule with plain objects.

/** The words netsan's report uses for each kind: the demo checks for netsan's own table. */
import { KIND_WORDS } from 'netsan'

export { KIND_WORDS }

const LEVELS = ['test', 'file', 'any']

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g

export function stripAnsi(text) {
  return String(text ?? '').replace(ANSI, '')
}

/**
 * The expectations for one runner: `expected.tests`, each entry shallow-merged with
 * `expected.runners[runner][name]` when present. Validates as it goes.
 * @returns {Record<string, {pattern: string, expect: 'pass' | 'fail', kind?: string, level?: string}>}
 */
export function expectationsFor(expected, runner) {
  const overrides = expected.runners?.[runner] ?? {}
  const out = {}
  for (const [name, base] of Object.entries(expected.tests ?? {})) {
    const entry = { level: 'test', ...base, ...(overrides[name] ?? {}) }
    if (entry.expect !== 'pass' && entry.expect !== 'fail') {
      throw new Error(
        `expected.json: "${name}": expect must be "pass" or "fail", got ${JSON.stringify(entry.expect)}`,
      )
    }
    if (entry.expect === 'fail' && !(entry.kind in KIND_WORDS)) {
      throw new Error(
        `expected.json: "${name}": kind must be one of ${Object.keys(KIND_WORDS).join(', ')}, got ${JSON.stringify(entry.kind)}`,
      )
    }
    if (!LEVELS.includes(entry.level)) {
      throw new Error(
        `expected.json: "${name}": level must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(entry.level)}`,
      )
    }
    out[name] = entry
  }
  for (const name of Object.keys(overrides)) {
    if (!(name in out)) throw new Error(`expected.json: runners.${runner} overrides unknown test "${name}"`)
  }
  return out
}

/**
 * The netsan report inside a failure text, starting at `netsan: <scope> "`, ending after
 * its last `fix:` line (the rest is the error's own stack or another failure), or '' if none.
 */
export function extractNetsanMessage(text, scope = 'test') {
  const clean = stripAnsi(text)
  const start = clean.indexOf(`netsan: ${scope} "`)
  if (start === -1) return ''
  const lines = clean.slice(start).split('\n')
  let end = lines.length
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i] ?? ''
    if (/^\s*netsan: (test|file) "/.test(line) || /^\s*●/.test(line)) {
      end = i
      break
    }
  }
  const block = lines.slice(0, end)
  let lastFix = -1
  block.forEach((line, i) => {
    if (/^\s+fix: /.test(line)) lastFix = i
  })
  return (lastFix === -1 ? block.slice(0, 40) : block.slice(0, lastFix + 1)).join('\n').trimEnd()
}

/** Kinds whose plain words appear in `text`. */
export function kindsIn(text) {
  return Object.entries(KIND_WORDS)
    .filter(([, words]) => text.includes(words))
    .map(([kind]) => kind)
}

/**
 * Normalises Vitest's `--reporter=json` and Jest's `--json` output (same shape) to
 * `{ tests: {name: {status, message, file}}, files: {file: {status, message}}, duplicates }`.
 * `file` is relative to `root` (forward slashes).
 */
export function parseJsonReport(report, root) {
  const rel = (p) => {
    const norm = String(p).replaceAll('\\', '/')
    const base = `${String(root).replaceAll('\\', '/').replace(/\/$/, '')}/`
    return norm.startsWith(base) ? norm.slice(base.length) : norm
  }
  const tests = {}
  const files = {}
  const duplicates = []
  for (const result of report.testResults ?? []) {
    const file = rel(result.name)
    files[file] = {
      status: result.status === 'failed' ? 'fail' : 'pass',
      message: stripAnsi([result.message, result.testExecError?.message].filter(Boolean).join('\n')),
    }
    for (const a of result.assertionResults ?? []) {
      const name = a.fullName || a.title
      if (name in tests) duplicates.push(name)
      tests[name] = {
        status: a.status === 'passed' ? 'pass' : a.status === 'failed' ? 'fail' : 'skip',
        message: stripAnsi((a.failureMessages ?? []).join('\n')),
        file,
      }
    }
  }
  return { tests, files, duplicates }
}

/** The first meaningful line of an error text (skipping Jest's "● Test suite failed to run" headers). */
export function firstLine(text) {
  return (
    stripAnsi(text)
      .split('\n')
      .find((l) => l.trim() && !l.trim().startsWith('●')) ?? ''
  ).trim()
}

/**
 * Compares one runner's outcomes with its expectations.
 * @param expectations from expectationsFor()
 * @param actual from parseJsonReport(), optionally with `error` (the run itself failed)
 * @returns {{ results: Array<{name, pattern, expect, kind?, ok, caughtAt?, message, detail}>, mismatches: string[] }}
 */
export function compareOutcomes(expectations, actual) {
  const mismatches = []
  const results = []
  if (actual.error) mismatches.push(actual.error)
  for (const name of actual.duplicates ?? []) mismatches.push(`test name "${name}" is not unique`)

  // Kinds each file may report at file level: those of its tests expected at level file/any.
  const fileAllowed = {}
  const missing = []
  for (const [name, exp] of Object.entries(expectations)) {
    const test = actual.tests?.[name]
    if (!test) {
      missing.push(name)
      results.push({ name, ...exp, ok: false, message: '', detail: 'did not run' })
      continue
    }
    const fileMessage = extractNetsanMessage(actual.files?.[test.file]?.message ?? '', 'file')
    if (exp.expect === 'pass') {
      const ok = test.status === 'pass'
      const detail = ok ? '' : test.status === 'fail' ? firstLine(test.message) : test.status
      if (!ok)
        mismatches.push(
          `"${name}": expected to pass, but ${test.status === 'fail' ? 'failed' : 'was skipped'}: ${detail}`,
        )
      results.push({ name, ...exp, ok, message: test.message, detail })
      continue
    }
    const words = KIND_WORDS[exp.kind]
    const testMessage = extractNetsanMessage(test.message, 'test')
    const caughtInTest = test.status === 'fail' && testMessage.includes(words)
    const caughtInFile = fileMessage.includes(words)
    if (exp.level !== 'test') {
      fileAllowed[test.file] ??= new Set()
      fileAllowed[test.file].add(exp.kind)
    }
    let ok
    let caughtAt
    if (exp.level === 'test') {
      ok = caughtInTest
      caughtAt = caughtInTest ? 'test' : undefined
    } else if (exp.level === 'file') {
      ok = caughtInFile && test.status === 'pass'
      caughtAt = caughtInFile ? 'file' : caughtInTest ? 'test' : undefined
    } else {
      ok = caughtInTest || caughtInFile
      caughtAt = caughtInTest ? 'test' : caughtInFile ? 'file' : undefined
    }
    let detail = ''
    if (!ok) {
      if (exp.level === 'file' && caughtInTest) detail = `caught at test level, expected at file level`
      else if (exp.level === 'file' && caughtInFile)
        detail = `caught at file level, but the test itself failed`
      else if (test.status === 'pass')
        detail = `passed; no "${words}" reported${exp.level === 'test' ? '' : ' for its file either'}`
      else if (testMessage)
        detail = `netsan reported other kinds (${kindsIn(testMessage).join(', ') || 'none'})`
      else detail = `failed without a netsan report: ${firstLine(test.message)}`
      mismatches.push(`"${name}": expected "${words}" (level ${exp.level}), but ${detail}`)
    }
    results.push({
      name,
      ...exp,
      ok,
      caughtAt,
      message: caughtAt === 'file' ? fileMessage : testMessage || test.message,
      detail,
    })
  }

  if (missing.length === 1) mismatches.push(`"${missing[0]}" did not run`)
  else if (missing.length > 1 && !actual.error) {
    const some = missing.slice(0, 3).map((n) => `"${n}"`)
    mismatches.push(
      `${missing.length} tests did not run: ${some.join(', ')}${missing.length > 3 ? ', …' : ''}`,
    )
  }

  for (const [name, test] of Object.entries(actual.tests ?? {})) {
    if (!(name in expectations)) {
      mismatches.push(
        `"${name}" (${test.file}) is not listed in examples/expected.json (it ${test.status}ed)`,
      )
    }
  }

  for (const [file, result] of Object.entries(actual.files ?? {})) {
    const fileMessage = extractNetsanMessage(result.message, 'file')
    if (fileMessage) {
      const allowed = fileAllowed[file] ?? new Set()
      const found = kindsIn(fileMessage)
      const unexpected = found.filter((k) => !allowed.has(k))
      if (found.length === 0) mismatches.push(`${file}: file-level netsan report names no known kind`)
      else if (unexpected.length > 0) {
        mismatches.push(
          `${file}: unexpected file-level leak(s): ${unexpected.map((k) => KIND_WORDS[k]).join(', ')}`,
        )
      }
    } else if (result.status === 'fail') {
      const testsFailed = Object.values(actual.tests ?? {}).some(
        (t) => t.file === file && t.status === 'fail',
      )
      if (!testsFailed)
        mismatches.push(`${file}: the file failed: ${firstLine(result.message) || '(no message)'}`)
    }
  }
  return { results, mismatches }
}

/**
 * One row per (pattern, runner): did every leaking test get caught, does every fixed twin pass?
 * @param byRunner `{ [runner]: results from compareOutcomes }`
 */
export function summarize(byRunner) {
  const rows = []
  for (const [runner, results] of Object.entries(byRunner)) {
    const patterns = new Map()
    for (const r of results) {
      if (!patterns.has(r.pattern)) patterns.set(r.pattern, [])
      patterns.get(r.pattern).push(r)
    }
    for (const [pattern, list] of patterns) {
      const leaks = list.filter((r) => r.expect === 'fail')
      const passes = list.filter((r) => r.expect === 'pass')
      const levels = [...new Set(leaks.map((r) => r.caughtAt).filter(Boolean))]
      const caught =
        leaks.length === 0
          ? '—'
          : leaks.every((r) => r.ok)
            ? `yes${levels.includes('file') ? ` (${levels.join('+')} level)` : ''}`
            : 'NO'
      const fixed = passes.length === 0 ? '—' : passes.every((r) => r.ok) ? 'yes' : 'NO'
      rows.push({ pattern, runner, caught, fixed })
    }
  }
  return rows.sort(
    (a, b) => a.pattern.localeCompare(b.pattern, 'en', { numeric: true }) || a.runner.localeCompare(b.runner),
  )
}

/**
 * netsan's exit diagnosis in a runner's output ("netsan: Jest is done with this process …", "netsan:
 * Vitest is done with this worker …") up to its last line, and whether it is the one `expected.exit`
 * asks for: the kind in plain words, the test that created the handle, and that netsan closed it.
 * @returns {{ text: string, mismatch: string | undefined }}
 */
export function checkExitDiagnosis(output, exit) {
  const clean = stripAnsi(output)
  const start = clean.search(/netsan: (Jest|Vitest) is done with this/)
  if (start === -1)
    return { text: '', mismatch: `no exit diagnosis printed (expected one for "${exit.test}")` }
  const lines = clean.slice(start).split('\n')
  const end = lines.findIndex((l) => l.startsWith('netsan closed'))
  const text = (end === -1 ? lines.slice(0, 12) : lines.slice(0, end + 1)).join('\n').trimEnd()
  const words = KIND_WORDS[exit.kind]
  const missing = [
    !text.includes(`✖ ${words} — `) && `"${words}"`,
    !text.includes(`opened in: test "${exit.test}"`) && `the test "${exit.test}"`,
    end === -1 && 'that netsan closed it',
  ].filter(Boolean)
  return {
    text,
    mismatch: missing.length ? `the exit diagnosis does not say ${missing.join(', ')}` : undefined,
  }
}

/**
 * The closing summary netsan's reporter printed (`     netsan  …` under Vitest's totals, `netsan:      …`
 * above Jest's), with the lines indented under it; undefined when there is none.
 * @returns {string | undefined}
 */
export function extractClosingSummary(output) {
  const lines = stripAnsi(output).split('\n')
  const start = lines.findIndex((l) => /^( {5}netsan {2}|netsan: {6})\S/.test(l))
  if (start === -1) return undefined
  let end = start + 1
  while (end < lines.length && /^ {13,}\S/.test(lines[end])) end++
  return lines.slice(start, end).join('\n')
}

/** A plain-text table: columns padded to their widest cell. */
export function formatTable(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells) =>
    cells
      .map((c, i) => String(c).padEnd(widths[i]))
      .join('  ')
      .trimEnd()
  return [line(headers), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)].join('\n')
}
