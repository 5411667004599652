import fs from 'node:fs'
import path from 'node:path'
import { ReportFileError } from '../report-file.ts'

const MAGIC = /[*?[{]/

/** One path segment of a glob as a RegExp: `*`, `?`, `[abc]`, `{a,b}`. */
export function segmentRegExp(segment: string): RegExp {
  let out = ''
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!
    if (c === '*') out += '[^/]*'
    else if (c === '?') out += '[^/]'
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1)
      if (end === -1) out += '\\['
      else {
        const body = segment
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replaceAll('\\', '\\\\')
        out += `[${body}]`
        i = end
      }
    } else if (c === '{') {
      const end = segment.indexOf('}', i + 1)
      if (end === -1) out += '\\{'
      else {
        const alts = segment
          .slice(i + 1, end)
          .split(',')
          .map((a) => segmentRegExp(a).source.slice(1, -1))
        out += `(?:${alts.join('|')})`
        i = end
      }
    } else out += c.replace(/[.+^${}()|\\\]]/g, '\\$&')
  }
  return new RegExp(`^${out}$`)
}

function listDir(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true })
  } catch {
    return []
  }
}

function walk(dir: string, segments: string[], out: string[]): void {
  const [head, ...rest] = segments
  if (head === undefined) return
  if (head === '**') {
    walk(dir, rest, out) // zero directories
    for (const e of listDir(dir)) {
      if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.'))
        walk(path.join(dir, e.name), segments, out)
    }
    return
  }
  if (!MAGIC.test(head)) {
    const next = path.join(dir, head)
    if (rest.length === 0) {
      if (fs.existsSync(next) && fs.statSync(next).isFile()) out.push(next)
    } else walk(next, rest, out)
    return
  }
  const re = segmentRegExp(head)
  for (const e of listDir(dir)) {
    if (!re.test(e.name) || (e.name.startsWith('.') && !head.startsWith('.'))) continue
    const next = path.join(dir, e.name)
    if (rest.length === 0) {
      if (e.isFile()) out.push(next)
    } else if (e.isDirectory()) walk(next, rest, out)
  }
}

/**
 * Expands the CLI's file arguments (Node 20 has no fs.globSync): a plain path is kept as is (a missing one
 * is reported by the reader), a directory stands for the `*.json` files in it, and a pattern with
 * `*`, `**`, `?`, `[…]` or `{a,b}` must match at least one file. Quote patterns so the CLI sees them
 * (`'reports/**\/*.json'`), or let the shell expand them: both work.
 */
export function expandFiles(args: string[], cwd = process.cwd()): string[] {
  const out: string[] = []
  for (const arg of args) {
    const pattern = arg.replaceAll('\\', '/')
    if (!MAGIC.test(pattern)) {
      const abs = path.resolve(cwd, arg)
      if (fs.existsSync(abs) && fs.statSync(abs).isDirectory()) {
        const found = listDir(abs)
          .filter((e) => e.isFile() && e.name.endsWith('.json'))
          .map((e) => path.join(arg, e.name))
        if (found.length === 0) throw new ReportFileError(`netsan: directory ${arg} has no .json files`)
        out.push(...found.sort())
      } else out.push(arg)
      continue
    }
    const segments = pattern.split('/')
    const firstMagic = segments.findIndex((s) => MAGIC.test(s))
    const prefix = segments.slice(0, firstMagic).join('/')
    const base = prefix === '' && pattern.startsWith('/') ? '/' : prefix
    const found: string[] = []
    walk(path.resolve(cwd, base || '.'), segments.slice(firstMagic), found)
    if (found.length === 0) throw new ReportFileError(`netsan: ${arg} matched no files`)
    out.push(...found.map((f) => (path.isAbsolute(arg) ? f : path.relative(cwd, f) || f)).sort())
  }
  const seen = new Set<string>()
  return out.filter((f) => {
    const key = path.resolve(cwd, f)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
